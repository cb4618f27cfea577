/* The exported ReLU_alpha network (firmware/export_relu_alpha.c writes its
   header before this test is compiled) runs with no heap at all: this file
   compiles relunet.h with an allocator that always fails. Its parameters
   are bit-exact copies of the exporter's, and its logits are the ones the
   exporter computed on the heap. So are its int8 export's outputs
   (rn_qnet_export_c), and rn_qnet_check refuses a damaged copy of it. */
#include <stdint.h>
#include <string.h>

#define RN_MALLOC(size) NULL
#define RN_FREE(pointer) ((void)(pointer))
/* The SIMD kernels need scratch memory; heap-free builds run the scalar
   ones (and the exporter computes its reference logits with them too). */
#define RELUNET_NO_SIMD
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "harness.h"

#include "relu_alpha_model.h"
#include "relu_alpha_reference.h"
#include "relu_alpha_int8_model.h"
#include "relu_alpha_int8_reference.h"

enum { BATCH = RELU_ALPHA_REFERENCE_BATCH };

static unsigned char memory[RELU_ALPHA_ARENA_BYTES(BATCH)];
static float input[sizeof relu_alpha_reference_input / sizeof(uint32_t)];

static void test_no_heap_is_available(void)
{
    CHECK(rn_net_new(1, (int[]){4}) == NULL);
    CHECK(strstr(rn_last_error(), "cannot allocate") != NULL);
}

static void test_exported_net_runs_from_the_arena(void)
{
    rn_arena arena;
    rn_net *net;
    rn_tensor x, one;
    int i;
    rn_arena_init(&arena, memory, sizeof memory);
    CHECK(relu_alpha_build(&arena, BATCH, &net) == RN_OK);
    if (net == NULL) {
        fprintf(stderr, "%s\n", rn_last_error());
        return;
    }
    CHECK(rn_net_param_count(net) == (int)(sizeof relu_alpha_reference_params /
                                           sizeof *relu_alpha_reference_params));
    for (i = 0; i < rn_net_param_count(net); i++) {
        const rn_param *param = rn_net_param(net, i);
        CHECK(memcmp(param->value.data, relu_alpha_reference_params[i],
                     param->value.size * sizeof(float)) == 0);
    }
    memcpy(input, relu_alpha_reference_input, sizeof input);
    x = rn_tensor_view(input, 4, (int[]){BATCH, 1, 28, 28});
    CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
    CHECK(rn_net_output(net)->size * sizeof(float) == sizeof relu_alpha_reference_logits);
    CHECK(memcmp(rn_net_output(net)->data, relu_alpha_reference_logits,
                 sizeof relu_alpha_reference_logits) == 0);
    /* A smaller batch reuses the same buffers. */
    one = rn_tensor_slice(&x, 1, 1);
    CHECK(rn_net_forward(net, &one, RN_EVAL) == RN_OK);
    CHECK(memcmp(rn_net_output(net)->data, relu_alpha_reference_logits + 10,
                 10 * sizeof(float)) == 0);
    /* The input can live in the arena, which the pass then overwrites. */
    CHECK(rn_net_arena_input(net) != NULL);
    if (rn_net_arena_input(net) != NULL) {
        memcpy(rn_net_arena_input(net), relu_alpha_reference_input, sizeof input);
        x = rn_tensor_view(rn_net_arena_input(net), 4, (int[]){BATCH, 1, 28, 28});
        CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
        CHECK(memcmp(rn_net_output(net)->data, relu_alpha_reference_logits,
                     sizeof relu_alpha_reference_logits) == 0);
    }
    CHECK(rn_net_arena_input(NULL) == NULL);
    /* The compile-time size bounds the run-time one, by at most the rounding
       of each layer's block, and all of the run-time size was needed. */
    CHECK(rn_net_arena_bytes(net, BATCH) <= sizeof memory &&
          sizeof memory <= rn_net_arena_bytes(net, BATCH) + 63 * (size_t)net->n_layers);
    CHECK(arena.used + 63 >= rn_net_arena_bytes(net, BATCH) &&
          arena.used <= rn_net_arena_bytes(net, BATCH));
}

static void test_too_small_an_arena_fails_cleanly(void)
{
    rn_arena arena;
    rn_net *whole;
    size_t size, needed;
    int built = 0;
    rn_arena_init(&arena, memory, sizeof memory);
    CHECK(relu_alpha_build(&arena, BATCH, &whole) == RN_OK);
    if (whole == NULL) return;
    needed = rn_net_arena_bytes(whole, BATCH);
    for (size = 0; size < needed - 64; size += 256) {
        rn_net *net;
        rn_tensor x;
        rn_arena_init(&arena, memory, size);
        relu_alpha_build(&arena, BATCH, &net);
        x = rn_tensor_view(input, 4, (int[]){BATCH, 1, 28, 28});
        built += net != NULL && rn_net_forward(net, &x, RN_EVAL) == RN_OK;
        CHECK(arena.used <= size);
    }
    CHECK(built == 0);
}

/* rn_net_bind_params_checked, which the exported builder ends with, refuses
   values that are not the exporter's, and leaves the network as it was. */
static void test_damaged_parameters_are_refused(void)
{
    enum { PARAMS = sizeof relu_alpha_reference_params / sizeof *relu_alpha_reference_params };
    static float pool[4096];
    const float *values[PARAMS];
    size_t counts[PARAMS], used = 0;
    rn_arena arena;
    rn_net *net;
    int i;
    rn_arena_init(&arena, memory, sizeof memory);
    CHECK(relu_alpha_build(&arena, BATCH, &net) == RN_OK);
    if (net == NULL) return;
    for (i = 0; i < PARAMS; i++) {
        counts[i] = rn_net_param(net, i)->value.size;
        CHECK(used + counts[i] <= sizeof pool / sizeof *pool);
        memcpy(pool + used, relu_alpha_reference_params[i], counts[i] * sizeof(float));
        values[i] = pool + used;
        used += counts[i];
    }
    CHECK(rn_net_bind_params_checked(net, PARAMS, values, counts, RELU_ALPHA_PARAMS_CRC32) ==
          RN_OK);
    CHECK(rn_net_param(net, 0)->value.data == pool);
    rn_arena_init(&arena, memory, sizeof memory); /* again, bound to the header's arrays */
    CHECK(relu_alpha_build(&arena, BATCH, &net) == RN_OK);
    if (net == NULL) return;
    pool[used - 1] = nextafterf(pool[used - 1], 1.0f);     /* one bit of one value */
    CHECK(rn_net_bind_params_checked(net, PARAMS, values, counts, RELU_ALPHA_PARAMS_CRC32) ==
          RN_ERR_FORMAT);
    CHECK(strstr(rn_last_error(), "CRC-32") != NULL);
    pool[used - 1] = nextafterf(pool[used - 1], -1.0f);
    counts[PARAMS - 1]--;
    CHECK(rn_net_bind_params_checked(net, PARAMS, values, counts, RELU_ALPHA_PARAMS_CRC32) ==
          RN_ERR_FORMAT);
    CHECK(strstr(rn_last_error(), rn_net_param(net, PARAMS - 1)->name) != NULL);
    counts[PARAMS - 1]++;
    CHECK(rn_net_bind_params_checked(net, PARAMS - 1, values, counts, RELU_ALPHA_PARAMS_CRC32) ==
          RN_ERR_FORMAT);
    CHECK(rn_net_bind_params_checked(net, PARAMS, values, NULL, 0) == RN_ERR_ARGUMENT);
    for (i = 0; i < PARAMS; i++) /* still the header's arrays */
        CHECK(memcmp(rn_net_param(net, i)->value.data, relu_alpha_reference_params[i],
                     counts[i] * sizeof(float)) == 0 && rn_net_param(net, i)->value.data != values[i]);
}

static void test_int8_export_runs_with_no_heap(void)
{
    static int8_t output[sizeof board_qreference_output];
    CHECK(rn_qnet_check(&relu_alpha_qnet, RELU_ALPHA_QNET_CRC32) == RN_OK);
    CHECK(RELU_ALPHA_QNET_IN_SIZE * BOARD_QREFERENCE_BATCH == sizeof board_qreference_input);
    CHECK(rn_qnet_forward(&relu_alpha_qnet, board_qreference_input, BOARD_QREFERENCE_BATCH,
                          output) == RN_OK);
    CHECK(memcmp(output, board_qreference_output, sizeof output) == 0);
}

/* A writable copy of the exported network: its layer table and one layer's
   arrays copied, so that a test can damage them. */
static rn_qlayer damaged_layers[sizeof relu_alpha_qlayers / sizeof *relu_alpha_qlayers];
static int8_t damaged_weights[sizeof relu_alpha_qconv2_weights];
static rn_qmultiplier damaged_slopes[1];

static rn_qnet undamaged_copy(void)
{
    rn_qnet copy = relu_alpha_qnet;
    memcpy(damaged_layers, relu_alpha_qlayers, sizeof damaged_layers);
    memcpy(damaged_weights, relu_alpha_qconv2_weights, sizeof damaged_weights);
    memcpy(damaged_slopes, relu_alpha_qact2_slope_requant, sizeof damaged_slopes);
    damaged_layers[2].weights = damaged_weights;
    damaged_layers[3].slope_requant = damaged_slopes;
    copy.layers = damaged_layers;
    return copy;
}

static int refused(const rn_qnet *qnet, const char *says)
{
    return rn_qnet_check(qnet, RELU_ALPHA_QNET_CRC32) == RN_ERR_FORMAT &&
           strstr(rn_last_error(), says) != NULL;
}

static void test_damaged_int8_exports_are_refused(void)
{
    rn_qnet qnet = undamaged_copy();
    CHECK(strcmp(damaged_layers[2].name, "conv2") == 0 && strcmp(damaged_layers[3].name, "act2") == 0);
    CHECK(rn_qnet_check(&qnet, RELU_ALPHA_QNET_CRC32) == RN_OK);
    damaged_weights[17] ^= 1;
    CHECK(refused(&qnet, "CRC-32"));
    qnet = undamaged_copy();
    damaged_layers[7].out_shape[0] = 9; /* linear1 with 10 units */
    CHECK(refused(&qnet, "layer 7 has an output whose size differs from the layer's units"));
    qnet = undamaged_copy();
    damaged_layers[2].stride = 1;
    CHECK(refused(&qnet, "layer 2 has an output height or width"));
    qnet = undamaged_copy();
    damaged_layers[4].in.zero_point += 1;
    CHECK(refused(&qnet, "layer 4 has an input quantisation"));
    qnet = undamaged_copy();
    damaged_slopes[0].shift = 31;
    CHECK(refused(&qnet, "layer 3 has a slope multiplier out of range"));
    qnet = undamaged_copy();
    damaged_layers[2].output_buffer = damaged_layers[1].output_buffer;
    CHECK(refused(&qnet, "layer 2 has an output in the buffer it reads"));
    qnet = undamaged_copy();
    qnet.buffer_bytes[0] = 10;
    CHECK(refused(&qnet, "an output larger than its buffer"));
    qnet = undamaged_copy();
    qnet.out_size = 9;
    CHECK(refused(&qnet, "the output of layer 7"));
    CHECK(rn_qnet_check(NULL, 0) == RN_ERR_ARGUMENT);
}

int main(void)
{
    RUN(test_no_heap_is_available);
    RUN(test_exported_net_runs_from_the_arena);
    RUN(test_too_small_an_arena_fails_cleanly);
    RUN(test_damaged_parameters_are_refused);
    RUN(test_int8_export_runs_with_no_heap);
    RUN(test_damaged_int8_exports_are_refused);
    return finish();
}
