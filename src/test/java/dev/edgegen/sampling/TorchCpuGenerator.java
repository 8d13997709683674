package dev.edgegen.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * torch.manual_seed(seed) + torch.randn on CPU for float32 tensors of >= 16 elements, so tests can
 * feed diffusers' ancestral/LCM goldens the same noise: MT19937 (32-bit, standard seeding), uniforms
 * {@code (u & 0xFFFFFF) * 2^-24}, and Box-Muller over blocks of 16 (pairs j, j+8), the tail block
 * redrawn, as ATen's {@code normal_fill}. Test-only: the product's noise is {@code tensor.Randn}.
 */
final class TorchCpuGenerator {
    private final int[] mt = new int[624];
    private int next = 624;

    TorchCpuGenerator(long seed) {
        mt[0] = (int) seed;
        for (int i = 1; i < 624; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
    }

    int nextInt() {
        if (next >= 624) {
            for (int i = 0; i < 624; i++) {
                int y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
                mt[i] = mt[(i + 397) % 624] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            next = 0;
        }
        int y = mt[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    private float uniform() {
        return (nextInt() & 0xFFFFFF) * 0x1p-24f;
    }

    float[] randn(int size) {
        if (size < 16) {
            throw new IllegalArgumentException("only the >= 16-element path of torch.randn is reproduced");
        }
        float[] data = new float[size];
        for (int i = 0; i < size; i++) {
            data[i] = uniform();
        }
        for (int i = 0; i + 16 <= size; i += 16) {
            boxMuller16(data, i);
        }
        if (size % 16 != 0) {
            int start = size - 16;
            for (int i = 0; i < 16; i++) {
                data[start + i] = uniform();
            }
            boxMuller16(data, start);
        }
        return data;
    }

    NDArray randn(NDManager manager, Shape shape) {
        return manager.create(randn(Math.toIntExact(shape.size())), shape);
    }

    private static void boxMuller16(float[] d, int o) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1f - d[o + j];
            float u2 = d[o + j + 8];
            float radius = (float) Math.sqrt(-2f * (float) Math.log(u1));
            float theta = (float) (2.0 * Math.PI * u2);
            d[o + j] = radius * (float) Math.cos(theta);
            d[o + j + 8] = radius * (float) Math.sin(theta);
        }
    }
}
