/* MXFP4 weight rows times activations, with the weights decoded in registers.
 *
 * Activations are quantized per 32-value block to int16 with one float scale (a bf16 value
 * loses nothing: int16 holds 15 bits against bf16's 8), and stored permuted so that the
 * codes of a packed block line up with them after one table lookup per nibble and no
 * shuffle: the looked-up int8 weights, read as int16 lanes, give the even bytes' weights
 * (shifted left 8) and the odd bytes' weights (masked), each times 256, exactly.
 *   A byte's low nibble is element 2*byte, its high nibble element 2*byte+1.
 *   Blocks are taken GROUP at a time (the 128-bit lanes of one register: 4 on AVX-512,
 *   2 on AVX2, 1 elsewhere); vector j (0..3) of a group holds, per lane l (block l of the
 *   group), 8 int16 values p = 0..7: element 4p + JOFF[j] of that block, JOFF = {0, 2, 1, 3}
 *   (low nibbles of even bytes, of odd bytes, high nibbles of even bytes, of odd bytes).
 * A row's dot product is then, per block, an exact integer sum (weights as 2*e2m1 are
 * integers in [-12, 12]) times weight scale times activation scale, summed in float32.
 *
 * Shapes: G blocks per row (columns/32); q [G*32] int16; qs [G*4] float (each block's
 * scale repeated 4 times, so a group's scales load as one vector). */
#ifndef HEARTH_MXFP4_DOT_H
#define HEARTH_MXFP4_DOT_H

#include <math.h>

#include "simd.h"

#if defined(HEARTH_AVX512)
#define GROUP 4
#elif defined(HEARTH_AVX2)
#define GROUP 2
#else
#define GROUP 1
#endif
/* The integer weights the SIMD paths multiply: 2*value (the table) in the high byte of an int16. */
#if defined(HEARTH_AVX512) || defined(HEARTH_AVX2) || defined(HEARTH_NEON)
#define WEIGHT_UNIT 512.0f
#else
#define WEIGHT_UNIT 2.0f
#endif
#define TOKENS_MAX 4  /* tokens multiplied per pass over a row's weights */
/* Software prefetch of the packed weights, this many bytes ahead, into L2 (T1): the expert
 * rows are read once, and L2 tracks more misses in flight than L1. On the whole 20b (AVX-512
 * EPYC, 2 threads, experts from memory) the MoE op read 15-20 GB/s with 2048 bytes into L1,
 * 20-26 GB/s with 4096-6144 bytes into L2. */
#define PREFETCH 6144
#define PREFETCH_HINT _MM_HINT_T1

static const int8_t FP4_X2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
/* E8M0: scale byte s -> 2^(s-127), exactly (s = 0 is a subnormal, s = 255 is +inf, as in the reference). */
extern float hearth_e8m0[256];
void hearth_e8m0_init(void);

/* First block of the group holding block b, and the group's size. */
ALWAYS_INLINE void group_of(int b, int G, int *start, int *size) {
    int n4 = GROUP >= 4 ? G / 4 * 4 : 0;
    int n2 = GROUP >= 2 ? n4 + (G - n4) / 2 * 2 : 0;
    if (b < n4) { *start = b & ~3; *size = 4; }
    else if (b < n2) { *start = n4 + ((b - n4) & ~1); *size = 2; }
    else { *start = b; *size = 1; }
}

/* Quantizes 32 values (natural order) as block b of a G-block activation row. */
static inline void quantize_block(const float *v, int b, int G, int16_t *q, float *qs) {
    float m = 0.0f;
    for (int e = 0; e < 32; e++) m = fmaxf(m, fabsf(v[e]));
    int start, size;
    group_of(b, G, &start, &size);
    int16_t *base = q + start * 32;
    int lane = b - start;
    float inv = m > 0.0f ? 32767.0f / m : 0.0f;
    static const int J_OF[4] = {0, 2, 1, 3};  /* element % 4 -> vector j */
    for (int e = 0; e < 32; e++) {
        int j = J_OF[e & 3], p = e >> 2;
        float r = nearbyintf(v[e] * inv);
        r = fminf(fmaxf(r, -32767.0f), 32767.0f);
        base[j * 8 * size + lane * 8 + p] = (int16_t)r;
    }
    float scale = m / 32767.0f / WEIGHT_UNIT;
    for (int i = 0; i < 4; i++) qs[b * 4 + i] = scale;
}

/* One block in the one-lane layout: integer dot of 2*values and q, in portable C. */
ALWAYS_INLINE int32_t dot_block_c(const uint8_t *blk, const int16_t *q) {
    int32_t s = 0;
    for (int p = 0; p < 8; p++) {
        uint8_t even = blk[2 * p], odd = blk[2 * p + 1];
        s += FP4_X2[even & 15] * q[p] + FP4_X2[odd & 15] * q[8 + p] + FP4_X2[even >> 4] * q[16 + p] +
             FP4_X2[odd >> 4] * q[24 + p];
    }
    return s;
}

#if defined(HEARTH_AVX512) || defined(HEARTH_AVX2)
/* Two blocks (one pair group) on 256-bit registers; acc[t] += their contribution for token t. */
ALWAYS_INLINE void dot_pair_avx2(const uint8_t *blk, const uint8_t *sc, const int16_t *const *q,
                                 const float *const *qs, int b, const int nt, __m256 *acc) {
    const __m256i m0f = _mm256_set1_epi8(0x0f);
    const __m256i lut = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)FP4_X2));
    const __m256i high = _mm256_set1_epi16((short)0xff00);
    __m256i x = _mm256_loadu_si256((const __m256i *)(blk + b * 16));
    /* The hardware prefetcher alone leaves a single stream at ~half the memory's speed here. */
    _mm_prefetch((const char *)(blk + b * 16 + PREFETCH), PREFETCH_HINT);
    __m256i wl = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, m0f));
    __m256i wh = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), m0f));
    __m256i w0 = _mm256_slli_epi16(wl, 8), w1 = _mm256_and_si256(wl, high);
    __m256i w2 = _mm256_slli_epi16(wh, 8), w3 = _mm256_and_si256(wh, high);
    __m256 ws = _mm256_set_m128(_mm_broadcast_ss(&hearth_e8m0[sc[b + 1]]), _mm_broadcast_ss(&hearth_e8m0[sc[b]]));
    for (int t = 0; t < nt; t++) {
        const __m256i *a = (const __m256i *)(q[t] + b * 32);
        __m256i p = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_madd_epi16(w0, _mm256_loadu_si256(a)), _mm256_madd_epi16(w1, _mm256_loadu_si256(a + 1))),
            _mm256_add_epi32(_mm256_madd_epi16(w2, _mm256_loadu_si256(a + 2)), _mm256_madd_epi16(w3, _mm256_loadu_si256(a + 3))));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(ws, _mm256_loadu_ps(qs[t] + b * 4)), acc[t]);
    }
}
#endif

#if defined(HEARTH_AVX512)
/* R (1 or 2) consecutive rows at once (row 1's blocks and scales follow row 0's): with two,
 * each activation vector loaded feeds both rows, which halves the loads per weight byte in a
 * decode step, where the load ports, not the arithmetic, set the pace. res[r * TOKENS_MAX + t].
 * Groups of 4 blocks on 512-bit registers, then pairs on 256-bit ones, then single blocks. */
ALWAYS_INLINE void rows_dot_avx512(const uint8_t *blk, const uint8_t *sc, int G, const int16_t *const *q,
                                   const float *const *qs, const int nt, const int R, float *res) {
    const __m512i m0f = _mm512_set1_epi8(0x0f);
    const __m512i lut = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)FP4_X2));
    const __m512i high = _mm512_set1_epi16((short)0xff00);
    /* Scale byte l of the group to every int32 of lane l. */
    const __m512i pick = _mm512_set_epi32(
        (int)0x80808003, (int)0x80808003, (int)0x80808003, (int)0x80808003,
        (int)0x80808002, (int)0x80808002, (int)0x80808002, (int)0x80808002,
        (int)0x80808001, (int)0x80808001, (int)0x80808001, (int)0x80808001,
        (int)0x80808000, (int)0x80808000, (int)0x80808000, (int)0x80808000);
    const __m512i subnormal = _mm512_set1_epi32(0x00400000);  /* 2^-127, for scale 0 */
    const uint8_t *rb[2] = {blk, blk + (long)G * 16};
    const uint8_t *rs[2] = {sc, sc + G};
    __m512 acc[2][TOKENS_MAX];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < nt; t++) acc[r][t] = _mm512_setzero_ps();
    int b = 0;
    for (; b + 4 <= G / 4 * 4; b += 4) {
        __m512i w[2][4];
        __m512 ws[2];
        for (int r = 0; r < R; r++) {
            __m512i x = _mm512_loadu_si512((const void *)(rb[r] + b * 16));
            _mm_prefetch((const char *)(rb[r] + b * 16 + PREFETCH), PREFETCH_HINT);
            __m512i wl = _mm512_shuffle_epi8(lut, _mm512_and_si512(x, m0f));
            __m512i wh = _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(x, 4), m0f));
            w[r][0] = _mm512_slli_epi16(wl, 8);
            w[r][1] = _mm512_and_si512(wl, high);
            w[r][2] = _mm512_slli_epi16(wh, 8);
            w[r][3] = _mm512_and_si512(wh, high);
            uint32_t s4;
            memcpy(&s4, rs[r] + b, 4);
            __m512i s = _mm512_shuffle_epi8(_mm512_set1_epi32((int)s4), pick);
            ws[r] = _mm512_castsi512_ps(_mm512_max_epu32(_mm512_slli_epi32(s, 23), subnormal));
        }
        for (int t = 0; t < nt; t++) {
            const int16_t *a = q[t] + b * 32;
            __m512i a0 = _mm512_loadu_si512((const void *)a), a1 = _mm512_loadu_si512((const void *)(a + 32));
            __m512i a2 = _mm512_loadu_si512((const void *)(a + 64)), a3 = _mm512_loadu_si512((const void *)(a + 96));
            __m512 as = _mm512_loadu_ps(qs[t] + b * 4);
            for (int r = 0; r < R; r++) {
#if defined(HEARTH_VNNI)
                __m512i p = _mm512_madd_epi16(w[r][0], a0);
                p = _mm512_dpwssd_epi32(p, w[r][1], a1);
                p = _mm512_dpwssd_epi32(p, w[r][2], a2);
                p = _mm512_dpwssd_epi32(p, w[r][3], a3);
#else
                __m512i p = _mm512_add_epi32(_mm512_add_epi32(_mm512_madd_epi16(w[r][0], a0), _mm512_madd_epi16(w[r][1], a1)),
                                             _mm512_add_epi32(_mm512_madd_epi16(w[r][2], a2), _mm512_madd_epi16(w[r][3], a3)));
#endif
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(ws[r], as), acc[r][t]);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        __m256 acc2[TOKENS_MAX];
        for (int t = 0; t < nt; t++)
            acc2[t] = _mm256_add_ps(_mm512_castps512_ps256(acc[r][t]),
                                    _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][t]), 1)));
        int c = b;
        for (; c + 2 <= G; c += 2) dot_pair_avx2(rb[r], rs[r], q, qs, c, nt, acc2);
        for (int t = 0; t < nt; t++) res[r * TOKENS_MAX + t] = hsum256(acc2[t]);
        for (; c < G; c++) {
            float ws1 = hearth_e8m0[rs[r][c]] * (WEIGHT_UNIT / 2.0f);
            for (int t = 0; t < nt; t++)
                res[r * TOKENS_MAX + t] += (float)dot_block_c(rb[r] + c * 16, q[t] + c * 32) * ws1 * qs[t][c * 4];
        }
    }
}
#endif

/* res[t] = row . activation t, for nt <= TOKENS_MAX tokens: the row's G blocks at `blk`
 * (G*16 bytes) with scales `sc` (G bytes). */
ALWAYS_INLINE void row_dot_n(const uint8_t *blk, const uint8_t *sc, int G, const int16_t *const *q,
                             const float *const *qs, const int nt, float *res) {
#if defined(HEARTH_AVX512)
    rows_dot_avx512(blk, sc, G, q, qs, nt, 1, res);
    return;
#endif
    int b = 0;
#if defined(HEARTH_AVX2)
    {
        __m256 acc[TOKENS_MAX];
        for (int t = 0; t < nt; t++) acc[t] = _mm256_setzero_ps();
        for (; b + 2 <= G; b += 2) dot_pair_avx2(blk, sc, q, qs, b, nt, acc);
        for (int t = 0; t < nt; t++) res[t] = hsum256(acc[t]);
    }
#elif defined(HEARTH_NEON)
    {
        const uint8x16_t m0f = vdupq_n_u8(0x0f);
        const int8x16_t lut = vld1q_s8(FP4_X2);
        const int16x8_t high = vdupq_n_s16((int16_t)0xff00);
        float32x4_t acc[TOKENS_MAX];
        for (int t = 0; t < nt; t++) acc[t] = vdupq_n_f32(0.0f);
        for (; b < G; b++) {
            uint8x16_t x = vld1q_u8(blk + b * 16);
            __builtin_prefetch(blk + b * 16 + PREFETCH);
            int8x16_t wl = vqtbl1q_s8(lut, vandq_u8(x, m0f));
            int8x16_t wh = vqtbl1q_s8(lut, vshrq_n_u8(x, 4));
            int16x8_t w0 = vshlq_n_s16(vreinterpretq_s16_s8(wl), 8), w1 = vandq_s16(vreinterpretq_s16_s8(wl), high);
            int16x8_t w2 = vshlq_n_s16(vreinterpretq_s16_s8(wh), 8), w3 = vandq_s16(vreinterpretq_s16_s8(wh), high);
            float ws = hearth_e8m0[sc[b]];
            for (int t = 0; t < nt; t++) {
                const int16_t *a = q[t] + b * 32;
                int16x8_t a0 = vld1q_s16(a), a1 = vld1q_s16(a + 8), a2 = vld1q_s16(a + 16), a3 = vld1q_s16(a + 24);
                int32x4_t p = vmull_s16(vget_low_s16(w0), vget_low_s16(a0));
                p = vmlal_high_s16(p, w0, a0);
                p = vmlal_s16(p, vget_low_s16(w1), vget_low_s16(a1));
                p = vmlal_high_s16(p, w1, a1);
                p = vmlal_s16(p, vget_low_s16(w2), vget_low_s16(a2));
                p = vmlal_high_s16(p, w2, a2);
                p = vmlal_s16(p, vget_low_s16(w3), vget_low_s16(a3));
                p = vmlal_high_s16(p, w3, a3);
                acc[t] = vmlaq_n_f32(acc[t], vcvtq_f32_s32(p), ws * qs[t][b * 4]);
            }
        }
        for (int t = 0; t < nt; t++) res[t] = vaddvq_f32(acc[t]);
    }
#else
    for (int t = 0; t < nt; t++) res[t] = 0.0f;
#endif
    /* What is left: single blocks in the one-lane layout (all of them on the portable path). */
    for (; b < G; b++) {
        float ws = hearth_e8m0[sc[b]] * (WEIGHT_UNIT / 2.0f);
        for (int t = 0; t < nt; t++) res[t] += (float)dot_block_c(blk + b * 16, q[t] + b * 32) * ws * qs[t][b * 4];
    }
}


/* row_dot_n for a run-time token count, each count compiled on its own. */
static inline void row_dot(const uint8_t *blk, const uint8_t *sc, int G, const int16_t *const *q,
                           const float *const *qs, int nt, float *res) {
    switch (nt) {
    case 1: row_dot_n(blk, sc, G, q, qs, 1, res); break;
    case 2: row_dot_n(blk, sc, G, q, qs, 2, res); break;
    case 3: row_dot_n(blk, sc, G, q, qs, 3, res); break;
    default: row_dot_n(blk, sc, G, q, qs, 4, res); break;
    }
}

/* Two consecutive rows (row 1's blocks and scales right after row 0's):
 * res[r * TOKENS_MAX + t] = row r . activation t. */
static inline void rows2_dot(const uint8_t *blk, const uint8_t *sc, int G, const int16_t *const *q,
                             const float *const *qs, int nt, float *res) {
#if defined(HEARTH_AVX512)
    switch (nt) {
    case 1: rows_dot_avx512(blk, sc, G, q, qs, 1, 2, res); break;
    case 2: rows_dot_avx512(blk, sc, G, q, qs, 2, 2, res); break;
    case 3: rows_dot_avx512(blk, sc, G, q, qs, 3, 2, res); break;
    default: rows_dot_avx512(blk, sc, G, q, qs, 4, 2, res); break;
    }
#else
    row_dot(blk, sc, G, q, qs, nt, res);
    row_dot(blk + (long)G * 16, sc + G, G, q, qs, nt, res + TOKENS_MAX);
#endif
}

#endif
