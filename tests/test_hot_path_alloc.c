/* test_hot_path_alloc.c - a training step allocates nothing once the
 * network has seen its batch size.
 *
 * Counts RN_MALLOC calls during the training steps of the two benchmark
 * networks (bench/bench_train.c): net P, the ReLU_alpha sweep's 3-conv net
 * (batch 64, SGD, L1 penalty on the alphas, alphas kept in [0, 1]) and
 * net C, the 8/16/32-channel net (batch 100, Adam). After the first step
 * of a batch size, a step of that size or a smaller one must not allocate;
 * a larger batch grows the network's workspace in its first step, and then
 * nothing allocates again. On 1 thread and, built with OpenMP, on 2.
 *
 * Under valgrind or an emulator (tests/run.sh sets RELUNET_SLOW_RUNNER)
 * the images are 8x8 instead of 28x28, with the same layers, and the
 * kernels SSE2 where the CPU has it: a step of net C takes a minute under
 * valgrind at full size with AVX2 (it runs 256-bit code slowly), and this
 * file makes about 35 of them. The plain and sanitizer runs keep the full
 * size and the best instruction set.
 */
#include <stdlib.h>

static void *counting_malloc(size_t size);
#define RN_MALLOC(size) counting_malloc(size)
#define RN_FREE(pointer) free(pointer)
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "harness.h"

static long allocations;
static int image_side = 28;

static void *counting_malloc(size_t size)
{
    allocations++;
    return malloc(size);
}

typedef struct net_spec {
    char name;
    int batch;
    int convs[3][4]; /* out channels, kernel, stride, padding */
    rn_optim_kind optimizer;
    float lambda;    /* L1 penalty on the alphas; 0: none */
} net_spec;

static const net_spec net_p = {'P', 64, {{15, 2, 2, 0}, {15, 2, 2, 0}, {1, 2, 1, 0}}, RN_SGD, 0.01f};
static const net_spec net_c = {'C', 100, {{8, 5, 1, 2}, {16, 5, 1, 2}, {32, 3, 1, 1}}, RN_ADAM, 0.0f};

typedef struct trainer {
    const net_spec *spec;
    rn_net *net;
    rn_optim *opt;
    rn_tensor images; /* the largest batch any test uses */
    int labels[200];
} trainer;

static void trainer_init(trainer *t, const net_spec *spec)
{
    rn_rng rng;
    size_t i;
    int k;
    t->spec = spec;
    t->net = rn_net_new(3, (int[]){1, image_side, image_side});
    for (k = 0; k < 3; k++) {
        const int *c = spec->convs[k];
        CHECK(rn_net_add_conv2d(t->net, c[0], c[1], c[2], c[3]) == RN_OK);
        CHECK(rn_net_add_activation(t->net, RN_ACT_RELU_ALPHA) == RN_OK);
    }
    CHECK(rn_net_add_flatten(t->net) == RN_OK);
    CHECK(rn_net_add_linear(t->net, 10) == RN_OK);
    CHECK(rn_net_init(t->net, RN_INIT_TORCH_DEFAULT, 0.0f, 42) == RN_OK);
    t->opt = rn_optim_new(t->net, &(rn_optim_desc){.kind = spec->optimizer, .lr = 0.01f});
    CHECK(t->opt != NULL);
    memset(&t->images, 0, sizeof t->images);
    CHECK(rn_tensor_new(&t->images, 4, (int[]){200, 1, image_side, image_side}) == RN_OK);
    rn_rng_seed(&rng, 7, 0);
    for (i = 0; i < t->images.size; i++) t->images.data[i] = rn_rng_uniform(&rng);
    for (k = 0; k < 200; k++) t->labels[k] = (int)rn_rng_below(&rng, 10);
}

static void trainer_free(trainer *t)
{
    rn_optim_free(t->opt);
    rn_net_free(t->net);
    rn_tensor_free(&t->images);
}

/* One training step on the first `batch` images, as the studies make it;
   returns the allocations it made. */
static long train_step(trainer *t, int batch)
{
    rn_tensor x = rn_tensor_slice(&t->images, 0, batch);
    long before = allocations;
    float loss;
    CHECK(rn_net_forward(t->net, &x, RN_TRAIN) == RN_OK);
    rn_net_zero_grad(t->net);
    CHECK(rn_loss_cross_entropy(rn_net_output(t->net), t->labels, &loss,
                                rn_net_output_grad(t->net)) == RN_OK);
    if (t->spec->lambda > 0.0f)
        rn_net_penalty(t->net, RN_PARAMS_NAMED("alpha"), RN_PENALTY_L1, t->spec->lambda);
    CHECK(rn_net_backward(t->net) == RN_OK);
    CHECK(rn_optim_step(t->opt) == RN_OK);
    if (t->spec->lambda > 0.0f) rn_net_set_range(t->net, RN_PARAMS_NAMED("alpha"), 0.0f, 1.0f);
    return allocations - before;
}

/* Bytes the network's workspace holds. */
static size_t workspace_bytes(const rn_net *net)
{
    size_t bytes = 0;
    int i;
    for (i = 0; i < net->workspace.count; i++) bytes += net->workspace.stacks[i].size;
    return bytes;
}

/* What each step of a run made: allocations, and the workspace's size after it. */
typedef struct run {
    const net_spec *spec;
    int threads;
    const int *batches;
    long allocations[6];
    size_t workspace[6];
} run;

/* Trains a fresh network through the run's six batch sizes in turn. */
static void train_through(run *r)
{
    trainer t;
    int i;
    rn_set_threads(r->threads);
    trainer_init(&t, r->spec);
    for (i = 0; i < 6; i++) {
        r->allocations[i] = train_step(&t, r->batches[i]);
        r->workspace[i] = workspace_bytes(t.net);
    }
    trainer_free(&t);
    rn_set_threads(0);
}

/* Steps first..5 of the run allocated nothing; says which did. */
static void check_no_allocations(const run *r, int first)
{
    int i;
    for (i = first; i < 6; i++) {
        if (r->allocations[i] != 0)
            printf("net %c, %d thread(s): step %d (batch %d) made %ld allocations\n",
                   r->spec->name, r->threads, i + 1, r->batches[i], r->allocations[i]);
        CHECK(r->allocations[i] == 0);
    }
}

/* The thread counts to try: 1, and 2 where the build has threads. */
static int thread_counts(int *counts)
{
    int n = 0;
    counts[n++] = 1;
    rn_set_threads(2);
    if (rn_threads() == 2) counts[n++] = 2;
    rn_set_threads(0);
    return n;
}

static void check_steady_steps(const net_spec *spec)
{
    int counts[2], n = thread_counts(counts), k, i, batches[6];
    for (i = 0; i < 6; i++) batches[i] = spec->batch;
    for (k = 0; k < n; k++) {
        run r = {spec, counts[k], batches, {0}, {0}};
        train_through(&r);
        CHECK(r.allocations[0] > 0); /* the first step sizes everything: the count counts */
        check_no_allocations(&r, 1);
    }
}

static void test_net_p_steps_after_the_first_allocate_nothing(void) { check_steady_steps(&net_p); }
static void test_net_c_steps_after_the_first_allocate_nothing(void) { check_steady_steps(&net_c); }

/* A smaller batch after a larger one fits in what the larger one took. */
static void check_mixed_batches(const net_spec *spec)
{
    int counts[2], n = thread_counts(counts), k;
    static const int batches[6] = {64, 33, 64, 1, 33, 64};
    for (k = 0; k < n; k++) {
        run r = {spec, counts[k], batches, {0}, {0}};
        train_through(&r);
        check_no_allocations(&r, 1);
    }
}

static void test_mixed_batches_allocate_nothing_after_the_largest(void)
{
    check_mixed_batches(&net_p);
    check_mixed_batches(&net_c);
}

/* A larger batch allocates in its first step only: the workspace grows
   then, if its kernels need more (packing blocks are the same size for
   every batch above a few images), and never again. */
static void check_larger_batch(const net_spec *spec)
{
    int counts[2], n = thread_counts(counts), k, i;
    static const int batches[6] = {64, 64, 200, 200, 64, 200};
    for (k = 0; k < n; k++) {
        run r = {spec, counts[k], batches, {0}, {0}};
        train_through(&r);
        check_no_allocations(&r, 3);
        CHECK(r.allocations[1] == 0);
        CHECK(r.allocations[2] > 0);
        CHECK(r.workspace[2] >= r.workspace[1]);
        for (i = 3; i < 6; i++) CHECK(r.workspace[i] == r.workspace[2]);
    }
}

static void test_a_larger_batch_grows_once(void)
{
    check_larger_batch(&net_p);
    check_larger_batch(&net_c);
}

int main(void)
{
    if (getenv("RELUNET_SLOW_RUNNER") != NULL) {
        image_side = 8;
        rn_set_isa("sse2"); /* where there is none, the kernels stay as they are */
    }
    printf("instruction set: %s; images %dx%d%s\n", rn_isa_name(), image_side, image_side,
           image_side == 28 ? "" : " (a slow runner: the layers of nets P and C on smaller images)");
    RUN(test_net_p_steps_after_the_first_allocate_nothing);
    RUN(test_net_c_steps_after_the_first_allocate_nothing);
    RUN(test_mixed_batches_allocate_nothing_after_the_largest);
    RUN(test_a_larger_batch_grows_once);
    return finish();
}
