/* bench_conv.c - convolution speed per layer, instruction set and threads.
 *
 * Every convolution layer of the studies at its batch size: forward, input
 * gradient and weight gradient together (one training step's work), in
 * GFLOP/s, as a share of the measured FMA peak times the threads, and as a
 * speed-up over the scalar reference. Then what bounds it: the FLOPs per
 * byte the step must move at least (each kernel reads its two operands and
 * writes its result once: 12 bytes per value of x, y and w), and the
 * GFLOP/s that allows at the bandwidth memcpy reaches over a working set of
 * the layer's size (its tensors sit in that cache level, or in DRAM).
 *
 *     bench_conv [--tsv FILE]   --tsv: the figures as rows (bench.h)
 */
#define _POSIX_C_SOURCE 199309L
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "bench.h"

typedef struct conv_layer {
    const char *name;
    int in_channels, out_channels, size, kernel, stride, padding, batch;
} conv_layer;

static const conv_layer layers[] = {
    {"P conv1 (ReLU_alpha sweep)", 1, 15, 28, 2, 2, 0, 64},
    {"P conv2", 15, 15, 14, 2, 2, 0, 64},
    {"P conv3", 15, 1, 7, 2, 1, 0, 64},
    {"C conv1 (linearization)", 1, 8, 28, 5, 1, 2, 100},
    {"C conv2", 8, 16, 28, 5, 1, 2, 100},
    {"C conv3", 16, 32, 28, 3, 1, 1, 100},
    {"LeNet conv1 (CIFAR-10)", 3, 6, 32, 5, 1, 2, 64},
    {"LeNet conv2 (5x5)", 6, 16, 16, 5, 1, 2, 64}};

typedef struct conv_case {
    rn__conv_geometry g;
    float *x, *w, *bias, *y, *dy, *dx, *dw, *dbias;
} conv_case;

static void run_training_step(void *context)
{
    conv_case *c = (conv_case *)context;
    rn__kernels()->conv2d_forward(&c->g, c->x, c->w, c->bias, c->y);
    rn__kernels()->conv2d_backward_weight(&c->g, c->x, c->dy, c->dw, c->dbias);
    rn__kernels()->conv2d_backward_input(&c->g, c->dy, c->w, c->dx);
}

typedef struct copy_case {
    unsigned char *from, *to;
    size_t bytes;
} copy_case;

static void run_copy(void *context)
{
    copy_case *c = (copy_case *)context;
    memcpy(c->to, c->from, c->bytes);
}

/* GB/s read and written by memcpy over working_set bytes, best of 20. */
static double copy_bandwidth(size_t working_set)
{
    copy_case c;
    double seconds;
    c.bytes = working_set / 2 + 64;
    c.from = (unsigned char *)malloc(2 * c.bytes);
    c.to = c.from + c.bytes;
    memset(c.from, 1, 2 * c.bytes);
    seconds = bench_time(run_copy, &c, 20);
    free(c.from);
    return 2.0 * (double)c.bytes / seconds * 1e-9;
}

/* The roofline of one training step: FLOPs per byte it must move, and the
   share of the peak that the bandwidth over its working set allows. */
static void print_bound(const char *name, double flops, size_t in_size, size_t out_size,
                        size_t w_size, double peak)
{
    double per_byte = flops / (12.0 * (double)(in_size + out_size + w_size));
    size_t working_set = 8 * (in_size + out_size + w_size); /* x, dx, y, dy, w, dw */
    double bandwidth = copy_bandwidth(working_set), bound = per_byte * bandwidth;
    if (bound > peak) bound = peak;
    printf("%-27s %.2f FLOP/byte; memcpy over its %.1f MB: %.0f GB/s, so at most %.0f GFLOP/s "
           "= %.0f%% of peak\n",
           name, per_byte, working_set / 1e6, bandwidth, bound, 100.0 * bound / peak);
    bench_row(name, "-", 1, per_byte, "FLOP/byte");
    bench_row(name, "-", 1, bound / peak, "bound of peak");
}

static float *filled(size_t count, rn_rng *rng)
{
    float *values = (float *)malloc(count * sizeof(float));
    size_t i;
    for (i = 0; i < count; i++) values[i] = rn_rng_uniform(rng) - 0.5f;
    return values;
}

int main(int argc, char **argv)
{
    const char *isas[8];
    int isa_count = bench_isas(isas), max_threads = rn_threads(), l, i, threads, bits;
    double peak;
    rn_rng rng;
    if (bench_take_tsv(argc, argv) < 0) return 1;
    peak = bench_peak_gflops(&bits);
    rn_rng_seed(&rng, 3, 0);
    printf("single-core FMA peak %.1f GFLOP/s (%d-bit vectors)\n\n%-27s %-7s %7s %9s %8s %9s\n",
           peak, bits, "layer", "isa", "threads", "GFLOP/s", "of peak", "vs scalar");
    for (l = 0; l < (int)(sizeof layers / sizeof layers[0]); l++) {
        const conv_layer *layer = &layers[l];
        conv_case c;
        rn__conv_geometry *g = &c.g;
        size_t in_size, out_size, w_size;
        double flops, scalar_seconds = 0.0;
        g->batch = layer->batch;
        g->in_channels = layer->in_channels, g->out_channels = layer->out_channels;
        g->in_height = g->in_width = layer->size;
        g->kernel = layer->kernel, g->stride = layer->stride, g->padding = layer->padding;
        g->out_height = (layer->size + 2 * layer->padding - layer->kernel) / layer->stride + 1;
        g->out_width = g->out_height;
        in_size = (size_t)g->batch * g->in_channels * layer->size * layer->size;
        out_size = (size_t)g->batch * g->out_channels * g->out_height * g->out_width;
        w_size = (size_t)g->out_channels * g->in_channels * g->kernel * g->kernel;
        c.x = filled(in_size, &rng), c.dx = filled(in_size, &rng);
        c.y = filled(out_size, &rng), c.dy = filled(out_size, &rng);
        c.w = filled(w_size, &rng), c.dw = filled(w_size, &rng);
        c.bias = filled(g->out_channels, &rng), c.dbias = filled(g->out_channels, &rng);
        flops = 6.0 * out_size * g->in_channels * g->kernel * g->kernel;
        for (i = 0; i < isa_count; i++)
            for (threads = 1; threads <= max_threads; threads++) {
                double seconds, gflops;
                int scalar = strcmp(isas[i], "scalar") == 0;
                if (scalar && threads > 1) continue; /* the reference is single-threaded */
                rn_set_isa(isas[i]);
                rn_set_threads(threads);
                seconds = bench_time(run_training_step, &c, scalar ? 2 : 10);
                if (scalar) scalar_seconds = seconds;
                gflops = flops / seconds * 1e-9;
                printf("%-27s %-7s %7d %9.2f %7.0f%% %8.1fx\n", layer->name, isas[i], threads,
                       gflops, 100.0 * gflops / (peak * threads), scalar_seconds / seconds);
                fflush(stdout);
                bench_row(layer->name, isas[i], threads, gflops, "GFLOP/s");
                bench_row(layer->name, isas[i], threads, gflops / (peak * threads), "of peak");
            }
        print_bound(layer->name, flops, in_size, out_size, w_size, peak);
        free(c.x), free(c.dx), free(c.y), free(c.dy);
        free(c.w), free(c.dw), free(c.bias), free(c.dbias);
    }
    return 0;
}
