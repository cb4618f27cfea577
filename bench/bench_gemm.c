/* bench_gemm.c - SGEMM speed per instruction set and thread count.
 *
 * Square products C = A B of sizes 64 to 1024 (and A B' as the linear
 * layers use them), in GFLOP/s and as a share of the peak this CPU reaches
 * with a register-only FMA loop, times the threads used.
 *
 *     bench_gemm [--tsv FILE] [max_size]   --tsv: the figures as rows (bench.h)
 */
#define _POSIX_C_SOURCE 199309L
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "bench.h"

typedef struct gemm_case {
    int size, transpose_b;
    float *a, *b, *c;
} gemm_case;

static void run_gemm(void *context)
{
    gemm_case *g = (gemm_case *)context;
    rn__kernels()->sgemm(0, g->transpose_b, g->size, g->size, g->size, g->a, g->size, g->b,
                         g->size, 0.0f, g->c, g->size);
}

int main(int argc, char **argv)
{
    const char *isas[8];
    int isa_count = bench_isas(isas), max_size;
    int max_threads = rn_threads(), size, i, threads, transpose_b;
    int bits;
    double peak;
    rn_rng rng;
    if ((argc = bench_take_tsv(argc, argv)) < 0) return 1;
    max_size = argc > 1 ? atoi(argv[1]) : 1024;
    peak = bench_peak_gflops(&bits);
    rn_rng_seed(&rng, 1, 0);
    printf("single-core FMA peak: %.1f GFLOP/s (%d-bit vectors); threads available: %d\n\n", peak, bits,
           max_threads);
    printf("%6s %4s %-7s %7s %10s %8s\n", "size", "op", "isa", "threads", "GFLOP/s", "of peak");
    for (size = 64; size <= max_size; size *= 2)
        for (transpose_b = 0; transpose_b < 2; transpose_b++)
            for (i = 0; i < isa_count; i++)
                for (threads = 1; threads <= max_threads; threads++) {
                    gemm_case g;
                    size_t n = (size_t)size * size, j;
                    double seconds, gflops;
                    char figure[32];
                    if (strcmp(isas[i], "scalar") == 0 && (size > 256 || threads > 1)) continue;
                    g.size = size, g.transpose_b = transpose_b;
                    g.a = (float *)malloc(3 * n * sizeof(float));
                    g.b = g.a + n, g.c = g.b + n;
                    for (j = 0; j < 3 * n; j++) g.a[j] = rn_rng_uniform(&rng) - 0.5f;
                    rn_set_isa(isas[i]);
                    rn_set_threads(threads);
                    seconds = bench_time(run_gemm, &g, size <= 256 ? 20 : 5);
                    gflops = 2.0 * size * size * size / seconds * 1e-9;
                    printf("%6d %4s %-7s %7d %10.1f %7.0f%%\n", size, transpose_b ? "AB'" : "AB",
                           isas[i], threads, gflops, 100.0 * gflops / (peak * threads));
                    snprintf(figure, sizeof figure, "SGEMM %s %d", transpose_b ? "AB'" : "AB", size);
                    bench_row(figure, isas[i], threads, gflops, "GFLOP/s");
                    bench_row(figure, isas[i], threads, gflops / (peak * threads), "of peak");
                    free(g.a);
                }
    return 0;
}
