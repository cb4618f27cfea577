/* Failure paths: every allocation of building a network, loading one and a
   training step is made to fail in turn (each must report RN_ERR_MEMORY,
   free what it took and leave the caller's objects usable); NaN and
   infinity stop a training step with the weights as they were; and the same
   seed trains to the same bytes. */
#include <stdlib.h>
#include <string.h>

/* A counting allocator that fails the fail_at-th allocation. */
static long allocations, fail_at = -1, live;
static size_t largest_allocation;

static void *test_malloc(size_t size)
{
    void *pointer;
    if (size > largest_allocation) largest_allocation = size;
    if (allocations++ == fail_at) return NULL;
    pointer = malloc(size);
    live += pointer != NULL;
    return pointer;
}

static void test_free(void *pointer)
{
    if (pointer == NULL) return;
    live--;
    free(pointer);
}

#define RN_MALLOC(size) test_malloc(size)
#define RN_FREE(pointer) test_free(pointer)
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "harness.h"

static void make_input(rn_tensor *x, int batch, uint64_t seed)
{
    rn_rng rng;
    size_t j;
    rn_tensor_new(x, 4, (int[]){batch, 2, 6, 6});
    rn_rng_seed(&rng, seed, 3);
    for (j = 0; j < x->size; j++) x->data[j] = rn_rng_normal(&rng);
}

/* The steps that build the test network: every layer type and every
   activation kind. Step 0 makes the network, 1 adds a convolution. */
static int build_step(rn_net **net, int step)
{
    int kinds = RN_ACT_KIND_COUNT;
    if (step == 0) {
        *net = rn_net_new(3, (int[]){2, 6, 6});
        return *net != NULL ? RN_OK : RN_ERR_MEMORY;
    }
    if (step == 1) return rn_net_add_conv2d(*net, 3, 3, 1, 1);
    if (step <= kinds + 1)
        return rn_net_add_activation_ex(*net, &(rn_act_desc){.kind = (rn_act_kind)(step - 2),
                                                             .share = (rn_share)(step % 2)});
    switch (step - kinds - 1) {
    case 1: return rn_net_add_maxpool2d(*net, 2, 2);
    case 2: return rn_net_add_avgpool2d(*net, 1, 1);
    case 3: return rn_net_add_flatten(*net);
    case 4: return rn_net_add_linear(*net, 6);
    case 5: return rn_net_add_batchnorm(*net);
    case 6: return rn_net_add_dropout(*net, 0.25f);
    case 7: return rn_net_add_linear(*net, 3);
    default: return -1; /* no more steps */
    }
}

/* Builds the network; a step that fails is checked and retried with the
   allocator healthy, so a failed add must have left the network usable.
   Returns how many steps failed. */
static int build(rn_net **net)
{
    int step, failures = 0, status;
    for (step = 0; (status = build_step(net, step)) != -1; step++) {
        if (status == RN_OK) continue;
        failures++;
        CHECK(status == RN_ERR_MEMORY && strlen(rn_last_error()) > 10);
        fail_at = -1;
        CHECK(build_step(net, step) == RN_OK);
    }
    CHECK(rn_net_init(*net, RN_INIT_HE_NORMAL, 0.0f, 5) == RN_OK);
    return failures;
}

/* One training step; returns the first failing status. */
static int train_step(rn_net *net, rn_optim *opt, const rn_tensor *x, const int *labels)
{
    float loss;
    int status = rn_net_forward(net, x, RN_TRAIN);
    rn_net_zero_grad(net);
    if (status == RN_OK)
        status = rn_loss_cross_entropy(rn_net_output(net), labels, &loss, rn_net_output_grad(net));
    if (status == RN_OK) status = rn_net_backward(net);
    if (status == RN_OK) status = rn_optim_step(opt);
    return status;
}

static int same_params(rn_net *a, rn_net *b)
{
    int i, same = rn_net_param_count(a) == rn_net_param_count(b);
    for (i = 0; same && i < rn_net_param_count(a); i++)
        same = memcmp(rn_net_param(a, i)->value.data, rn_net_param(b, i)->value.data,
                      rn_net_param(a, i)->value.size * sizeof(float)) == 0;
    return same;
}

/* Counts the allocations scenario makes when nothing fails, then runs it
   once for every k with the k-th allocation failing. */
static void for_every_failure(void (*scenario)(int k), long *count)
{
    long k;
    fail_at = -1;
    allocations = 0;
    scenario(-1);
    *count = allocations;
    for (k = 0; k < *count; k++) {
        allocations = 0;
        fail_at = k;
        scenario((int)k);
    }
    fail_at = -1;
}

static rn_net *reference_net;
static rn_tensor inputs;
static int labels[4] = {0, 2, 1, 2};

static void construction_scenario(int k)
{
    long before = live;
    rn_net *net = NULL;
    rn_optim *opt;
    int failures = build(&net);
    CHECK(failures == (k >= 0 && allocations > k));
    opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_ADAM});
    if (opt == NULL) {
        CHECK(k >= 0);
        fail_at = -1;
        opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_ADAM});
    }
    CHECK(opt != NULL && same_params(net, reference_net));
    rn_optim_free(opt);
    rn_net_free(net);
    CHECK(live == before);
}

static void test_every_allocation_of_construction_fails_cleanly(void)
{
    long count;
    for_every_failure(construction_scenario, &count);
    CHECK(count > 20);
}

static unsigned char saved[65536];
static size_t saved_size;

static void load_scenario(int k)
{
    long before = live;
    rn_net *net = NULL;
    int status = rn_net_load_memory(saved, saved_size, &net);
    if (k >= 0) {
        CHECK(status == RN_ERR_MEMORY && net == NULL);
    } else {
        CHECK(status == RN_OK && same_params(net, reference_net));
    }
    rn_net_free(net);
    CHECK(live == before);
}

static void test_every_allocation_of_loading_fails_cleanly(void)
{
    long count;
    CHECK(rn_net_save_memory(reference_net, saved, sizeof saved, &saved_size) == RN_OK);
    for_every_failure(load_scenario, &count);
    CHECK(count > 20);
}

/* A training step whose k-th allocation fails reports it and changes no
   weight and no optimizer state (a forward pass that got partway may have
   drawn dropout masks and moved batch norm's running statistics, which are
   not weights); retried, the step succeeds. Nothing leaks. */
static unsigned char optim_before[65536], optim_after[65536];

static void training_scenario(int k)
{
    long baseline;
    rn_net *net = NULL, *before = NULL;
    rn_optim *opt;
    size_t before_size = 0, after_size = 0;
    int status;
    fail_at = -1;
    baseline = live;
    rn_net_load_memory(saved, saved_size, &net);
    rn_net_load_memory(saved, saved_size, &before);
    opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = 0.1f, .momentum = 0.9f});
    CHECK(rn_optim_save_memory(opt, optim_before, sizeof optim_before, &before_size) == RN_OK);
    allocations = 0;
    fail_at = k;
    status = train_step(net, opt, &inputs, labels);
    fail_at = -1;
    CHECK(k < 0 ? status == RN_OK : status == RN_ERR_MEMORY);
    if (status != RN_OK) {
        CHECK(same_params(net, before));
        CHECK(rn_optim_save_memory(opt, optim_after, sizeof optim_after, &after_size) == RN_OK);
        CHECK(after_size == before_size && memcmp(optim_before, optim_after, after_size) == 0);
        CHECK(train_step(net, opt, &inputs, labels) == RN_OK);
    }
    CHECK(!same_params(net, before));
    rn_optim_free(opt);
    rn_net_free(net);
    rn_net_free(before);
    CHECK(live == baseline);
}

static void test_every_allocation_of_a_training_step_fails_cleanly(void)
{
    long count;
    for_every_failure(training_scenario, &count);
    CHECK(count > 10);
}

/* NaN in the data, or an infinite gradient, stops the step (at the loss or
   at the optimizer) with the weights and the optimizer's state as they
   were. Batch norm's running statistics are not protected: like PyTorch's,
   they take in a bad batch. */
static void check_non_finite(rn_optim_desc desc)
{
    rn_net *net = NULL, *clean = NULL;
    rn_optim *opt, *clean_opt;
    rn_tensor bad;
    size_t before_size = 0, after_size = 0;
    rn_net_load_memory(saved, saved_size, &net);
    rn_net_load_memory(saved, saved_size, &clean);
    opt = rn_optim_new(net, &desc);
    clean_opt = rn_optim_new(clean, &desc);
    CHECK(train_step(net, opt, &inputs, labels) == RN_OK);
    CHECK(train_step(clean, clean_opt, &inputs, labels) == RN_OK);
    make_input(&bad, 4, 1);
    bad.data[7] = NAN;
    CHECK(train_step(net, opt, &bad, labels) == RN_ERR_NUMERIC);
    CHECK(strstr(rn_last_error(), "nan") != NULL);
    CHECK(same_params(net, clean));
    bad.data[7] = 0.0f;
    bad.data[8] = INFINITY;
    CHECK(train_step(net, opt, &bad, labels) == RN_ERR_NUMERIC);
    CHECK(same_params(net, clean));
    /* A finite loss whose gradient is not: poison the output gradient. */
    CHECK(rn_net_forward(net, &inputs, RN_TRAIN) == RN_OK);
    rn_net_zero_grad(net);
    rn_tensor_fill(rn_net_output_grad(net), INFINITY);
    CHECK(rn_net_backward(net) == RN_OK);
    CHECK(rn_optim_step(opt) == RN_ERR_NUMERIC && strstr(rn_last_error(), "no parameter") != NULL);
    CHECK(same_params(net, clean));
    CHECK(rn_optim_save_memory(opt, optim_after, sizeof optim_after, &after_size) == RN_OK);
    CHECK(rn_optim_save_memory(clean_opt, optim_before, sizeof optim_before, &before_size) == RN_OK);
    CHECK(after_size == before_size && memcmp(optim_before, optim_after, after_size) == 0);
    CHECK(train_step(net, opt, &inputs, labels) == RN_OK);
    rn_tensor_free(&bad);
    rn_optim_free(opt);
    rn_optim_free(clean_opt);
    rn_net_free(net);
    rn_net_free(clean);
}

static void test_non_finite_steps_change_nothing(void)
{
    check_non_finite((rn_optim_desc){.kind = RN_SGD, .lr = 0.1f, .momentum = 0.9f});
    check_non_finite((rn_optim_desc){.kind = RN_ADAM, .lr = 0.01f});
}

/* The same seed trains every layer and kind to the same file, byte for byte. */
static void train_to_file(unsigned char *bytes, size_t capacity, size_t *size)
{
    rn_net *net = NULL;
    rn_optim *opt;
    int step;
    build(&net);
    opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_ADAMW, .lr = 0.01f, .weight_decay = 0.1f});
    for (step = 0; step < 5; step++) CHECK(train_step(net, opt, &inputs, labels) == RN_OK);
    CHECK(rn_net_save_memory(net, bytes, capacity, size) == RN_OK);
    rn_optim_free(opt);
    rn_net_free(net);
}

static void test_same_seed_same_bytes(void)
{
    static unsigned char first[65536], second[65536];
    size_t first_size = 0, second_size = 0;
    train_to_file(first, sizeof first, &first_size);
    train_to_file(second, sizeof second, &second_size);
    CHECK(first_size == second_size && memcmp(first, second, first_size) == 0);
    CHECK(first_size != saved_size || memcmp(first, saved, first_size) != 0); /* it trained */
}

/* Regression (fuzz_model): a 992-byte model file whose convolution had a
   stride of 7,936 made a forward pass allocate 24 GB of scratch. A stride
   past the padded input leaves one output per row and column: it must
   give what the smallest such stride gives (here 6 + 2 - 3 + 1 = 6), in as
   little memory. */
static void test_huge_stride_needs_little_memory(void)
{
    rn_net *huge = rn_net_new(3, (int[]){2, 6, 6}), *smallest = rn_net_new(3, (int[]){2, 6, 6});
    rn_tensor x;
    size_t j;
    int same = 1;
    make_input(&x, 3, 5);
    CHECK(rn_net_add_conv2d(huge, 3, 3, 3000, 1) == RN_OK);
    CHECK(rn_net_add_conv2d(smallest, 3, 3, 6, 1) == RN_OK);
    CHECK(rn_net_add_conv2d(huge, 3, 3, 1, 4) == RN_ERR_ARGUMENT); /* padding past the kernel */
    CHECK(memcmp(huge->layers[0]->params[0].value.data, smallest->layers[0]->params[0].value.data,
                 huge->layers[0]->params[0].value.size * sizeof(float)) == 0);
    largest_allocation = 0;
    CHECK(rn_net_forward(huge, &x, RN_TRAIN) == RN_OK && rn_net_forward(smallest, &x, RN_TRAIN) == RN_OK);
    rn_net_zero_grad(huge);
    rn_net_zero_grad(smallest);
    CHECK(rn_net_output(huge)->size == 3 * 3 * 1 * 1 && rn_net_output(smallest)->size == 3 * 3 * 1 * 1);
    for (j = 0; j < rn_net_output(huge)->size; j++) {
        same &= rn_net_output(huge)->data[j] == rn_net_output(smallest)->data[j];
        rn_net_output_grad(huge)->data[j] = rn_net_output_grad(smallest)->data[j] = 0.5f - (float)j;
    }
    CHECK(rn_net_backward(huge) == RN_OK && rn_net_backward(smallest) == RN_OK);
    CHECK(largest_allocation < (1 << 22)); /* 216 MB before the fix */
    for (j = 0; j < huge->layers[0]->params[0].grad.size; j++)
        same &= huge->layers[0]->params[0].grad.data[j] == smallest->layers[0]->params[0].grad.data[j];
    CHECK(same);
    rn_tensor_free(&x);
    rn_net_free(huge);
    rn_net_free(smallest);
}

int main(void)
{
    build(&reference_net);
    make_input(&inputs, 4, 2);
    RUN(test_every_allocation_of_construction_fails_cleanly);
    RUN(test_every_allocation_of_loading_fails_cleanly);
    RUN(test_every_allocation_of_a_training_step_fails_cleanly);
    RUN(test_non_finite_steps_change_nothing);
    RUN(test_same_seed_same_bytes);
    RUN(test_huge_stride_needs_little_memory);
    rn_tensor_free(&inputs);
    rn_net_free(reference_net);
    CHECK(live == 0);
    return finish();
}
