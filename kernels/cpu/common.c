/* What every build of the library shares: its name, the processor check, threads, E8M0. */
#include <math.h>
#include <pthread.h>

#include "hearth_cpu.h"
#include "mxfp4_dot.h"
#include "pool.h"

float hearth_e8m0[256];
static pthread_once_t e8m0_once = PTHREAD_ONCE_INIT;

static void e8m0_fill(void) {
    for (int s = 0; s < 256; s++) hearth_e8m0[s] = s == 255 ? INFINITY : ldexpf(1.0f, s - 127);
}

void hearth_e8m0_init(void) { pthread_once(&e8m0_once, e8m0_fill); }

const char *hearth_isa(void) {
#if defined(HEARTH_AVX512) && defined(HEARTH_VNNI)
    return "avx512-vnni";
#elif defined(HEARTH_AVX512)
    return "avx512";
#elif defined(HEARTH_AVX2)
    return "avx2";
#elif defined(HEARTH_NEON)
    return "neon";
#else
    return "scalar";
#endif
}

int hearth_cpu_supported(void) {
#if defined(HEARTH_AVX512) || defined(HEARTH_AVX2)
    __builtin_cpu_init();
#endif
#if defined(HEARTH_AVX512) && defined(HEARTH_VNNI)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
#elif defined(HEARTH_AVX512)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#elif defined(HEARTH_AVX2)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 1;  /* NEON is part of every AArch64 processor */
#endif
}

void hearth_set_threads(int n) { pool_set_threads(n); }
int hearth_threads(void) { return pool_threads(); }
