/* The kernels' thread pool (pool.c). */
#ifndef HEARTH_POOL_H
#define HEARTH_POOL_H

typedef void (*pool_job)(void *ctx, int thread, int threads);

void pool_set_threads(int n);
int pool_threads(void);
void pool_run(pool_job job, void *ctx);

#endif
