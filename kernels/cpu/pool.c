/* A small thread pool: `pool_run(job, ctx)` runs job(ctx, thread, threads) on every thread,
 * the caller included, and returns when all are done (so it is also the barrier between two
 * phases of an op).
 *
 * Workers spin briefly for the next job, then sleep on a condition variable: a decode step
 * calls the pool a few hundred times per token, too often to wake sleeping threads each time,
 * but a spinning pool would take the cores from torch's own threads between our calls. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "pool.h"

#define MAX_THREADS 256
#define SPIN_ROUNDS 20000  /* ~50 us of pause loops before sleeping */

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int generation;      /* bumped once per job */
    atomic_int pending;         /* workers still running the current job */
    pool_job job;
    void *ctx;
    int threads;                /* including the caller */
    int started;                /* worker threads created so far */
    int nice;                   /* the caller's nice value, which the workers take on for the job */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 1, 0, 0};

/* On Linux each thread has its own nice value. The window runs the model in a thread of lower
 * priority than its own, so that the screen stays responsive when the processor is busy; the
 * workers were created by whichever thread first set the thread count (perhaps the window's),
 * so they take on the nice value of the thread that gives them each job. */
static int this_threads_nice(void) {
#if defined(__linux__)
    return getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
#else
    return 0;
#endif
}

static void take_nice(int *mine, int wanted) {
#if defined(__linux__)
    if (*mine != wanted && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), wanted) == 0) *mine = wanted;
#else
    (void)mine; (void)wanted;
#endif
}

/* Two Python threads (two models, or a chat and the API) may call ops at once: one job at a time. */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    int seen = 0;
    int nice = this_threads_nice();
    for (;;) {
        int gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
            if (++spins < SPIN_ROUNDS) { cpu_relax(); continue; }
            pthread_mutex_lock(&pool.lock);
            while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen)
                pthread_cond_wait(&pool.wake, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
            spins = 0;
        }
        seen = gen;
        take_nice(&nice, pool.nice);  /* raising it back needs a privilege: it may stay lower */
        if (id < pool.threads) pool.job(pool.ctx, id, pool.threads);
        atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel);
    }
    return NULL;
}

void pool_set_threads(int n) {
    if (n < 1) n = 1;
    if (n > MAX_THREADS) n = MAX_THREADS;
    pthread_mutex_lock(&run_lock);  /* not while a job runs */
    pthread_mutex_lock(&pool.lock);
    while (pool.started < n - 1) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, worker, (void *)(intptr_t)(pool.started + 1)) != 0) {
            pthread_attr_destroy(&attr);
            break;
        }
        pthread_attr_destroy(&attr);
        pool.started++;
    }
    pool.threads = pool.started + 1 < n ? pool.started + 1 : n;
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&run_lock);
}

int pool_threads(void) { return pool.threads; }

void pool_run(pool_job job, void *ctx) {
    if (pool.threads <= 1) {
        job(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&run_lock);
    pool.job = job;
    pool.ctx = ctx;
    pool.nice = this_threads_nice();
    /* Every started worker takes part in the count, even one above `threads` (it skips the job). */
    atomic_store_explicit(&pool.pending, pool.started, memory_order_relaxed);
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    job(ctx, 0, pool.threads);
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) cpu_relax();
    pthread_mutex_unlock(&run_lock);
}
