package dev.edgegen.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

final class NelfStudentCommands {
    @Command(name = "distill") static final class Distill implements Callable<Integer> { public Integer call() { return 1; } }
    @Command(name = "eval") static final class Eval implements Callable<Integer> { public Integer call() { return 1; } }
    @Command(name = "render") static final class Render implements Callable<Integer> { public Integer call() { return 1; } }
    @Command(name = "bench") static final class Bench implements Callable<Integer> { public Integer call() { return 1; } }
}
