package dev.edgegen.unet;

/** Cost of one block of a forward pass: its checkpoint path, FLOPs (2·MACs) and parameter count. */
public record BlockCost(String path, long flops, long params) {}
