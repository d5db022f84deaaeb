/* Attention of a few queries (a decode step) against the KV cache read in place, in its own
 * dtype: no float32 copy of the cache per token. Sinks, GQA and the sliding window as in
 * kernels/attention.py's attention_torch, the reference.
 *
 * The keys are split into chunks of CHUNK_KEYS, one item per (query, chunk): an item reads its
 * keys' rows whole (every kv head of a position is one contiguous row of the cache), so the
 * threads stream the cache instead of each striding through all of it for one head. Each
 * item keeps, per query head, a running max, sum and output over its keys (softmax online,
 * one rescale per BLOCK keys); a last pass merges the chunks and adds the sink, one more logit
 * with no value. Shapes: T queries, S keys, Hq/Hkv heads, hd head dim, G = Hq/Hkv. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hearth_cpu.h"
#include "pool.h"
#include "simd.h"

#define BLOCK 32        /* keys scored before one rescale */
#define CHUNK_KEYS 256  /* keys per item */
#define HEADS_MAX 128
#define DIM_MAX 128

typedef struct {
    int T, S, Hq, Hkv, hd, chunks;
    const void *q; int q_dtype;
    const void *k, *v; int kv_dtype;
    const float *sinks;
    const int64_t *q_positions, *k_positions;
    int window;
    float sm_scale;
    float *out;
    float *part_m, *part_l, *part_o;  /* [T, chunks, Hq], [T, chunks, Hq], [T, chunks, Hq, hd] */
    int *failed;                      /* set by an item that could not allocate its working memory */
    atomic_int next;
} attention_job;

#define LANES 8  /* query heads scored together: one vector of scores per key, no reductions */
/* GCC's portable vectors: 8 floats, lowered to AVX, two NEON or SSE registers, or scalars. */
typedef float v8f __attribute__((vector_size(32)));
typedef uint16_t v8u16 __attribute__((vector_size(16)));
typedef uint32_t v8u32 __attribute__((vector_size(32)));

static inline v8f v8_load(const float *p) {
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void v8_store(float *p, v8f v) { memcpy(p, &v, sizeof v); }

static inline void load_row(const void *p, int dtype, long at, int n, float *restrict dst) {
    if (dtype) {
        const uint16_t *h = (const uint16_t *)p + at;
        int i = 0;
        for (; i + 8 <= n; i += 8) {  /* a bf16 is the high half of a float32 */
            v8u16 half;
            memcpy(&half, h + i, sizeof half);
            v8u32 bits = __builtin_convertvector(half, v8u32) << 16;
            memcpy(dst + i, &bits, sizeof bits);
        }
        for (; i < n; i++) dst[i] = bf16_to_f32(h[i]);
    } else {
        const float *f = (const float *)p + at;
        for (int i = 0; i < n; i++) dst[i] = f[i];
    }
}


static void attend_chunk(const attention_job *j, int t, int chunk) {
    const int Hq = j->Hq, hd = j->hd, G = Hq / j->Hkv, row = j->Hkv * hd;
    const int lane_blocks = (G + LANES - 1) / LANES;
    /* Working memory, sized to the shapes: queries, the running output, one cache row, the
     * queries transposed (qt[group * lane_blocks + block][d][lane]: LANES heads of a kv group
     * side by side) and a block of scores [Hq][BLOCK]. */
    float *work = malloc(sizeof(float) * ((size_t)2 * Hq * hd + 4 * (size_t)row + (size_t)j->Hkv * lane_blocks * hd * LANES +
                                          (size_t)Hq * BLOCK + 2 * (size_t)Hq));
    if (!work) { j->failed[0] = 1; return; }
    float *q = work, *o = q + Hq * hd, *kv = o + Hq * hd, *qt = kv + 4 * row;
    float (*scores)[BLOCK] = (float (*)[BLOCK])(qt + (size_t)j->Hkv * lane_blocks * hd * LANES);
    float *m = (float *)(scores + Hq), *l = m + Hq;
    int keep[BLOCK];
    load_row(j->q, j->q_dtype, (long)t * Hq * hd, Hq * hd, q);
    for (int i = 0; i < Hq * hd; i++) o[i] = 0.0f;
    for (int g = 0; g < j->Hkv; g++)
        for (int lb = 0; lb < lane_blocks; lb++)
            for (int d = 0; d < hd; d++)
                for (int x = 0; x < LANES; x++) {
                    int head = lb * LANES + x;
                    qt[((size_t)(g * lane_blocks + lb) * hd + d) * LANES + x] =
                        head < G ? q[(g * G + head) * hd + d] * j->sm_scale : 0.0f;
                }
    for (int h = 0; h < Hq; h++) { m[h] = -INFINITY; l[h] = 0.0f; }
    const int64_t qp = j->q_positions[t];
    const int s_end = (chunk + 1) * CHUNK_KEYS < j->S ? (chunk + 1) * CHUNK_KEYS : j->S;
    for (int s0 = chunk * CHUNK_KEYS; s0 < s_end; s0 += BLOCK) {
        int n = 0;
        for (int s = s0; s < s0 + BLOCK && s < s_end; s++) {
            int64_t kp = j->k_positions[s];
            if (kp >= 0 && kp <= qp && (j->window <= 0 || qp - kp < j->window)) keep[n++] = s;
        }
        if (n == 0) continue;
        for (int i = 0; i < n; i++) {
            load_row(j->k, j->kv_dtype, (long)keep[i] * row, row, kv);
            for (int g = 0; g < j->Hkv; g++)
                for (int lb = 0; lb < lane_blocks; lb++) {
                    /* Four partial sums: one would wait on each add's latency. */
                    v8f acc[4] = {{0}, {0}, {0}, {0}};
                    const float *restrict kg = kv + g * hd;
                    const int lb_at = g * lane_blocks + lb;
                    int d = 0;
                    for (; d + 4 <= hd; d += 4)
                        for (int u = 0; u < 4; u++) acc[u] += v8_load(qt + ((size_t)lb_at * hd + d + u) * LANES) * kg[d + u];
                    for (; d < hd; d++) acc[0] += v8_load(qt + ((size_t)lb_at * hd + d) * LANES) * kg[d];
                    acc[0] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
                    float lanes[LANES];
                    v8_store(lanes, acc[0]);
                    for (int x = 0; x < LANES && lb * LANES + x < G; x++) scores[g * G + lb * LANES + x][i] = lanes[x];
                }
        }
        for (int h = 0; h < Hq; h++) {
            float mx = m[h];
            for (int i = 0; i < n; i++) mx = fmaxf(mx, scores[h][i]);
            float rescale = m[h] == -INFINITY ? 0.0f : expf(m[h] - mx);
            l[h] *= rescale;
            for (int d = 0; d < hd; d++) o[h * hd + d] *= rescale;
            for (int i = 0; i < n; i++) {
                scores[h][i] = expf(scores[h][i] - mx);
                l[h] += scores[h][i];
            }
            m[h] = mx;
        }
        /* Values four keys at a time: each output vector is loaded and stored once per four. */
        float *vrows = kv;  /* room for 4 rows: kv holds row * 4 floats */
        for (int i0 = 0; i0 < n; i0 += 4) {
            int nk = n - i0 < 4 ? n - i0 : 4;
            for (int u = 0; u < nk; u++) load_row(j->v, j->kv_dtype, (long)keep[i0 + u] * row, row, vrows + u * row);
            for (int u = nk; u < 4; u++) memset(vrows + u * row, 0, sizeof(float) * row);
            for (int h = 0; h < Hq; h++) {
                float p[4] = {0};
                for (int u = 0; u < nk; u++) p[u] = scores[h][i0 + u];
                const float *restrict v0 = vrows + (h / G) * hd;
                float *restrict oh = o + h * hd;
                int d = 0;
                for (; d + LANES <= hd; d += LANES)
                    v8_store(oh + d, v8_load(oh + d) + p[0] * v8_load(v0 + d) + p[1] * v8_load(v0 + row + d) +
                                         p[2] * v8_load(v0 + 2 * row + d) + p[3] * v8_load(v0 + 3 * row + d));
                for (; d < hd; d++)
                    oh[d] += p[0] * v0[d] + p[1] * v0[row + d] + p[2] * v0[2 * row + d] + p[3] * v0[3 * row + d];
            }
        }
    }
    long at = ((long)t * j->chunks + chunk) * Hq;
    for (int h = 0; h < Hq; h++) {
        j->part_m[at + h] = m[h];
        j->part_l[at + h] = l[h];
    }
    for (int i = 0; i < Hq * hd; i++) j->part_o[at * hd + i] = o[i];
    free(work);
}

static void attention_items(void *arg, int thread, int threads) {
    (void)thread; (void)threads;
    attention_job *j = arg;
    int items = j->T * j->chunks;
    for (int item; (item = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < items;)
        attend_chunk(j, item / j->chunks, item % j->chunks);
}

/* out[t, h] = sum over chunks of e^(m_c - M) o_c / (e^(sink - M) + sum of e^(m_c - M) l_c). */
static void merge(const attention_job *j) {
    const int Hq = j->Hq, hd = j->hd;
    for (int t = 0; t < j->T; t++)
        for (int h = 0; h < Hq; h++) {
            float M = j->sinks[h];
            for (int c = 0; c < j->chunks; c++) M = fmaxf(M, j->part_m[((long)t * j->chunks + c) * Hq + h]);
            float L = expf(j->sinks[h] - M);
            float *dst = j->out + ((long)t * Hq + h) * hd;
            for (int d = 0; d < hd; d++) dst[d] = 0.0f;
            for (int c = 0; c < j->chunks; c++) {
                long at = ((long)t * j->chunks + c) * Hq + h;
                if (j->part_m[at] == -INFINITY) continue;  /* nothing visible in this chunk */
                float w = expf(j->part_m[at] - M);
                L += w * j->part_l[at];
                for (int d = 0; d < hd; d++) dst[d] += w * j->part_o[at * hd + d];
            }
            for (int d = 0; d < hd; d++) dst[d] /= L;
        }
}

int hearth_attention(int T, int S, int Hq, int Hkv, int hd, const void *q, int q_dtype,
                     const void *k, const void *v, int kv_dtype, const float *sinks,
                     const int64_t *q_positions, const int64_t *k_positions, int window, float sm_scale,
                     float *out) {
    if (T < 1 || S < 1 || Hkv < 1 || Hq % Hkv || Hq > HEADS_MAX || hd > DIM_MAX) return -2;
    int chunks = (S + CHUNK_KEYS - 1) / CHUNK_KEYS;
    size_t parts = (size_t)T * chunks * Hq;
    float *part = malloc(sizeof(float) * parts * (2 + (size_t)hd));
    if (!part) return -1;
    int failed = 0;
    attention_job j = {T, S, Hq, Hkv, hd, chunks, q, q_dtype, k, v, kv_dtype, sinks, q_positions, k_positions,
                       window, sm_scale, out, part, part + parts, part + 2 * parts, &failed, 0};
    if (T * chunks == 1) attention_items(&j, 0, 1);
    else pool_run(attention_items, &j);
    if (!failed) merge(&j);
    free(part);
    return failed ? -1 : 0;
}
