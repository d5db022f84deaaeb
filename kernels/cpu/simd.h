/* Which instruction set this build targets, from the flags kernels/cpu_build.py passes:
 * HEARTH_AVX512 (AVX-512 F/BW, optionally HEARTH_VNNI), HEARTH_AVX2 (AVX2 + FMA),
 * HEARTH_NEON (AArch64), or none (portable C). */
#ifndef HEARTH_SIMD_H
#define HEARTH_SIMD_H

#if defined(HEARTH_AVX512) || defined(HEARTH_AVX2)
#include <immintrin.h>
#elif defined(HEARTH_NEON)
#include <arm_neon.h>
#endif

#include <stdint.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE float bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Element i of a float32 or bfloat16 array. */
ALWAYS_INLINE float load_value(const void *p, int dtype, long i) {
    return dtype ? bf16_to_f32(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

#if defined(HEARTH_AVX512) || defined(HEARTH_AVX2)
ALWAYS_INLINE float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif

#endif
