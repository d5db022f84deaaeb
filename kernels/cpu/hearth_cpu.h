/* Hearth's compiled CPU kernels: the C interface kernels/_cpu.py loads with ctypes.
 *
 * One library per instruction set (scalar, avx2, avx512, neon), each built from the same
 * sources with its own compiler flags (kernels/cpu_build.py); kernels/_cpu.py picks the best
 * one the processor runs. Every op here has its PyTorch twin in kernels/ (moe_torch,
 * attention_torch, F.linear), which the tests compare against.
 *
 * Shapes: T tokens, D hidden, I intermediate, E experts, K active experts per token,
 * G = columns/32 MXFP4 blocks per row, S keys, Hq/Hkv query/kv heads, hd head dim.
 */
#ifndef HEARTH_CPU_H
#define HEARTH_CPU_H

#include <stdint.h>

enum hearth_dtype { HEARTH_F32 = 0, HEARTH_BF16 = 1 };

/* The instruction set this library was built for ("avx512", "avx2", "neon", "scalar"). */
const char *hearth_isa(void);
/* Whether the running processor can execute this library's instructions (1) or not (0). */
int hearth_cpu_supported(void);
/* Threads the kernels use (the calling thread is one of them); n < 1 means 1. */
void hearth_set_threads(int n);
int hearth_threads(void);

/* The routed experts of one MoE layer on MXFP4 weights read in place (published layout):
 * out[T, D] (f32, overwritten) = sum_k weights[t, k] * (down(swiglu(gate_up(x[t]))))[chosen[t, k]].
 * gate_up_blocks [E, 2I, D/32, 16], gate_up_scales [E, 2I, D/32], gate_up_bias [E, 2I];
 * down_blocks [E, D, I/32, 16], down_scales [E, D, I/32], down_bias [E, D]. Returns 0, or -1
 * when a working buffer cannot be allocated. */
int hearth_moe(int T, int D, int I, int E, int K,
               const void *x, int x_dtype, const int32_t *chosen, const float *weights,
               const uint8_t *gate_up_blocks, const uint8_t *gate_up_scales, const void *gate_up_bias,
               const uint8_t *down_blocks, const uint8_t *down_scales, const void *down_bias, int bias_dtype,
               float swiglu_limit, float swiglu_alpha, float *out);

/* y[T, N] (f32) = x[T, C] @ w[N, C]^T + bias[N]; w bf16 rows, bias may be NULL. For few tokens
 * (decode): reads w once for all T at memory speed. */
void hearth_linear_bf16(int T, int C, int N, const void *x, int x_dtype, const uint16_t *w,
                        const void *bias, int bias_dtype, float *y);

/* hearth_linear_bf16 for M <= 3 matrices on one input in one pass: y[m] [T, N[m]] (f32) =
 * norm(x) @ w[m]^T + bias[m], where norm(x) = x * rsqrt(mean(x^2) + eps) * norm[c] when norm
 * is not NULL; then the first rope_outputs outputs get rotary embeddings, head by head
 * (head_dim), from cos/sin [T, head_dim/2] when those are not NULL. Returns 0, -1 (no memory)
 * or -2 (bad shapes). */
int hearth_project(int T, int C, const void *x, int x_dtype, const void *norm, int norm_dtype, float eps,
                   int M, const int *N, const uint16_t *const *w, const void *const *bias, int bias_dtype,
                   float *const *y, const float *cos, const float *sin, int rope_outputs, int head_dim);

/* Attention with sinks, GQA and an optional sliding window (window <= 0: none), for few
 * queries against a cache read in place: q [T, Hq, hd], k/v [S, Hkv, hd] in kv_dtype,
 * sinks [Hq] f32, positions int64 (key position -1: empty slot); out [T, Hq*hd] f32. */
int hearth_attention(int T, int S, int Hq, int Hkv, int hd, const void *q, int q_dtype,
                     const void *k, const void *v, int kv_dtype, const float *sinks,
                     const int64_t *q_positions, const int64_t *k_positions, int window, float sm_scale,
                     float *out);

#endif
