/* bench_train.c - training throughput of the studies' networks.
 *
 * Net P (the ReLU_alpha sweep's 3-conv net, batch 64, SGD) and net C (the
 * 8/16/32-channel net of the linearization study, batch 100, Adam) train
 * on synthetic 28x28 images, and the adaptive-mixtures study's 5x5 LeNet
 * (batch norm, method 1 mixture, dropout; batch 64, SGD) on synthetic
 * 32x32 colour images: the scalar reference against the best SIMD kernels,
 * on 1 and more threads. Prints images/s and the share of the measured FMA
 * peak the arithmetic of a training step reaches.
 *
 *     bench_train [--tsv FILE]          --tsv: the figures as rows (bench.h)
 *     bench_train --busy [--tsv FILE]   each net on 1 and 2 threads while
 *                           another process spins on one core, and the
 *                           ratio of 2 threads to 1 (threads must never make
 *                           a busy machine slower); the median of 5 windows
 */
#define _GNU_SOURCE /* sched_setaffinity, to pin the spinning process */
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "bench.h"

#if defined(__unix__) || defined(__APPLE__)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#define BENCH_CAN_SPIN 1
#ifdef __linux__
#include <sched.h>
#endif
#endif

typedef struct trainer {
    rn_net *net;
    rn_optim *opt;
    rn_tensor images;
    int *labels;
    int batch;
} trainer;

/* A network, how it trains, and the shape of its images. */
typedef struct net_spec {
    const char *name;
    int batch, channels, size;
    rn_net *(*build)(void);
    rn_optim_kind optimizer;
    float lr;
} net_spec;

/* Nets P and C: three convolutions (out channels, kernel, stride,
   padding), each followed by ReLU_alpha, then flatten and a linear layer
   to 10 classes. */
static rn_net *three_convs(const int convs[3][4])
{
    rn_net *net = rn_net_new(3, (int[]){1, 28, 28});
    int i;
    for (i = 0; i < 3; i++) {
        rn_net_add_conv2d(net, convs[i][0], convs[i][1], convs[i][2], convs[i][3]);
        rn_net_add_activation(net, RN_ACT_RELU_ALPHA);
    }
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 10);
    return net;
}

static rn_net *build_p(void)
{
    static const int convs[3][4] = {{15, 2, 2, 0}, {15, 2, 2, 0}, {1, 2, 1, 0}};
    return three_convs(convs);
}

static rn_net *build_c(void)
{
    static const int convs[3][4] = {{8, 5, 1, 2}, {16, 5, 1, 2}, {32, 3, 1, 1}};
    return three_convs(convs);
}

/* examples/adaptive_mixtures.c's --arch lenet5 network with the method 1
   mixture. */
static rn_net *build_lenet_mixture(void)
{
    rn_net *net = rn_net_new(3, (int[]){3, 32, 32});
    int i;
    for (i = 0; i < 2; i++) {
        rn_net_add_conv2d(net, i == 0 ? 6 : 16, 5, 1, 2);
        rn_net_add_batchnorm(net);
        rn_net_add_activation(net, RN_ACT_MIX_ADAPTIVE);
        rn_net_add_maxpool2d(net, 2, 2);
    }
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 120);
    rn_net_add_batchnorm(net);
    rn_net_add_activation(net, RN_ACT_MIX_ADAPTIVE);
    rn_net_add_dropout(net, 0.1f);
    rn_net_add_linear(net, 10);
    return net;
}

static const net_spec nets[] = {{"net P", 64, 1, 28, build_p, RN_SGD, 0.01f},
                                {"net C", 100, 1, 28, build_c, RN_ADAM, 0.001f},
                                {"LeNet mixture", 64, 3, 32, build_lenet_mixture, RN_SGD, 0.001f}};
#define NET_COUNT ((int)(sizeof nets / sizeof nets[0]))

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
    t->net = spec->build();
    t->batch = spec->batch;
    rn_net_init(t->net, RN_INIT_TORCH_DEFAULT, 0.0f, 42);
    t->opt = rn_optim_new(t->net, &(rn_optim_desc){.kind = spec->optimizer, .lr = spec->lr});
    memset(&t->images, 0, sizeof t->images);
    rn_tensor_new(&t->images, 4, (int[]){t->batch, spec->channels, spec->size, spec->size});
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

/* Images per second of one net's training on `threads` threads with the
   given kernels, timed over windows of about a quarter second by
   bench_time or bench_median_time. */
static double images_per_second(const net_spec *spec, const char *isa, int threads,
                                double (*timing)(void (*)(void *), void *, int), int repeats,
                                double *gflops)
{
    trainer t;
    window w;
    double seconds, images;
    rn_set_isa(isa);
    rn_set_threads(threads);
    trainer_init(&t, spec);
    w.trainer = &t;
    w.steps = steps_for(&t);
    seconds = timing(run_window, &w, repeats);
    images = (double)w.steps * t.batch / seconds;
    *gflops = images * training_flops(t.net) * 1e-9;
    trainer_free(&t);
    return images;
}

/* Every net, the scalar reference on 1 thread and the best kernels on 1
   to rn_threads() threads: the best of 3 windows each. */
static void compare_threads(void)
{
    const char *isas[8];
    int isa_count = bench_isas(isas), max_threads = rn_threads(), k, threads, which, bits;
    double peak = bench_peak_gflops(&bits);
    printf("single-core FMA peak %.1f GFLOP/s (%d-bit vectors)\n\n%-13s %-7s %7s %10s %9s %8s\n",
           peak, bits, "net", "isa", "threads", "images/s", "GFLOP/s", "of peak");
    for (which = 0; which < NET_COUNT; which++)
        for (k = 0; k < 2; k++)
            for (threads = 1; threads <= max_threads; threads++) {
                const char *isa = k == 0 ? "scalar" : isas[isa_count - 1];
                double gflops, images;
                if (k == 0 && threads > 1) continue; /* the reference is single-threaded */
                images = images_per_second(&nets[which], isa, threads, bench_time, 3, &gflops);
                printf("%-13s %-7s %7d %10.0f %9.1f %7.0f%%\n", nets[which].name, isa, threads,
                       images, gflops, 100.0 * gflops / (peak * threads));
                fflush(stdout);
                bench_row(nets[which].name, isa, threads, images, "images/s");
                bench_row(nets[which].name, isa, threads, gflops / (peak * threads), "of peak");
            }
}

#ifdef BENCH_CAN_SPIN
/* A process that keeps CPU `cpu` busy (pinned there where the system lets
   it be) until it is killed; 0 if none could start. */
static pid_t spinner_start(int cpu)
{
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        volatile unsigned long spins = 0;
#ifdef __linux__
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        sched_setaffinity(0, sizeof one, &one);
#else
        (void)cpu;
#endif
        for (;;) spins++;
    }
    return pid > 0 ? pid : 0;
}

static void spinner_stop(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Both nets with the best kernels on 1 and on 2 threads while a spinning
   process holds the last CPU, the median of 5 windows each. */
static int compare_busy(void)
{
    const char *isas[8];
    int isa_count = bench_isas(isas), which;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    pid_t spinner;
    rn_set_threads(2);
    if (rn_threads() < 2) printf("(built without -fopenmp: the 2 threads below are 1)\n");
    spinner = spinner_start(cpus > 1 ? (int)cpus - 1 : 0);
    if (spinner == 0) {
        fprintf(stderr, "bench_train --busy: cannot start the spinning process\n");
        return 1;
    }
    printf("another process spins on CPU %ld; images/s, median of 5 windows\n\n"
           "%-13s %-7s %10s %10s %9s\n",
           cpus > 1 ? cpus - 1 : 0, "net", "isa", "1 thread", "2 threads", "2 / 1");
    for (which = 0; which < NET_COUNT; which++) {
        const char *isa = isas[isa_count - 1];
        double gflops, one = images_per_second(&nets[which], isa, 1, bench_median_time, 5, &gflops);
        double two = images_per_second(&nets[which], isa, 2, bench_median_time, 5, &gflops);
        printf("%-13s %-7s %10.0f %10.0f %8.2fx\n", nets[which].name, isa, one, two, two / one);
        fflush(stdout);
        bench_row(nets[which].name, isa, 1, one, "busy images/s");
        bench_row(nets[which].name, isa, 2, two, "busy images/s");
    }
    spinner_stop(spinner);
    return 0;
}
#else
static int compare_busy(void)
{
    fprintf(stderr, "bench_train --busy: needs fork() to start the spinning process\n");
    return 1;
}
#endif

int main(int argc, char **argv)
{
    if ((argc = bench_take_tsv(argc, argv)) < 0) return 1;
    if (argc > 1 && strcmp(argv[1], "--busy") == 0) return compare_busy();
    compare_threads();
    return 0;
}
