/* y[T, N] = x[T, C] @ w[N, C]^T + bias, w in bfloat16: a decode step's attention projections
 * and lm_head (each weight row read once for all tokens, at the memory's speed), and a prefill
 * chunk's (weights reused from cache across 4 tokens at a time). The weights are widened to
 * float32 in registers (a bf16 is the high half of a float32). Items of ROWS output rows are
 * shared out among the threads; within an item, 4 tokens at a time sweep its rows.
 *
 * hearth_project does the same for up to three matrices on one input (q, k and v) in one
 * pass of the threads, with the block's RMS norm applied to x first and rotary embeddings
 * applied to the first outputs after: one call instead of six small ops per layer. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "hearth_cpu.h"
#include "pool.h"
#include "simd.h"

#define ROWS 64
#define TOKENS 4  /* tokens per pass over the weights */

#if defined(HEARTH_AVX512)
#define CHUNK 32
#elif defined(HEARTH_AVX2)
#define CHUNK 16
#else
#define CHUNK 8
#endif

#define MATRICES 3

typedef struct {
    int T, C;
    const float *xp;  /* [T, C] float32, each CHUNK permuted to the order the weights widen in */
    int M;            /* matrices, each with its own rows, bias and output */
    int N[MATRICES];
    const uint16_t *w[MATRICES];
    const void *bias[MATRICES];
    float *y[MATRICES];
    int first_item[MATRICES + 1];
    int bias_dtype;
    atomic_int next;
} linear_job;

/* On x86 the bf16 of a CHUNK are widened by unpacking with zeros within 128-bit lanes: the low
 * unpack yields elements 0-3 of each lane of 8, the high unpack elements 4-7. */
static int permuted(int i) {
#if defined(HEARTH_AVX512) || defined(HEARTH_AVX2)
    int half = i / (CHUNK / 2), k = i % (CHUNK / 2);
    return (k / 4) * 8 + half * 4 + k % 4;
#else
    return i;
#endif
}

ALWAYS_INLINE void rows_n(const linear_job *j, int m, int r0, int r1, int t0, const int nt) {
    const int C = j->C, body = C / CHUNK * CHUNK;
    for (int r = r0; r < r1; r++) {
        const uint16_t *w = j->w[m] + (long)r * C;
        float res[TOKENS];
#if defined(HEARTH_AVX512)
        __m512 acc[TOKENS][2];
        for (int t = 0; t < nt; t++) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
        for (int c = 0; c < body; c += CHUNK) {
            __m512i raw = _mm512_loadu_si512((const void *)(w + c));
            __m512 lo = _mm512_castsi512_ps(_mm512_unpacklo_epi16(_mm512_setzero_si512(), raw));
            __m512 hi = _mm512_castsi512_ps(_mm512_unpackhi_epi16(_mm512_setzero_si512(), raw));
            for (int t = 0; t < nt; t++) {
                const float *x = j->xp + (long)(t0 + t) * C + c;
                acc[t][0] = _mm512_fmadd_ps(lo, _mm512_loadu_ps(x), acc[t][0]);
                acc[t][1] = _mm512_fmadd_ps(hi, _mm512_loadu_ps(x + 16), acc[t][1]);
            }
        }
        for (int t = 0; t < nt; t++) res[t] = _mm512_reduce_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]));
#elif defined(HEARTH_AVX2)
        __m256 acc[TOKENS][2];
        for (int t = 0; t < nt; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
        for (int c = 0; c < body; c += CHUNK) {
            __m256i raw = _mm256_loadu_si256((const __m256i *)(w + c));
            __m256 lo = _mm256_castsi256_ps(_mm256_unpacklo_epi16(_mm256_setzero_si256(), raw));
            __m256 hi = _mm256_castsi256_ps(_mm256_unpackhi_epi16(_mm256_setzero_si256(), raw));
            for (int t = 0; t < nt; t++) {
                const float *x = j->xp + (long)(t0 + t) * C + c;
                acc[t][0] = _mm256_fmadd_ps(lo, _mm256_loadu_ps(x), acc[t][0]);
                acc[t][1] = _mm256_fmadd_ps(hi, _mm256_loadu_ps(x + 8), acc[t][1]);
            }
        }
        for (int t = 0; t < nt; t++) res[t] = hsum256(_mm256_add_ps(acc[t][0], acc[t][1]));
#elif defined(HEARTH_NEON)
        float32x4_t acc[TOKENS][2];
        for (int t = 0; t < nt; t++) acc[t][0] = acc[t][1] = vdupq_n_f32(0.0f);
        for (int c = 0; c < body; c += CHUNK) {
            uint16x8_t raw = vld1q_u16(w + c);
            float32x4_t lo = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(raw), 16));
            float32x4_t hi = vreinterpretq_f32_u32(vshll_high_n_u16(raw, 16));
            for (int t = 0; t < nt; t++) {
                const float *x = j->xp + (long)(t0 + t) * C + c;
                acc[t][0] = vfmaq_f32(acc[t][0], lo, vld1q_f32(x));
                acc[t][1] = vfmaq_f32(acc[t][1], hi, vld1q_f32(x + 4));
            }
        }
        for (int t = 0; t < nt; t++) res[t] = vaddvq_f32(vaddq_f32(acc[t][0], acc[t][1]));
#else
        for (int t = 0; t < nt; t++) {
            const float *x = j->xp + (long)(t0 + t) * C;
            float s[8] = {0};
            for (int c = 0; c < body; c += CHUNK)
                for (int k = 0; k < 8; k++) s[k] += bf16_to_f32(w[c + k]) * x[c + k];
            res[t] = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
        }
#endif
        for (int t = 0; t < nt; t++) {
            const float *x = j->xp + (long)(t0 + t) * C;
            for (int c = body; c < C; c++) res[t] += bf16_to_f32(w[c]) * x[c];
            float bias = j->bias[m] ? load_value(j->bias[m], j->bias_dtype, r) : 0.0f;
            j->y[m][(long)(t0 + t) * j->N[m] + r] = res[t] + bias;
        }
    }
}

#if defined(HEARTH_AVX2) && !defined(HEARTH_AVX512)
/* Two rows times four tokens (a prefill chunk): each weight load feeds four FMAs and each
 * activation load two, so the FMA units, not the loads, set the pace. */
static void rows2_tokens4(const linear_job *j, int m, int r, int t0) {
    const int C = j->C, body = C / CHUNK * CHUNK;
    const uint16_t *w0 = j->w[m] + (long)r * C, *w1 = w0 + C;
    __m256 acc[2][TOKENS];
    for (int t = 0; t < TOKENS; t++) acc[0][t] = acc[1][t] = _mm256_setzero_ps();
    for (int c = 0; c < body; c += CHUNK) {
        __m256i raw0 = _mm256_loadu_si256((const __m256i *)(w0 + c));
        __m256i raw1 = _mm256_loadu_si256((const __m256i *)(w1 + c));
        __m256 lo0 = _mm256_castsi256_ps(_mm256_unpacklo_epi16(_mm256_setzero_si256(), raw0));
        __m256 hi0 = _mm256_castsi256_ps(_mm256_unpackhi_epi16(_mm256_setzero_si256(), raw0));
        __m256 lo1 = _mm256_castsi256_ps(_mm256_unpacklo_epi16(_mm256_setzero_si256(), raw1));
        __m256 hi1 = _mm256_castsi256_ps(_mm256_unpackhi_epi16(_mm256_setzero_si256(), raw1));
        for (int t = 0; t < TOKENS; t++) {
            const float *x = j->xp + (long)(t0 + t) * C + c;
            __m256 xlo = _mm256_loadu_ps(x), xhi = _mm256_loadu_ps(x + 8);
            acc[0][t] = _mm256_fmadd_ps(hi0, xhi, _mm256_fmadd_ps(lo0, xlo, acc[0][t]));
            acc[1][t] = _mm256_fmadd_ps(hi1, xhi, _mm256_fmadd_ps(lo1, xlo, acc[1][t]));
        }
    }
    for (int k = 0; k < 2; k++)
        for (int t = 0; t < TOKENS; t++) {
            const float *x = j->xp + (long)(t0 + t) * C;
            float res = hsum256(acc[k][t]);
            for (int c = body; c < C; c++) res += bf16_to_f32(j->w[m][(long)(r + k) * C + c]) * x[c];
            float bias = j->bias[m] ? load_value(j->bias[m], j->bias_dtype, r + k) : 0.0f;
            j->y[m][(long)(t0 + t) * j->N[m] + r + k] = res + bias;
        }
}
#endif

static void linear_items(void *arg, int thread, int threads) {
    (void)thread; (void)threads;
    linear_job *j = arg;
    for (int item; (item = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->first_item[j->M];) {
        int m = 0;
        while (item >= j->first_item[m + 1]) m++;
        int r0 = (item - j->first_item[m]) * ROWS, r1 = r0 + ROWS < j->N[m] ? r0 + ROWS : j->N[m];
        for (int t0 = 0; t0 < j->T; t0 += TOKENS) {
            int r = r0;
#if defined(HEARTH_AVX2) && !defined(HEARTH_AVX512)
            if (j->T - t0 >= TOKENS)
                for (; r + 2 <= r1; r += 2) rows2_tokens4(j, m, r, t0);
#endif
            switch (j->T - t0) {
            case 1: rows_n(j, m, r, r1, t0, 1); break;
            case 2: rows_n(j, m, r, r1, t0, 2); break;
            case 3: rows_n(j, m, r, r1, t0, 3); break;
            default: rows_n(j, m, r, r1, t0, 4); break;
            }
        }
    }
}

/* Rotates each head of y [T, heads * hd]: its first half against its second half, by the
 * angles of cos/sin [T, hd/2] (the same arithmetic as core/engine/rope.py's apply_rope). */
static void rope(float *y, int T, int N, int hd, const float *cos, const float *sin) {
    int half = hd / 2;
    for (int t = 0; t < T; t++)
        for (int h = 0; h < N / hd; h++) {
            float *v = y + (long)t * N + h * hd;
            const float *c = cos + (long)t * half, *s = sin + (long)t * half;
            for (int i = 0; i < half; i++) {
                volatile float a = v[i] * c[i], b = v[i + half] * s[i];  /* no fused multiply-add: */
                volatile float d = v[i + half] * c[i], e = v[i] * s[i];  /* rounded as torch rounds */
                v[i] = a - b;
                v[i + half] = d + e;
            }
        }
}

int hearth_project(int T, int C, const void *x, int x_dtype, const void *norm, int norm_dtype, float eps,
                   int M, const int *N, const uint16_t *const *w, const void *const *bias, int bias_dtype,
                   float *const *y, const float *cos, const float *sin, int rope_outputs, int head_dim) {
    if (M < 1 || M > MATRICES || T < 1 || C < 1) return -2;
    float *xp = malloc(sizeof(float) * (size_t)T * C);
    float *row = malloc(sizeof(float) * (size_t)C);
    if (!xp || !row) { free(xp); free(row); return -1; }
    const int body = C / CHUNK * CHUNK;
    for (int t = 0; t < T; t++) {
        for (int c = 0; c < C; c++) row[c] = load_value(x, x_dtype, (long)t * C + c);
        if (norm) {  /* RMS norm as core/engine/transformer.py's rms_norm: x * rsqrt(mean(x^2) + eps) * w */
            double sum = 0.0;
            for (int c = 0; c < C; c++) sum += (double)row[c] * row[c];
            float inv = 1.0f / sqrtf((float)(sum / C) + eps);
            for (int c = 0; c < C; c++) row[c] = row[c] * inv * load_value(norm, norm_dtype, c);
        }
        for (int c = 0; c < body; c += CHUNK)
            for (int i = 0; i < CHUNK; i++) xp[(long)t * C + c + i] = row[c + permuted(i)];
        for (int c = body; c < C; c++) xp[(long)t * C + c] = row[c];
    }
    linear_job j = {.T = T, .C = C, .xp = xp, .M = M, .bias_dtype = bias_dtype};
    for (int m = 0; m < M; m++) {
        j.N[m] = N[m], j.w[m] = w[m], j.bias[m] = bias[m], j.y[m] = y[m];
        j.first_item[m + 1] = j.first_item[m] + (N[m] + ROWS - 1) / ROWS;
    }
    atomic_init(&j.next, 0);
    pool_run(linear_items, &j);
    free(xp);
    free(row);
    if (cos && sin)
        for (int m = 0; m < rope_outputs && m < M; m++) rope(y[m], T, N[m], head_dim, cos, sin);
    return 0;
}

void hearth_linear_bf16(int T, int C, int N, const void *x, int x_dtype, const uint16_t *w,
                        const void *bias, int bias_dtype, float *y) {
    hearth_project(T, C, x, x_dtype, NULL, 0, 0.0f, 1, &N, &w, &bias, bias_dtype, &y, NULL, NULL, 0, 0);
}
