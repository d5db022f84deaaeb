/* A token's activations as the MXFP4 row kernels (mxfp4_dot.h) read them.
 *
 * int16, every path: quantized per 32-value block with one float scale (a bf16 value loses
 * nothing: int16 holds 15 bits against bf16's 8), and stored permuted so that the codes of a
 * packed block line up with them after one table lookup per nibble and no shuffle: the
 * looked-up int8 weights, read as int16 lanes, give the even bytes' weights (shifted left 8)
 * and the odd bytes' weights (masked), each times 256, exactly.
 *   A byte's low nibble is element 2*byte, its high nibble element 2*byte+1.
 *   Blocks are taken GROUP at a time (the 128-bit lanes of one register: 4 on AVX-512,
 *   2 on AVX2, 1 elsewhere); vector j (0..3) of a group holds, per lane l (block l of the
 *   group), 8 int16 values p = 0..7: element 4p + JOFF[j] of that block, JOFF = {0, 2, 1, 3}
 *   (low nibbles of even bytes, of odd bytes, high nibbles of even bytes, of odd bytes).
 *   Shapes: q [G*32] int16; qs [G*4] float (each block's scale repeated 4 times, so a group's
 *   scales load as one vector).
 *
 * int8, AVX-512 VNNI only, for every whole group of 4 blocks (blocks < G/4*4; the rest use
 * int16): one scale per 8 consecutive values, so that vpdpbusd multiplies 64 weights per
 * instruction where int16 takes 32. Per group g, 128 int8 values in two planes of 64 that
 * pair byte for byte with the group's 64 packed weight bytes: q8[g*128 + k] is the value of
 * byte k's low nibble (block k/16, element 2*(k%16)), q8[g*128 + 64 + k] its high nibble's.
 * The 4 bytes of lane m (0..15) of either plane are then block m/4's elements 8*(m%4) ..
 * 8*(m%4)+7: s8[g*16 + m] is their scale (times 1/2, for the weights' 2*e2m1) and
 * c8[g*16 + m] = -12 * their sum (the weights enter vpdpbusd as unsigned 2*e2m1 + 12).
 *   An 8-value scale keeps one outlier from flattening its neighbours: on the 2-layer 20b
 *   fidelity check (bench/fidelity_cpu.py) 32-value int8 scales moved the logits by 0.35 of
 *   their range, 8-value ones by 0.003 more than bfloat16 activations do.
 */
#ifndef HEARTH_ACTIVATIONS_H
#define HEARTH_ACTIVATIONS_H

#include <math.h>
#include <stdlib.h>

#include "simd.h"

#if defined(HEARTH_AVX512)
#define GROUP 4
#elif defined(HEARTH_AVX2)
#define GROUP 2
#else
#define GROUP 1
#endif
/* The integer weights the int16 SIMD paths multiply: 2*value (the table) in the high byte of an int16. */
#if defined(HEARTH_AVX512) || defined(HEARTH_AVX2) || defined(HEARTH_NEON)
#define WEIGHT_UNIT 512.0f
#else
#define WEIGHT_UNIT 2.0f
#endif

/* One token's activations, as the row kernels take them. */
typedef struct {
    const int16_t *q;
    const float *qs;
#if defined(HEARTH_VNNI)
    const int8_t *q8;
    const int32_t *c8;
    const float *s8;
#endif
} act_t;

/* The activations of n tokens (or (token, expert) pairs) of G blocks each. */
typedef struct {
    int G;
    int16_t *q;
    float *qs;
#if defined(HEARTH_VNNI)
    int8_t *q8;
    int32_t *c8;
    float *s8;
#endif
} act_rows;

static void *aligned_zeroed(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (p) memset(p, 0, (bytes + 63) / 64 * 64);
    return p;
}

/* Returns 0, or -1 when memory runs out (then act_rows_free is still safe). */
static inline int act_rows_alloc(act_rows *a, long n, int G) {
    memset(a, 0, sizeof *a);
    a->G = G;
    a->q = aligned_zeroed(sizeof(int16_t) * (size_t)n * G * 32);
    a->qs = aligned_zeroed(sizeof(float) * (size_t)n * G * 4);
    int ok = a->q && a->qs;
#if defined(HEARTH_VNNI)
    long groups = G / 4;
    a->q8 = aligned_zeroed((size_t)(n * groups * 128));
    a->c8 = aligned_zeroed(sizeof(int32_t) * (size_t)(n * groups * 16));
    a->s8 = aligned_zeroed(sizeof(float) * (size_t)(n * groups * 16));
    ok = ok && a->q8 && a->c8 && a->s8;
#endif
    return ok ? 0 : -1;
}

static inline void act_rows_free(act_rows *a) {
    free(a->q);
    free(a->qs);
#if defined(HEARTH_VNNI)
    free(a->q8);
    free(a->c8);
    free(a->s8);
#endif
}

static inline act_t act_row(const act_rows *a, long i) {
    act_t r = {a->q + i * a->G * 32, a->qs + i * a->G * 4
#if defined(HEARTH_VNNI)
               , a->q8 + i * (a->G / 4) * 128, a->c8 + i * (a->G / 4) * 16, a->s8 + i * (a->G / 4) * 16
#endif
    };
    return r;
}

/* First block of the group holding block b, and the group's size. */
ALWAYS_INLINE void group_of(int b, int G, int *start, int *size) {
    int n4 = GROUP >= 4 ? G / 4 * 4 : 0;
    int n2 = GROUP >= 2 ? n4 + (G - n4) / 2 * 2 : 0;
    if (b < n4) { *start = b & ~3; *size = 4; }
    else if (b < n2) { *start = n4 + ((b - n4) & ~1); *size = 2; }
    else { *start = b; *size = 1; }
}

/* int16: 32 values (natural order) as block b of a G-block activation row. */
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

#if defined(HEARTH_VNNI)
/* int8: the 128 values (natural order) of group g, in the two-plane layout above. */
static inline void quantize_group8(const float *v, int g, int8_t *q8, int32_t *c8, float *s8) {
    for (int m = 0; m < 16; m++) {
        const float *e = v + (m / 4) * 32 + (m % 4) * 8;
        float mx = 0.0f;
        for (int i = 0; i < 8; i++) mx = fmaxf(mx, fabsf(e[i]));
        float inv = mx > 0.0f ? 127.0f / mx : 0.0f;
        int sum = 0;
        for (int i = 0; i < 8; i++) {
            int r = (int)fminf(fmaxf(nearbyintf(e[i] * inv), -127.0f), 127.0f);
            sum += r;
            q8[g * 128 + (i & 1) * 64 + (m / 4) * 16 + (m % 4) * 4 + i / 2] = (int8_t)r;
        }
        c8[g * 16 + m] = -12 * sum;
        s8[g * 16 + m] = mx / 127.0f / 2.0f;
    }
}
#endif

/* Blocks b0 .. b0+nb-1 of row i, from their 32*nb values in natural order. A whole group of 4
 * must come in one call (b0 a multiple of 4, or past the last whole group). */
static inline void quantize_blocks(act_rows *a, long i, const float *v, int b0, int nb) {
    act_t r = act_row(a, i);
    for (int b = 0; b < nb; b++) quantize_block(v + b * 32, b0 + b, a->G, (int16_t *)r.q, (float *)r.qs);
#if defined(HEARTH_VNNI)
    for (int b = (b0 + 3) / 4 * 4; b + 4 <= b0 + nb && b + 4 <= a->G / 4 * 4; b += 4)
        quantize_group8(v + (b - b0) * 32, b / 4, (int8_t *)r.q8, (int32_t *)r.c8, (float *)r.s8);
#endif
}

#endif
