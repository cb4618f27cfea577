/* bench.h - what the benchmarks share: a clock, this CPU's measured peak,
 * and a loop over instruction sets and thread counts.
 *
 * Include after relunet.h (with RELUNET_IMPLEMENTATION). The peak is what
 * a loop of independent fused multiply-adds on registers reaches on one
 * core: no memory, no dependencies, so nothing real can beat it.
 */
#ifndef RELUNET_BENCH_H
#define RELUNET_BENCH_H

#include <stdio.h>
#include <string.h>
#include <time.h>

static double bench_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* Twelve independent accumulators, as many as the micro-kernels keep,
   each a chain of x = x * m + a that never leaves the registers. */
#define BENCH_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

#if defined(RN__X86)
static __attribute__((target("avx2,fma"))) float bench_fma_loop(long rounds, int *lanes)
{
    __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-6f), sum = _mm256_setzero_ps();
    float out[8];
#define BENCH_DECLARE(i) __m256 x##i = _mm256_set1_ps((float)(i));
#define BENCH_STEP(i) x##i = _mm256_fmadd_ps(x##i, m, a);
#define BENCH_SUM(i) sum = _mm256_add_ps(sum, x##i);
    BENCH_CHAINS(BENCH_DECLARE)
    for (; rounds > 0; rounds--) { BENCH_CHAINS(BENCH_STEP) }
    BENCH_CHAINS(BENCH_SUM)
    _mm256_storeu_ps(out, sum);
    *lanes = 8;
    return out[0];
}
#elif defined(RN__NEON)
static float bench_fma_loop(long rounds, int *lanes)
{
    float32x4_t m = vdupq_n_f32(0.999999f), a = vdupq_n_f32(1e-6f), sum = vdupq_n_f32(0.0f);
#define BENCH_DECLARE(i) float32x4_t x##i = vdupq_n_f32((float)(i));
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define BENCH_STEP(i) x##i = vfmaq_f32(a, x##i, m);
#else
#define BENCH_STEP(i) x##i = vmlaq_f32(a, x##i, m);
#endif
#define BENCH_SUM(i) sum = vaddq_f32(sum, x##i);
    BENCH_CHAINS(BENCH_DECLARE)
    for (; rounds > 0; rounds--) { BENCH_CHAINS(BENCH_STEP) }
    BENCH_CHAINS(BENCH_SUM)
    *lanes = 4;
    return vgetq_lane_f32(sum, 0);
}
#else
static float bench_fma_loop(long rounds, int *lanes)
{
    float m = 0.999999f, a = 1e-6f, sum = 0.0f;
#define BENCH_DECLARE(i) float x##i = (float)(i);
#define BENCH_STEP(i) x##i = x##i * m + a;
#define BENCH_SUM(i) sum += x##i;
    BENCH_CHAINS(BENCH_DECLARE)
    for (; rounds > 0; rounds--) { BENCH_CHAINS(BENCH_STEP) }
    BENCH_CHAINS(BENCH_SUM)
    *lanes = 1;
    return sum;
}
#endif

/* Single-core peak in GFLOP/s: the best of 40 runs of about 5 ms, so that
   on a shared machine some run has the core to itself. */
static inline double bench_peak_gflops(void)
{
    static double peak;
    volatile float sink;
    long rounds = 500000;
    int run, lanes;
    for (run = 0; run < 40; run++) {
        double start = bench_seconds(), gflops;
        sink = bench_fma_loop(rounds, &lanes);
        gflops = 2.0 * 12 * lanes * rounds / (bench_seconds() - start) * 1e-9;
        if (gflops > peak) peak = gflops;
    }
    (void)sink;
    return peak;
}

/* Seconds per call of run(context): the best of `repeats` timed calls
   after one warm-up, so that a neighbour's burst does not count. */
static inline double bench_time(void (*run)(void *), void *context, int repeats)
{
    double best = 1e30;
    int i;
    run(context);
    for (i = 0; i < repeats; i++) {
        double start = bench_seconds(), elapsed;
        run(context);
        elapsed = bench_seconds() - start;
        if (elapsed < best) best = elapsed;
    }
    return best;
}

/* Seconds per call of run(context): the median of `repeats` timed calls
   after one warm-up, for figures quoted from a machine others share. */
static inline double bench_median_time(void (*run)(void *), void *context, int repeats)
{
    double times[101], start, swap;
    int i, j;
    if (repeats > 101) repeats = 101;
    run(context);
    for (i = 0; i < repeats; i++) {
        start = bench_seconds();
        run(context);
        times[i] = bench_seconds() - start;
        for (j = i; j > 0 && times[j - 1] > times[j]; j--)
            swap = times[j], times[j] = times[j - 1], times[j - 1] = swap;
    }
    return times[repeats / 2];
}

/* The instruction sets this CPU runs, best last, as rn_set_isa names. */
static int bench_isas(const char **names)
{
    int i, count = 0;
    for (i = 0; i < RN__TABLE_COUNT; i++)
        if (rn__cpu_has(rn__kernel_tables[i].isa)) names[count++] = rn__kernel_tables[i].isa;
    return count;
}

#endif
