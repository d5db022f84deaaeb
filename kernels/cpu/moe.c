/* The routed experts of one MoE layer on MXFP4 weights read in place (see hearth_cpu.h).
 *
 * Shapes: T tokens, D hidden, I intermediate, E experts, K per token, P = T*K (token, expert)
 * pairs, grouped by expert so that each expert's rows are read once per chunk of its tokens.
 *
 * Phase 1, items (expert, 256 gate_up rows): h = gate_up(x) + bias for up to TOKENS_MAX of the
 *   expert's tokens at a time; the rows of an item hold whole interleaved (gate, linear)
 *   pairs, so the item also applies the clamped SwiGLU and quantizes its 4 blocks of `a`.
 * Phase 2, items (32 output rows): for every active expert, y = down(a) + bias, and
 *   out[t] += weight * y; each output row belongs to one item, so no two threads add to it. */
#include <stdatomic.h>
#include <stdlib.h>

#include "hearth_cpu.h"
#include "mxfp4_dot.h"
#include "pool.h"

/* Rows per item: each thread reads an item's rows as one stream, and longer streams read faster
 * (on the whole 20b, AVX-512 EPYC, 2 threads, decode: 256 gate_up / 32 down rows per item 34 GB/s,
 * 1024 / 128 rows 39, 2048 / 512 rows 41), but each phase needs enough items for every thread:
 * items are made as long as leaves ITEMS_PER_THREAD items per thread. */
#define GATE_UP_UNIT 256   /* gate_up rows come in multiples of this: 128 values of a = 4 blocks */
#define GATE_UP_ROWS_MAX 2048
#define DOWN_UNIT 32
#define DOWN_ROWS_MAX 512
#define ITEMS_PER_THREAD 4

typedef struct {
    int T, D, I, E, K, Gd, Gi;
    int gu_rows, dn_rows;      /* rows per item of each phase (item_rows) */
    const uint8_t *gu_blocks, *gu_scales, *dn_blocks, *dn_scales;
    const void *gu_bias, *dn_bias;
    int bias_dtype;
    float limit, alpha;
    float *out;
    const int *offset;         /* [E+1]: pairs of expert e are offset[e] .. offset[e+1]-1 */
    const int *pair_token;     /* [P] */
    const float *pair_weight;  /* [P] */
    const int *active;         /* experts with tokens */
    int n_active;
    act_rows xq;               /* T tokens of Gd blocks */
    act_rows aq;               /* P pairs of Gi blocks */
    const void *x; int x_dtype;
    atomic_int next;
} moe_job;

static void quantize_tokens(void *arg, int thread, int threads) {
    moe_job *j = arg;
    float v[128];
    for (int t = thread; t < j->T; t += threads)
        for (int b = 0; b < j->Gd; b += 4) {
            int nb = j->Gd - b < 4 ? j->Gd - b : 4;
            for (int e = 0; e < nb * 32; e++) v[e] = load_value(j->x, j->x_dtype, (long)t * j->D + b * 32 + e);
            quantize_blocks(&j->xq, t, v, b, nb);
        }
}

/* The longest item (a multiple of `unit` rows, at most `max`) that still leaves `wanted` items
 * when `copies` matrices of `rows` rows are cut into them. */
static int item_rows(int rows, int copies, int unit, int max, int wanted) {
    int best = unit;
    for (int n = unit; n <= max; n += unit)
        if ((long)copies * ((rows + n - 1) / n) >= wanted) best = n;
    return best;
}

static void gate_up_item(moe_job *j, int e, int r0, int r1) {
    const long rows = 2L * j->I;
    float h[TOKENS_MAX][GATE_UP_ROWS_MAX];
    float a[TOKENS_MAX][GATE_UP_ROWS_MAX / 2];
    for (int p0 = j->offset[e]; p0 < j->offset[e + 1]; p0 += TOKENS_MAX) {
        int nt = j->offset[e + 1] - p0 < TOKENS_MAX ? j->offset[e + 1] - p0 : TOKENS_MAX;
        act_t act[TOKENS_MAX];
        for (int t = 0; t < nt; t++) act[t] = act_row(&j->xq, j->pair_token[p0 + t]);
        for (int r = r0; r < r1; r += 2) {  /* r1 - r0 is even: whole (gate, linear) pairs */
            long row = e * rows + r;
            float res[2 * TOKENS_MAX];
            rows2_dot(j->gu_blocks + row * j->Gd * 16, j->gu_scales + row * j->Gd, j->Gd, act, nt, res);
            for (int k = 0; k < 2; k++) {
                float bias = load_value(j->gu_bias, j->bias_dtype, row + k);
                for (int t = 0; t < nt; t++) h[t][r + k - r0] = res[k * TOKENS_MAX + t] + bias;
            }
        }
        for (int t = 0; t < nt; t++) {
            for (int i = 0; i < (r1 - r0) / 2; i++) {
                float gate = fminf(h[t][2 * i], j->limit);
                float linear = fminf(fmaxf(h[t][2 * i + 1], -j->limit), j->limit);
                a[t][i] = gate / (1.0f + expf(-j->alpha * gate)) * (linear + 1.0f);
            }
            quantize_blocks(&j->aq, p0 + t, a[t], r0 / 64, (r1 - r0) / 64);
        }
    }
}

static void gate_up_phase(void *arg, int thread, int threads) {
    (void)thread; (void)threads;
    moe_job *j = arg;
    const int rows = j->gu_rows;
    int per_expert = (2 * j->I + rows - 1) / rows;
    int items = per_expert * j->n_active;
    for (int item; (item = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < items;) {
        int e = j->active[item / per_expert];
        int r0 = item % per_expert * rows;
        int r1 = r0 + rows < 2 * j->I ? r0 + rows : 2 * j->I;
        gate_up_item(j, e, r0, r1);
    }
}

static void down_phase(void *arg, int thread, int threads) {
    (void)thread; (void)threads;
    moe_job *j = arg;
    const int rows = j->dn_rows;
    int items = (j->D + rows - 1) / rows;
    for (int item; (item = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < items;) {
        int r0 = item * rows, r1 = r0 + rows < j->D ? r0 + rows : j->D;
        for (int n = 0; n < j->n_active; n++) {
            int e = j->active[n];
            for (int p0 = j->offset[e]; p0 < j->offset[e + 1]; p0 += TOKENS_MAX) {
                int nt = j->offset[e + 1] - p0 < TOKENS_MAX ? j->offset[e + 1] - p0 : TOKENS_MAX;
                act_t act[TOKENS_MAX];
                for (int t = 0; t < nt; t++) act[t] = act_row(&j->aq, p0 + t);
                for (int r = r0; r < r1; r += 2) {
                    long row = (long)e * j->D + r;
                    int n = r + 1 < r1 ? 2 : 1;
                    float res[2 * TOKENS_MAX];
                    if (n == 2)
                        rows2_dot(j->dn_blocks + row * j->Gi * 16, j->dn_scales + row * j->Gi, j->Gi, act, nt, res);
                    else
                        row_dot(j->dn_blocks + row * j->Gi * 16, j->dn_scales + row * j->Gi, j->Gi, act, nt, res);
                    for (int k = 0; k < n; k++) {
                        float bias = load_value(j->dn_bias, j->bias_dtype, row + k);
                        for (int t = 0; t < nt; t++)
                            j->out[(long)j->pair_token[p0 + t] * j->D + r + k] +=
                                j->pair_weight[p0 + t] * (res[k * TOKENS_MAX + t] + bias);
                    }
                }
            }
        }
    }
}

int hearth_moe(int T, int D, int I, int E, int K,
               const void *x, int x_dtype, const int32_t *chosen, const float *weights,
               const uint8_t *gate_up_blocks, const uint8_t *gate_up_scales, const void *gate_up_bias,
               const uint8_t *down_blocks, const uint8_t *down_scales, const void *down_bias, int bias_dtype,
               float swiglu_limit, float swiglu_alpha, float *out) {
    if (T < 1 || D % 32 || I % 32 || E < 1 || K < 1) return -2;
    long P = (long)T * K;
    for (long p = 0; p < P; p++)
        if (chosen[p] < 0 || chosen[p] >= E) return -2;
    hearth_e8m0_init();
    int *offset = calloc((size_t)E + 1, sizeof(int));
    int *fill = calloc((size_t)E, sizeof(int));
    int *active = malloc(sizeof(int) * (size_t)E);
    int *pair_token = malloc(sizeof(int) * (size_t)P);
    float *pair_weight = malloc(sizeof(float) * (size_t)P);
    int Gd = D / 32, Gi = I / 32;
    act_rows xq, aq;
    int no_acts = act_rows_alloc(&xq, T, Gd) | act_rows_alloc(&aq, P, Gi);
    int status = -1;
    if (!offset || !fill || !active || !pair_token || !pair_weight || no_acts) goto done;

    for (long p = 0; p < P; p++) offset[chosen[p] + 1]++;
    for (int e = 0; e < E; e++) offset[e + 1] += offset[e];
    for (long p = 0; p < P; p++) {
        int e = chosen[p], at = offset[e] + fill[e]++;
        pair_token[at] = (int)(p / K);
        pair_weight[at] = weights[p];
    }
    int n_active = 0;
    for (int e = 0; e < E; e++)
        if (offset[e + 1] > offset[e]) active[n_active++] = e;
    for (long i = 0; i < (long)T * D; i++) out[i] = 0.0f;

    int items_wanted = ITEMS_PER_THREAD * pool_threads();
    moe_job j = {T, D, I, E, K, Gd, Gi,
                 item_rows(2 * I, n_active, GATE_UP_UNIT, GATE_UP_ROWS_MAX, items_wanted),
                 item_rows(D, 1, DOWN_UNIT, DOWN_ROWS_MAX, items_wanted), gate_up_blocks, gate_up_scales, down_blocks, down_scales,
                 gate_up_bias, down_bias, bias_dtype, swiglu_limit, swiglu_alpha, out,
                 offset, pair_token, pair_weight, active, n_active, xq, aq, x, x_dtype, 0};
    if (T == 1) quantize_tokens(&j, 0, 1);
    else pool_run(quantize_tokens, &j);
    atomic_store(&j.next, 0);
    pool_run(gate_up_phase, &j);
    atomic_store(&j.next, 0);
    pool_run(down_phase, &j);
    status = 0;
done:
    free(offset); free(fill); free(active); free(pair_token); free(pair_weight);
    act_rows_free(&xq); act_rows_free(&aq);
    return status;
}
