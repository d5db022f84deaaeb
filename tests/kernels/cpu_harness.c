/* Runs one op of the compiled CPU kernels on arrays read from files, for tests of a build that
 * cannot be loaded into this Python (the NEON build, run under qemu-aarch64).
 *
 *   cpu_harness moe DIR T D I E K     reads x.f32 chosen.i32 weights.f32 gub.u8 gus.u8 gubias.f32
 *                                     dnb.u8 dns.u8 dnbias.f32, writes out.f32
 *   cpu_harness linear DIR T C N      reads x.f32 w.bf16 bias.f32, writes out.f32
 *   cpu_harness attention DIR T S Hq Hkv hd window scale
 *                                     reads q.f32 k.bf16 v.bf16 sinks.f32 qpos.i64 kpos.i64, writes out.f32
 * Prints the instruction set it was built for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernels/cpu/hearth_cpu.h"

static void *load(const char *dir, const char *name, size_t bytes) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    void *data = malloc(bytes ? bytes : 1);
    if (!f || !data || fread(data, 1, bytes, f) != bytes) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    fclose(f);
    return data;
}

static void save(const char *dir, const float *data, size_t count) {
    char path[4096];
    snprintf(path, sizeof path, "%s/out.f32", dir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, sizeof(float), count, f) != count) { fprintf(stderr, "cannot write %s\n", path); exit(2); }
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    const char *op = argv[1], *dir = argv[2];
    hearth_set_threads(2);
    printf("%s\n", hearth_isa());
    if (!strcmp(op, "moe") && argc == 8) {
        long T = atol(argv[3]), D = atol(argv[4]), I = atol(argv[5]), E = atol(argv[6]), K = atol(argv[7]);
        float *out = malloc(sizeof(float) * T * D);
        int status = hearth_moe((int)T, (int)D, (int)I, (int)E, (int)K, load(dir, "x.f32", 4 * T * D), 0,
                                load(dir, "chosen.i32", 4 * T * K), load(dir, "weights.f32", 4 * T * K),
                                load(dir, "gub.u8", E * 2 * I * D / 2), load(dir, "gus.u8", E * 2 * I * D / 32),
                                load(dir, "gubias.f32", 4 * E * 2 * I), load(dir, "dnb.u8", E * D * I / 2),
                                load(dir, "dns.u8", E * D * I / 32), load(dir, "dnbias.f32", 4 * E * D), 0, 7.0f,
                                1.702f, out);
        if (status) return 3;
        save(dir, out, T * D);
    } else if (!strcmp(op, "linear") && argc == 6) {
        long T = atol(argv[3]), C = atol(argv[4]), N = atol(argv[5]);
        float *out = malloc(sizeof(float) * T * N);
        hearth_linear_bf16((int)T, (int)C, (int)N, load(dir, "x.f32", 4 * T * C), 0, load(dir, "w.bf16", 2 * N * C),
                           load(dir, "bias.f32", 4 * N), 0, out);
        save(dir, out, T * N);
    } else if (!strcmp(op, "attention") && argc == 10) {
        long T = atol(argv[3]), S = atol(argv[4]), Hq = atol(argv[5]), Hkv = atol(argv[6]), hd = atol(argv[7]);
        float *out = malloc(sizeof(float) * T * Hq * hd);
        int status = hearth_attention((int)T, (int)S, (int)Hq, (int)Hkv, (int)hd, load(dir, "q.f32", 4 * T * Hq * hd), 0,
                                      load(dir, "k.bf16", 2 * S * Hkv * hd), load(dir, "v.bf16", 2 * S * Hkv * hd), 1,
                                      load(dir, "sinks.f32", 4 * Hq), load(dir, "qpos.i64", 8 * T),
                                      load(dir, "kpos.i64", 8 * S), atoi(argv[8]), (float)atof(argv[9]), out);
        if (status) return 3;
        save(dir, out, T * Hq * hd);
    } else {
        fprintf(stderr, "usage: see the header of cpu_harness.c\n");
        return 2;
    }
    return 0;
}
