/* Attention of a few queries (a decode step) against the KV cache read in place, in its own
 * dtype: no float32 copy of the cache per token. Sinks, GQA and the sliding window as in
 * kernels/attention.py's attention_torch, the reference.
 *
 * Items (query t, kv head): the G = Hq/Hkv query heads of a kv head share each key and value
 * row as it is read. Softmax runs online over BLOCK keys at a time (one rescale per block). */
#include <math.h>
#include <stdatomic.h>

#include "hearth_cpu.h"
#include "pool.h"
#include "simd.h"

#define BLOCK 64
#define HEADS_MAX 64   /* query heads per kv head */
#define DIM_MAX 256    /* head dim */

typedef struct {
    int T, S, Hq, Hkv, hd;
    const void *q; int q_dtype;
    const void *k, *v; int kv_dtype;
    const float *sinks;
    const int64_t *q_positions, *k_positions;
    int window;
    float sm_scale;
    float *out;
    atomic_int next;
} attention_job;

static inline void load_row(const void *p, int dtype, long at, int n, float *dst) {
    if (dtype) {
        const uint16_t *h = (const uint16_t *)p + at;
        for (int i = 0; i < n; i++) dst[i] = bf16_to_f32(h[i]);
    } else {
        const float *f = (const float *)p + at;
        for (int i = 0; i < n; i++) dst[i] = f[i];
    }
}

/* Eight partial sums, so the compiler vectorizes without reordering licence. */
static inline float dot(const float *a, const float *b, int n) {
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += a[i + k] * b[i + k];
    float total = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
    for (; i < n; i++) total += a[i] * b[i];
    return total;
}

static void attend(const attention_job *j, int t, int kvh) {
    const int G = j->Hq / j->Hkv, hd = j->hd;
    float q[HEADS_MAX][DIM_MAX], o[HEADS_MAX][DIM_MAX];
    float m[HEADS_MAX], l[HEADS_MAX], scores[HEADS_MAX][BLOCK];
    float row[DIM_MAX];
    int keep[BLOCK];
    for (int g = 0; g < G; g++) {
        int h = kvh * G + g;
        load_row(j->q, j->q_dtype, ((long)t * j->Hq + h) * hd, hd, q[g]);
        for (int d = 0; d < hd; d++) { q[g][d] *= j->sm_scale; o[g][d] = 0.0f; }
        m[g] = j->sinks[h];  /* the sink is one more logit, with no value */
        l[g] = 1.0f;
    }
    const int64_t qp = j->q_positions[t];
    for (int s0 = 0; s0 < j->S; s0 += BLOCK) {
        int n = 0;
        for (int s = s0; s < s0 + BLOCK && s < j->S; s++) {
            int64_t kp = j->k_positions[s];
            if (kp >= 0 && kp <= qp && (j->window <= 0 || qp - kp < j->window)) keep[n++] = s;
        }
        if (n == 0) continue;
        for (int i = 0; i < n; i++) {
            load_row(j->k, j->kv_dtype, ((long)keep[i] * j->Hkv + kvh) * hd, hd, row);
            for (int g = 0; g < G; g++) scores[g][i] = dot(q[g], row, hd);
        }
        for (int g = 0; g < G; g++) {
            float mx = m[g];
            for (int i = 0; i < n; i++) mx = fmaxf(mx, scores[g][i]);
            float rescale = expf(m[g] - mx);
            l[g] *= rescale;
            for (int d = 0; d < hd; d++) o[g][d] *= rescale;
            for (int i = 0; i < n; i++) {
                scores[g][i] = expf(scores[g][i] - mx);
                l[g] += scores[g][i];
            }
            m[g] = mx;
        }
        for (int i = 0; i < n; i++) {
            load_row(j->v, j->kv_dtype, ((long)keep[i] * j->Hkv + kvh) * hd, hd, row);
            for (int g = 0; g < G; g++) {
                float p = scores[g][i];
                for (int d = 0; d < hd; d++) o[g][d] += p * row[d];
            }
        }
    }
    for (int g = 0; g < G; g++) {
        float *dst = j->out + ((long)t * j->Hq + kvh * G + g) * hd;
        for (int d = 0; d < hd; d++) dst[d] = o[g][d] / l[g];
    }
}

static void attention_items(void *arg, int thread, int threads) {
    (void)thread; (void)threads;
    attention_job *j = arg;
    int items = j->T * j->Hkv;
    for (int item; (item = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < items;)
        attend(j, item / j->Hkv, item % j->Hkv);
}

int hearth_attention(int T, int S, int Hq, int Hkv, int hd, const void *q, int q_dtype,
                     const void *k, const void *v, int kv_dtype, const float *sinks,
                     const int64_t *q_positions, const int64_t *k_positions, int window, float sm_scale,
                     float *out) {
    if (Hkv < 1 || Hq % Hkv || Hq / Hkv > HEADS_MAX || hd > DIM_MAX) return -2;
    attention_job j = {T, S, Hq, Hkv, hd, q, q_dtype, k, v, kv_dtype, sinks, q_positions, k_positions,
                       window, sm_scale, out, 0};
    pool_run(attention_items, &j);
    return 0;
}
