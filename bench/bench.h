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

/* --tsv FILE: each bench writes its figures to FILE as well, one row per
   figure, for bench/compare.py to put beside PyTorch's and the goals:
   figure, instruction set ("-" when none), threads, value, unit. */
static FILE *bench_tsv;

/* Opens the file of a --tsv FILE among the arguments and takes the two
   out of argv, so that each bench reads its own arguments as if they were
   never there: the count left, or -1 (said on stderr) when it cannot. */
static int bench_take_tsv(int argc, char **argv)
{
    int i, kept = 1;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tsv") != 0) {
            argv[kept++] = argv[i];
            continue;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "%s: --tsv needs a file name\n", argv[0]);
            return -1;
        }
        if ((bench_tsv = fopen(argv[++i], "w")) == NULL) {
            fprintf(stderr, "%s: cannot write %s\n", argv[0], argv[i]);
            return -1;
        }
    }
    return kept;
}

static void bench_row(const char *figure, const char *isa, int threads, double value,
                      const char *unit)
{
    if (bench_tsv != NULL)
        fprintf(bench_tsv, "%s\t%s\t%d\t%.6g\t%s\n", figure, isa, threads, value, unit);
}

/* Twelve independent accumulators, as many as the micro-kernels keep,
   each a chain of x = x * m + a that never leaves the registers. One loop
   per vector type, written once: BENCH_FMA_LOOP(name, attributes, lanes)
   makes it from the BENCH_VEC operations defined just before. */
#define BENCH_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define BENCH_DECLARE(i) BENCH_VEC x##i = BENCH_SET1((float)(i));
#define BENCH_STEP(i) x##i = BENCH_FMADD(x##i, m, a);
#define BENCH_SUM(i) sum = BENCH_ADD(sum, x##i);
#define BENCH_FMA_LOOP(name, attributes, lanes)                                        \
    static attributes float name(long rounds)                                          \
    {                                                                                  \
        BENCH_VEC m = BENCH_SET1(0.999999f), a = BENCH_SET1(1e-6f), sum = BENCH_SET1(0.0f); \
        float out[lanes];                                                              \
        BENCH_CHAINS(BENCH_DECLARE)                                                    \
        for (; rounds > 0; rounds--) { BENCH_CHAINS(BENCH_STEP) }                      \
        BENCH_CHAINS(BENCH_SUM)                                                        \
        BENCH_STORE(out, sum);                                                         \
        return out[0];                                                                 \
    }

#if defined(RN__X86)
#define BENCH_VEC __m256
#define BENCH_SET1 _mm256_set1_ps
#define BENCH_FMADD _mm256_fmadd_ps
#define BENCH_ADD _mm256_add_ps
#define BENCH_STORE _mm256_storeu_ps
BENCH_FMA_LOOP(bench_fma_loop_avx2, __attribute__((target("avx2,fma"))), 8)
#undef BENCH_VEC
#undef BENCH_SET1
#undef BENCH_FMADD
#undef BENCH_ADD
#undef BENCH_STORE
#define BENCH_VEC __m512
#define BENCH_SET1 _mm512_set1_ps
#define BENCH_FMADD _mm512_fmadd_ps
#define BENCH_ADD _mm512_add_ps
#define BENCH_STORE _mm512_storeu_ps
BENCH_FMA_LOOP(bench_fma_loop_avx512, __attribute__((target("avx512f"))), 16)

/* The widest FMA the CPU runs: on a core with two 512-bit FMA units
   AVX-512 doubles AVX2's peak, and a share of AVX2's would read over 100%
   for the AVX-512 kernels. */
static float bench_fma_loop(long rounds, int *lanes)
{
    *lanes = rn__cpu_has("avx512") ? 16 : 8;
    return *lanes == 16 ? bench_fma_loop_avx512(rounds) : bench_fma_loop_avx2(rounds);
}
#else
#if defined(RN__NEON)
#define BENCH_VEC float32x4_t
#define BENCH_SET1 vdupq_n_f32
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define BENCH_FMADD(x, m, a) vfmaq_f32(a, x, m)
#else
#define BENCH_FMADD(x, m, a) vmlaq_f32(a, x, m)
#endif
#define BENCH_ADD vaddq_f32
#define BENCH_STORE vst1q_f32
#define BENCH_LANES 4
#else
#define BENCH_VEC float
#define BENCH_SET1(value) (value)
#define BENCH_FMADD(x, m, a) ((x) * (m) + (a))
#define BENCH_ADD(x, y) ((x) + (y))
#define BENCH_STORE(out, value) ((out)[0] = (value))
#define BENCH_LANES 1
#endif
BENCH_FMA_LOOP(bench_fma_loop_one_width, , BENCH_LANES)

static float bench_fma_loop(long rounds, int *lanes)
{
    *lanes = BENCH_LANES;
    return bench_fma_loop_one_width(rounds);
}
#endif

/* Single-core peak in GFLOP/s: the best of 40 runs of about 5 ms, so that
   on a shared machine some run has the core to itself; *vector_bits says
   which vectors reached it (32: scalar). */
static inline double bench_peak_gflops(int *vector_bits)
{
    static double peak;
    volatile float sink;
    char figure[40];
    long rounds = 500000;
    int run, lanes = 1;
    for (run = 0; run < 40; run++) {
        double start = bench_seconds(), gflops;
        sink = bench_fma_loop(rounds, &lanes);
        gflops = 2.0 * 12 * lanes * rounds / (bench_seconds() - start) * 1e-9;
        if (gflops > peak) peak = gflops;
    }
    (void)sink;
    *vector_bits = 32 * lanes;
    snprintf(figure, sizeof figure, "FMA peak, %d-bit vectors", *vector_bits);
    bench_row(figure, "-", 1, peak, "GFLOP/s");
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
