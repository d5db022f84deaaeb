/* MXFP4 weight rows times activations (activations.h), with the weights decoded in registers.
 *
 * A row's dot product is, per block, an exact integer sum (weights as 2*e2m1 are integers in
 * [-12, 12]) times weight scale times activation scale, summed in float32.
 *
 * Shapes: G blocks per row (columns/32); a row's blocks G*16 bytes, its scales G bytes. */
#ifndef HEARTH_MXFP4_DOT_H
#define HEARTH_MXFP4_DOT_H

#include <math.h>

#include "activations.h"
#include "simd.h"

#define TOKENS_MAX 4  /* tokens multiplied per pass over a row's weights */
/* Software prefetch of the packed weights, this many bytes ahead, into L2 (T1): the expert
 * rows are read once, and L2 tracks more misses in flight than L1. On the whole 20b (AVX-512
 * EPYC, 2 threads, experts from memory) the MoE op read 15-20 GB/s with 2048 bytes into L1,
 * 20-26 GB/s with 4096-6144 bytes into L2. */
#define PREFETCH 6144
#define PREFETCH_HINT _MM_HINT_T1

static const int8_t FP4_X2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
#if defined(HEARTH_VNNI)
static const uint8_t FP4_X2_PLUS12[16] = {12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0};
#endif
/* E8M0: scale byte s -> 2^(s-127), exactly (s = 0 is a subnormal, s = 255 is +inf, as in the reference). */
extern float hearth_e8m0[256];
void hearth_e8m0_init(void);

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
ALWAYS_INLINE void dot_pair_avx2(const uint8_t *blk, const uint8_t *sc, const act_t *act, int b,
                                 const int nt, __m256 *acc) {
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
        const __m256i *a = (const __m256i *)(act[t].q + b * 32);
        __m256i p = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_madd_epi16(w0, _mm256_loadu_si256(a)), _mm256_madd_epi16(w1, _mm256_loadu_si256(a + 1))),
            _mm256_add_epi32(_mm256_madd_epi16(w2, _mm256_loadu_si256(a + 2)), _mm256_madd_epi16(w3, _mm256_loadu_si256(a + 3))));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(ws, _mm256_loadu_ps(act[t].qs + b * 4)), acc[t]);
    }
}
#endif

#if defined(HEARTH_AVX512)
/* R (1 or 2) consecutive rows at once (row 1's blocks and scales follow row 0's): with two,
 * each activation vector loaded feeds both rows, which halves the loads per weight byte in a
 * decode step. res[r * TOKENS_MAX + t]. Groups of 4 blocks on 512-bit registers (int8
 * activations with VNNI, else int16), then pairs on 256-bit ones, then single blocks (int16). */
ALWAYS_INLINE void rows_dot_avx512(const uint8_t *blk, const uint8_t *sc, int G, const act_t *act,
                                   const int nt, const int R, float *res) {
    const __m512i m0f = _mm512_set1_epi8(0x0f);
#if defined(HEARTH_VNNI)
    const __m512i lut12 = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)FP4_X2_PLUS12));
#else
    const __m512i lut = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)FP4_X2));
    const __m512i high = _mm512_set1_epi16((short)0xff00);
#endif
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
        __m512 ws[2];
        for (int r = 0; r < R; r++) {
            uint32_t s4;
            memcpy(&s4, rs[r] + b, 4);
            __m512i s = _mm512_shuffle_epi8(_mm512_set1_epi32((int)s4), pick);
            ws[r] = _mm512_castsi512_ps(_mm512_max_epu32(_mm512_slli_epi32(s, 23), subnormal));
        }
#if defined(HEARTH_VNNI)
        /* int8 activations: the weights as unsigned 2*e2m1 + 12, the +12 taken back by c8. */
        __m512i wl[2], wh[2];
        for (int r = 0; r < R; r++) {
            __m512i x = _mm512_loadu_si512((const void *)(rb[r] + b * 16));
            _mm_prefetch((const char *)(rb[r] + b * 16 + PREFETCH), PREFETCH_HINT);
            wl[r] = _mm512_shuffle_epi8(lut12, _mm512_and_si512(x, m0f));
            wh[r] = _mm512_shuffle_epi8(lut12, _mm512_and_si512(_mm512_srli_epi16(x, 4), m0f));
        }
        for (int t = 0; t < nt; t++) {
            const int g = b / 4;
            __m512i lo = _mm512_loadu_si512((const void *)(act[t].q8 + g * 128));
            __m512i hi = _mm512_loadu_si512((const void *)(act[t].q8 + g * 128 + 64));
            __m512i c = _mm512_loadu_si512((const void *)(act[t].c8 + g * 16));
            __m512 as = _mm512_loadu_ps(act[t].s8 + g * 16);
            for (int r = 0; r < R; r++) {
                __m512i p = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(c, wl[r], lo), wh[r], hi);
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(ws[r], as), acc[r][t]);
            }
        }
#else
        __m512i w[2][4];
        for (int r = 0; r < R; r++) {
            __m512i x = _mm512_loadu_si512((const void *)(rb[r] + b * 16));
            _mm_prefetch((const char *)(rb[r] + b * 16 + PREFETCH), PREFETCH_HINT);
            __m512i wl = _mm512_shuffle_epi8(lut, _mm512_and_si512(x, m0f));
            __m512i wh = _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(x, 4), m0f));
            w[r][0] = _mm512_slli_epi16(wl, 8);
            w[r][1] = _mm512_and_si512(wl, high);
            w[r][2] = _mm512_slli_epi16(wh, 8);
            w[r][3] = _mm512_and_si512(wh, high);
        }
        for (int t = 0; t < nt; t++) {
            const int16_t *a = act[t].q + b * 32;
            __m512i a0 = _mm512_loadu_si512((const void *)a), a1 = _mm512_loadu_si512((const void *)(a + 32));
            __m512i a2 = _mm512_loadu_si512((const void *)(a + 64)), a3 = _mm512_loadu_si512((const void *)(a + 96));
            __m512 as = _mm512_loadu_ps(act[t].qs + b * 4);
            for (int r = 0; r < R; r++) {
                __m512i p = _mm512_add_epi32(_mm512_add_epi32(_mm512_madd_epi16(w[r][0], a0), _mm512_madd_epi16(w[r][1], a1)),
                                             _mm512_add_epi32(_mm512_madd_epi16(w[r][2], a2), _mm512_madd_epi16(w[r][3], a3)));
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(ws[r], as), acc[r][t]);
            }
        }
#endif
    }
    for (int r = 0; r < R; r++) {
        __m256 acc2[TOKENS_MAX];
        for (int t = 0; t < nt; t++)
            acc2[t] = _mm256_add_ps(_mm512_castps512_ps256(acc[r][t]),
                                    _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][t]), 1)));
        int c = b;
        for (; c + 2 <= G; c += 2) dot_pair_avx2(rb[r], rs[r], act, c, nt, acc2);
        for (int t = 0; t < nt; t++) res[r * TOKENS_MAX + t] = hsum256(acc2[t]);
        for (; c < G; c++) {
            float ws1 = hearth_e8m0[rs[r][c]] * (WEIGHT_UNIT / 2.0f);
            for (int t = 0; t < nt; t++)
                res[r * TOKENS_MAX + t] += (float)dot_block_c(rb[r] + c * 16, act[t].q + c * 32) * ws1 * act[t].qs[c * 4];
        }
    }
}
#endif

/* res[t] = row . activation t, for nt <= TOKENS_MAX tokens: the row's G blocks at `blk`
 * (G*16 bytes) with scales `sc` (G bytes). */
ALWAYS_INLINE void row_dot_n(const uint8_t *blk, const uint8_t *sc, int G, const act_t *act,
                             const int nt, float *res) {
#if defined(HEARTH_AVX512)
    rows_dot_avx512(blk, sc, G, act, nt, 1, res);
#else
    int b = 0;
#if defined(HEARTH_AVX2)
    {
        __m256 acc[TOKENS_MAX];
        for (int t = 0; t < nt; t++) acc[t] = _mm256_setzero_ps();
        for (; b + 2 <= G; b += 2) dot_pair_avx2(blk, sc, act, b, nt, acc);
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
                const int16_t *a = act[t].q + b * 32;
                int16x8_t a0 = vld1q_s16(a), a1 = vld1q_s16(a + 8), a2 = vld1q_s16(a + 16), a3 = vld1q_s16(a + 24);
                int32x4_t p = vmull_s16(vget_low_s16(w0), vget_low_s16(a0));
                p = vmlal_high_s16(p, w0, a0);
                p = vmlal_s16(p, vget_low_s16(w1), vget_low_s16(a1));
                p = vmlal_high_s16(p, w1, a1);
                p = vmlal_s16(p, vget_low_s16(w2), vget_low_s16(a2));
                p = vmlal_high_s16(p, w2, a2);
                p = vmlal_s16(p, vget_low_s16(w3), vget_low_s16(a3));
                p = vmlal_high_s16(p, w3, a3);
                acc[t] = vmlaq_n_f32(acc[t], vcvtq_f32_s32(p), ws * act[t].qs[b * 4]);
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
        for (int t = 0; t < nt; t++) res[t] += (float)dot_block_c(blk + b * 16, act[t].q + b * 32) * ws * act[t].qs[b * 4];
    }
#endif
}


/* row_dot_n for a run-time token count, each count compiled on its own. */
static inline void row_dot(const uint8_t *blk, const uint8_t *sc, int G, const act_t *act,
                           int nt, float *res) {
    switch (nt) {
    case 1: row_dot_n(blk, sc, G, act, 1, res); break;
    case 2: row_dot_n(blk, sc, G, act, 2, res); break;
    case 3: row_dot_n(blk, sc, G, act, 3, res); break;
    default: row_dot_n(blk, sc, G, act, 4, res); break;
    }
}

/* Two consecutive rows (row 1's blocks and scales right after row 0's):
 * res[r * TOKENS_MAX + t] = row r . activation t. */
static inline void rows2_dot(const uint8_t *blk, const uint8_t *sc, int G, const act_t *act,
                             int nt, float *res) {
#if defined(HEARTH_AVX512)
    switch (nt) {
    case 1: rows_dot_avx512(blk, sc, G, act, 1, 2, res); break;
    case 2: rows_dot_avx512(blk, sc, G, act, 2, 2, res); break;
    case 3: rows_dot_avx512(blk, sc, G, act, 3, 2, res); break;
    default: rows_dot_avx512(blk, sc, G, act, 4, 2, res); break;
    }
#else
    row_dot(blk, sc, G, act, nt, res);
    row_dot(blk + (long)G * 16, sc + G, G, act, nt, res + TOKENS_MAX);
#endif
}

#endif
