/* bench_train.c - training throughput of the two Fashion-MNIST networks.
 *
 * Net P (the ReLU_alpha sweep's 3-conv net, batch 64, SGD) and net C (the
 * 8/16/32-channel net of the linearization study, batch 100, Adam) train
 * on synthetic 28x28 images: the scalar reference against the best SIMD
 * kernels, on 1 and more threads. Prints images/s and the share of the
 * measured FMA peak the arithmetic of a training step reaches.
 *
 *     bench_train [--tsv]   --tsv: "net<TAB>isa<TAB>threads<TAB>images/s"
 *                           lines only, as bench/torch_ref.py --compare reads
 */
#define _POSIX_C_SOURCE 199309L
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "bench.h"

typedef struct trainer {
    rn_net *net;
    rn_optim *opt;
    rn_tensor images;
    int *labels;
    int batch;
} trainer;

/* Both networks: three convolutions (out channels, kernel, stride,
   padding), each followed by ReLU_alpha, then flatten and a linear layer
   to 10 classes. */
typedef struct net_spec {
    char name;
    int batch;
    int convs[3][4];
    rn_optim_kind optimizer;
    float lr;
} net_spec;

static const net_spec nets[] = {
    {'P', 64, {{15, 2, 2, 0}, {15, 2, 2, 0}, {1, 2, 1, 0}}, RN_SGD, 0.01f},
    {'C', 100, {{8, 5, 1, 2}, {16, 5, 1, 2}, {32, 3, 1, 1}}, RN_ADAM, 0.001f}};

static rn_net *net_build(const net_spec *spec)
{
    rn_net *net = rn_net_new(3, (int[]){1, 28, 28});
    int i;
    for (i = 0; i < 3; i++) {
        const int *c = spec->convs[i];
        rn_net_add_conv2d(net, c[0], c[1], c[2], c[3]);
        rn_net_add_activation(net, RN_ACT_RELU_ALPHA);
    }
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 10);
    return net;
}

/* Multiply-adds of one image's forward and backward pass (weight and
   input gradients: three products per layer) counted as 2 FLOPs each. */
static double training_flops(const rn_net *net)
{
    double flops = 0.0;
    int i;
    for (i = 0; i < net->n_layers; i++) {
        const rn_layer *l = net->layers[i];
        if (l->type == RN_LAYER_CONV2D)
            flops += 6.0 * l->out_shape[0] * l->out_shape[1] * l->out_shape[2] * l->in_shape[0] *
                     l->kernel * l->kernel;
        else if (l->type == RN_LAYER_LINEAR)
            flops += 6.0 * l->units * (double)rn__dims_product(l->in_ndim, l->in_shape);
    }
    return flops;
}

static void train_step(void *context)
{
    trainer *t = (trainer *)context;
    float loss;
    rn_net_forward(t->net, &t->images, RN_TRAIN);
    rn_net_zero_grad(t->net);
    rn_loss_cross_entropy(rn_net_output(t->net), t->labels, &loss, rn_net_output_grad(t->net));
    rn_net_backward(t->net);
    rn_optim_step(t->opt);
}

static void trainer_init(trainer *t, const net_spec *spec)
{
    rn_rng rng;
    size_t i;
    int n;
    rn_rng_seed(&rng, 7, 0);
    t->net = net_build(spec);
    t->batch = spec->batch;
    rn_net_init(t->net, RN_INIT_TORCH_DEFAULT, 0.0f, 42);
    t->opt = rn_optim_new(t->net, &(rn_optim_desc){.kind = spec->optimizer, .lr = spec->lr});
    memset(&t->images, 0, sizeof t->images);
    rn_tensor_new(&t->images, 4, (int[]){t->batch, 1, 28, 28});
    for (i = 0; i < t->images.size; i++) t->images.data[i] = rn_rng_uniform(&rng);
    t->labels = (int *)malloc((size_t)t->batch * sizeof(int));
    for (n = 0; n < t->batch; n++) t->labels[n] = (int)rn_rng_below(&rng, 10);
}

static void trainer_free(trainer *t)
{
    rn_optim_free(t->opt);
    rn_net_free(t->net);
    rn_tensor_free(&t->images);
    free(t->labels);
}

/* Steps per timed window so that a window lasts about a quarter second. */
static int steps_for(trainer *t)
{
    double start = bench_seconds(), step;
    train_step(t);
    step = bench_seconds() - start;
    return step > 0.25 ? 1 : (int)(0.25 / step) + 1;
}

typedef struct window {
    trainer *trainer;
    int steps;
} window;

static void run_window(void *context)
{
    window *w = (window *)context;
    int i;
    for (i = 0; i < w->steps; i++) train_step(w->trainer);
}

int main(int argc, char **argv)
{
    const char *isas[8];
    int tsv = argc > 1 && strcmp(argv[1], "--tsv") == 0, isa_count = bench_isas(isas);
    int max_threads = rn_threads(), k, threads, which;
    double peak = tsv ? 0.0 : bench_peak_gflops();
    if (!tsv)
        printf("single-core FMA peak %.1f GFLOP/s\n\n%-5s %-7s %7s %10s %9s %8s\n", peak, "net",
               "isa", "threads", "images/s", "GFLOP/s", "of peak");
    for (which = 0; which < 2; which++)
        for (k = 0; k < 2; k++)
            for (threads = 1; threads <= max_threads; threads++) {
                const char *isa = k == 0 ? "scalar" : isas[isa_count - 1];
                trainer t;
                window w;
                double seconds, images_per_second, gflops;
                if (k == 0 && threads > 1) continue; /* the reference is single-threaded */
                rn_set_isa(isa);
                rn_set_threads(threads);
                trainer_init(&t, &nets[which]);
                w.trainer = &t;
                w.steps = steps_for(&t);
                seconds = bench_time(run_window, &w, 3);
                images_per_second = (double)w.steps * t.batch / seconds;
                gflops = images_per_second * training_flops(t.net) * 1e-9;
                if (tsv)
                    printf("%c\t%s\t%d\t%.0f\n", nets[which].name, isa, threads, images_per_second);
                else
                    printf("%-5c %-7s %7d %10.0f %9.1f %7.0f%%\n", nets[which].name, isa, threads,
                           images_per_second, gflops, 100.0 * gflops / (peak * threads));
                fflush(stdout);
                trainer_free(&t);
            }
    return 0;
}
