/* test_threads.c - two networks trained in two threads at once keep their
 * own errors and get their own results.
 *
 * Each thread trains a small CNN of its own size and, all along, makes
 * calls that fail: a wrong input shape, a kernel whose scratch allocation
 * fails (SIMD kernels only), a NaN gradient. After each failure it gives
 * the other thread time to fail too, then checks that rn_last_error() is
 * still its own message and that its next calls succeed. The weights each
 * thread ends with must be bit-identical to the same run made alone. Then
 * the same with networks big enough that their passes are shared out over
 * relunet's own threads (built with -fopenmp): two callers at once, each
 * with the threads or without them when the other holds them.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

/* Allocation fails on demand, per thread: the failure is this thread's. */
static void *test_malloc(size_t size);
#define RN_MALLOC(size) test_malloc(size)
#define RN_FREE(pointer) free(pointer)
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "harness.h"

#include <string.h>

static RN__THREAD_LOCAL int fail_next_malloc;

static void *test_malloc(size_t size)
{
    if (fail_next_malloc) {
        fail_next_malloc = 0;
        return NULL;
    }
    return malloc(size);
}

enum { STEPS = 150, BATCH = 4 };

typedef struct worker {
    int id;             /* 0 or 1: sizes and NaN positions differ */
    int side, filters;  /* input images side x side, convolution filters */
    int simd;           /* the kernels allocate scratch, so they can fail */
    int wrong;          /* calls that did not return what they should */
    int foreign;        /* messages that were not this thread's */
    size_t n_values;
    float *values;      /* every parameter value at the end */
} worker;

static void let_the_other_run(void)
{
    int i;
    for (i = 0; i < 20; i++) sched_yield();
}

/* The call failed with status and this thread's message still holds what. */
static void expect_own_error(worker *w, int got, int status, const char *what)
{
    if (got != status) w->wrong++;
    let_the_other_run();
    if (strstr(rn_last_error(), what) == NULL) w->foreign++;
}

static void *train(void *arg)
{
    worker *w = (worker *)arg;
    int side = w->side, step, i;
    rn_net *net = rn_net_new(3, (int[]){2, side, side});
    rn_optim *opt;
    rn_tensor x, bad;
    int labels[BATCH] = {0, 1, 2, 1};
    char shape_message[64], nan_message[64];
    size_t j, at;
    rn_net_add_conv2d(net, w->filters, 3, 1, 1);
    rn_net_add_activation(net, RN_ACT_RELU);
    rn_net_add_maxpool2d(net, 2, 2);
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 48);
    rn_net_add_activation(net, RN_ACT_TANH);
    rn_net_add_linear(net, 3);
    rn_net_init(net, RN_INIT_HE_NORMAL, 0.0f, 7 + (uint64_t)w->id);
    opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_ADAM, .lr = 0.01f});
    rn_tensor_new(&x, 4, (int[]){BATCH, 2, side, side});
    rn_tensor_new(&bad, 4, (int[]){BATCH, 1, side, side});
    for (j = 0; j < x.size; j++) x.data[j] = (float)((j * 7 + (size_t)w->id) % 13) / 13.0f - 0.4f;
    snprintf(shape_message, sizeof shape_message, "expected [%d, 2, %d, %d]", BATCH, side, side);
    snprintf(nan_message, sizeof nan_message, "conv1.weight[%d]", w->id + 1);
    for (step = 0; step < STEPS; step++) {
        float loss = 0.0f;
        rn_param *weight = rn_net_param(net, 0);
        expect_own_error(w, rn_net_forward(net, &bad, RN_TRAIN), RN_ERR_SHAPE, shape_message);
        if (w->simd && step > 0) { /* once the outputs have their storage */
            /* Outside a network's pass (which takes scratch from the
               network's workspace) the linear layer's matrix product
               allocates its scratch. */
            fail_next_malloc = 1;
            expect_own_error(w, rn_layer_forward(net->layers[4], &net->outputs[3], &net->outputs[4],
                                                 RN_TRAIN),
                             RN_ERR_MEMORY, "kernels' scratch");
            fail_next_malloc = 0;
        }
        w->wrong += rn_net_forward(net, &x, RN_TRAIN) != RN_OK;
        rn_net_zero_grad(net);
        w->wrong += rn_loss_cross_entropy(rn_net_output(net), labels, &loss,
                                          rn_net_output_grad(net)) != RN_OK;
        w->wrong += rn_net_backward(net) != RN_OK;
        weight->grad.data[w->id + 1] = NAN;
        expect_own_error(w, rn_optim_step(opt), RN_ERR_NUMERIC, nan_message);
        weight->grad.data[w->id + 1] = 0.0f;
        w->wrong += rn_optim_step(opt) != RN_OK;
    }
    for (i = 0; i < rn_net_param_count(net); i++) w->n_values += rn_net_param(net, i)->value.size;
    w->values = (float *)malloc(w->n_values * sizeof(float));
    for (i = 0, at = 0; i < rn_net_param_count(net); i++) {
        const rn_param *p = rn_net_param(net, i);
        memcpy(w->values + at, p->value.data, p->value.size * sizeof(float));
        at += p->value.size;
    }
    rn_tensor_free(&x);
    rn_tensor_free(&bad);
    rn_optim_free(opt);
    rn_net_free(net);
    return NULL;
}

/* Each thread trains a net of `side` + 2 id and `filters`, alone and then
   both at once. */
static void check_two_threads(int side, int filters)
{
    worker alone[2], together[2];
    pthread_t threads[2];
    int i, simd = strcmp(rn_isa_name(), "scalar") != 0;
    for (i = 0; i < 2; i++) {
        memset(&alone[i], 0, sizeof alone[i]);
        alone[i].id = i, alone[i].simd = simd;
        alone[i].side = side + 2 * i, alone[i].filters = filters;
        together[i] = alone[i];
        train(&alone[i]);
        CHECK(alone[i].wrong == 0 && alone[i].foreign == 0);
    }
    for (i = 0; i < 2; i++) CHECK(pthread_create(&threads[i], NULL, train, &together[i]) == 0);
    for (i = 0; i < 2; i++) CHECK(pthread_join(threads[i], NULL) == 0);
    for (i = 0; i < 2; i++) {
        if (together[i].wrong || together[i].foreign)
            fprintf(stderr, "thread %d: %d wrong statuses, %d messages from the other thread\n", i,
                    together[i].wrong, together[i].foreign);
        CHECK(together[i].wrong == 0);
        CHECK(together[i].foreign == 0);
        CHECK(together[i].n_values == alone[i].n_values &&
              memcmp(together[i].values, alone[i].values, alone[i].n_values * sizeof(float)) == 0);
        free(alone[i].values);
        free(together[i].values);
    }
}

static void test_two_threads_keep_their_own(void)
{
    if (strcmp(rn_isa_name(), "scalar") == 0)
        printf("kernel out-of-memory injection: skipped, the scalar kernels allocate nothing\n");
    check_two_threads(10, 4);
}

/* Passes of millions of FLOPs, which two threads share when there are two. */
static void test_two_callers_share_the_threads(void)
{
    CHECK(rn_set_threads(2) == RN_OK);
    check_two_threads(28, 16);
    rn_set_threads(0);
}

int main(void)
{
    printf("instruction set: %s\n", rn_isa_name());
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    /* Without -pthread, Emscripten's pthread_create always fails: there is
       no second thread to run the test on. */
    printf("test_two_threads_keep_their_own, test_two_callers_share_the_threads: skipped, "
           "built without threads (Emscripten without -pthread)\n");
#else
    RUN(test_two_threads_keep_their_own);
    RUN(test_two_callers_share_the_threads);
#endif
    return finish();
}
