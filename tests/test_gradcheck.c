/* Finite-difference gradient checks of every layer, loss and penalty. */
#include "relunet.h"
#include "harness.h"
#include "gradcheck.h"

#include <string.h>

#define TOLERANCE 2e-3

/* A one-layer network on a random (away from kinks) batch; checks it. */
static double check_single_layer(rn_net *net, int batch, uint64_t seed)
{
    rn_tensor x;
    int shape[RN_MAX_DIMS];
    double error;
    shape[0] = batch;
    memcpy(shape + 1, net->in_shape, (size_t)net->in_ndim * sizeof(int));
    rn_tensor_new(&x, net->in_ndim + 1, shape);
    gradcheck_fill_away_from_kinks(&x, seed);
    error = gradcheck_layer(net->layers[net->n_layers - 1], &x, seed);
    rn_tensor_free(&x);
    return error;
}

typedef struct conv_case {
    int in_channels, out_channels, height, width, kernel, stride, padding, batch;
} conv_case;

static void test_conv2d(void)
{
    static const conv_case cases[] = {
        {1, 1, 5, 5, 1, 1, 0, 1}, {1, 3, 7, 5, 3, 1, 1, 2}, {3, 2, 6, 6, 2, 2, 0, 3},
        {2, 4, 9, 7, 3, 2, 1, 1}, {3, 2, 5, 5, 5, 1, 2, 2}, {1, 2, 4, 6, 2, 1, 2, 1},
        {2, 3, 8, 8, 5, 2, 2, 1}, {4, 1, 3, 3, 3, 1, 0, 2}, {1, 15, 28, 28, 2, 2, 0, 1},
        {2, 2, 11, 13, 3, 3, 1, 1}
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const conv_case *c = &cases[i];
        rn_net *net = rn_net_new(3, (int[]){c->in_channels, c->height, c->width});
        double error;
        CHECK(rn_net_add_conv2d(net, c->out_channels, c->kernel, c->stride, c->padding) == RN_OK);
        error = check_single_layer(net, c->batch, 100 + i);
        if (!(error >= 0 && error < TOLERANCE))
            fprintf(stderr, "conv case %lu: relative error %g\n", (unsigned long)i, error);
        CHECK(error >= 0 && error < TOLERANCE);
        rn_net_free(net);
    }
}

static void test_conv2d_without_bias(void)
{
    rn_net *net = rn_net_new(3, (int[]){2, 5, 5});
    CHECK(rn_net_add_conv2d(net, 3, 3, 1, 1) == RN_OK);
    CHECK(rn_net_remove_bias(net) == RN_OK);
    CHECK(net->layers[0]->n_params == 1);
    CHECK(check_single_layer(net, 2, 5) < TOLERANCE);
    rn_net_free(net);
}

static void test_linear(void)
{
    rn_net *net = rn_net_new(1, (int[]){7});
    rn_net *image_net = rn_net_new(3, (int[]){2, 3, 3}); /* linear flattens its input */
    CHECK(rn_net_add_linear(net, 5) == RN_OK);
    CHECK(check_single_layer(net, 3, 1) < TOLERANCE);
    CHECK(rn_net_add_linear(image_net, 4) == RN_OK);
    CHECK(check_single_layer(image_net, 2, 2) < TOLERANCE);
    rn_net_free(net);
    rn_net_free(image_net);
}

static void test_pools(void)
{
    static const int windows[][2] = {{2, 2}, {3, 1}, {3, 2}, {1, 1}};
    size_t i;
    for (i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        rn_net *max = rn_net_new(3, (int[]){3, 7, 6});
        rn_net *avg = rn_net_new(3, (int[]){1, 5, 9});
        CHECK(rn_net_add_maxpool2d(max, windows[i][0], windows[i][1]) == RN_OK);
        CHECK(rn_net_add_avgpool2d(avg, windows[i][0], windows[i][1]) == RN_OK);
        CHECK(check_single_layer(max, 2, 10 + i) < TOLERANCE);
        CHECK(check_single_layer(avg, 3, 20 + i) < TOLERANCE);
        rn_net_free(max);
        rn_net_free(avg);
    }
}

static void test_flatten(void)
{
    rn_net *net = rn_net_new(3, (int[]){2, 3, 4});
    CHECK(rn_net_add_flatten(net) == RN_OK);
    CHECK(net->layers[0]->out_ndim == 1 && net->layers[0]->out_shape[0] == 24);
    CHECK(check_single_layer(net, 2, 3) < TOLERANCE);
    rn_net_free(net);
}

static void test_basic_activations(void)
{
    rn_act_kind kinds[] = {RN_ACT_IDENTITY, RN_ACT_RELU, RN_ACT_SIGMOID, RN_ACT_TANH};
    size_t i;
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        rn_net *image = rn_net_new(3, (int[]){3, 4, 5});
        rn_net *vector = rn_net_new(1, (int[]){6});
        CHECK(rn_net_add_activation(image, kinds[i]) == RN_OK);
        CHECK(rn_net_add_activation(vector, kinds[i]) == RN_OK);
        CHECK(check_single_layer(image, 2, 30 + i) < TOLERANCE);
        CHECK(check_single_layer(vector, 3, 40 + i) < TOLERANCE);
        rn_net_free(image);
        rn_net_free(vector);
    }
}

/* ----- losses ----- */

typedef struct loss_context {
    int kind;
    rn_tensor *input;
    const int *labels;
    const float *targets;
    const rn_tensor *target_tensor;
} loss_context;

enum { CROSS_ENTROPY, BCE, MSE };

static double loss_value(void *context)
{
    loss_context *c = (loss_context *)context;
    float loss = NAN;
    if (c->kind == CROSS_ENTROPY) rn_loss_cross_entropy(c->input, c->labels, &loss, NULL);
    if (c->kind == BCE) rn_loss_bce_logits(c->input, c->targets, &loss, NULL);
    if (c->kind == MSE) rn_loss_mse(c->input, c->target_tensor, &loss, NULL);
    return loss;
}

static void test_losses(void)
{
    int labels[4] = {2, 0, 4, 1}, kind;
    float targets[20];
    rn_tensor input, grad, target;
    rn_rng rng;
    size_t i;
    rn_tensor_new(&input, 2, (int[]){4, 5});
    rn_tensor_new(&grad, 2, (int[]){4, 5});
    rn_tensor_new(&target, 2, (int[]){4, 5});
    rn_rng_seed(&rng, 11, 0);
    for (i = 0; i < 20; i++) {
        input.data[i] = 2.0f * rn_rng_normal(&rng);
        targets[i] = rn_rng_uniform(&rng);
        target.data[i] = rn_rng_normal(&rng);
    }
    for (kind = CROSS_ENTROPY; kind <= MSE; kind++) {
        loss_context context = {0, NULL, NULL, NULL, NULL};
        float loss;
        int status = RN_ERR_ARGUMENT;
        context.kind = kind;
        context.input = &input;
        context.labels = labels;
        context.targets = targets;
        context.target_tensor = &target;
        if (kind == CROSS_ENTROPY) status = rn_loss_cross_entropy(&input, labels, &loss, &grad);
        if (kind == BCE) status = rn_loss_bce_logits(&input, targets, &loss, &grad);
        if (kind == MSE) status = rn_loss_mse(&input, &target, &loss, &grad);
        CHECK(status == RN_OK);
        CHECK_NEAR(loss, loss_value(&context), 1e-6);
        CHECK(gradcheck_vector(input.data, grad.data, input.size, loss_value, &context) < TOLERANCE);
    }
    rn_tensor_free(&input);
    rn_tensor_free(&grad);
    rn_tensor_free(&target);
}

/* Known values: uniform logits give ln K; BCE at logit 0 gives ln 2. */
static void test_loss_values(void)
{
    rn_tensor logits;
    int labels[2] = {0, 3};
    float targets[8] = {0}, loss;
    rn_tensor_new(&logits, 2, (int[]){2, 4});
    CHECK(rn_loss_cross_entropy(&logits, labels, &loss, NULL) == RN_OK);
    CHECK_NEAR(loss, log(4.0), 1e-6);
    CHECK(rn_loss_bce_logits(&logits, targets, &loss, NULL) == RN_OK);
    CHECK_NEAR(loss, log(2.0), 1e-6);
    logits.data[0] = 1000.0f; /* must not overflow */
    CHECK(rn_loss_cross_entropy(&logits, labels, &loss, NULL) == RN_OK);
    CHECK(isfinite(loss));
    rn_tensor_free(&logits);
}

/* ----- penalties ----- */

typedef struct penalty_context {
    rn_net *net;
    rn_penalty_kind kind;
} penalty_context;

static double penalty_value(void *context)
{
    penalty_context *c = (penalty_context *)context;
    double value;
    rn_net_zero_grad(c->net);
    value = rn_net_penalty(c->net, RN_PARAMS_OF_KIND(RN_PARAM_WEIGHT), c->kind, 0.3f);
    rn_net_zero_grad(c->net);
    return value;
}

static void test_penalties(void)
{
    rn_penalty_kind kinds[] = {RN_PENALTY_L1, RN_PENALTY_L2, RN_PENALTY_L2_NORM};
    size_t i;
    for (i = 0; i < 3; i++) {
        rn_net *net = rn_net_new(1, (int[]){4});
        penalty_context context;
        rn_param *weight, *bias;
        rn_tensor grad;
        double value;
        size_t j;
        rn_net_add_linear(net, 3);
        weight = rn_net_param(net, 0);
        bias = rn_net_param(net, 1);
        gradcheck_fill_away_from_kinks(&weight->value, 50 + i);
        rn_net_zero_grad(net);
        value = rn_net_penalty(net, RN_PARAMS_OF_KIND(RN_PARAM_WEIGHT), kinds[i], 0.3f);
        CHECK(value > 0);
        memset(&grad, 0, sizeof grad);
        rn_tensor_new(&grad, weight->grad.ndim, weight->grad.shape);
        rn_tensor_copy(&grad, &weight->grad);
        for (j = 0; j < bias->grad.size; j++) CHECK(bias->grad.data[j] == 0.0f); /* not selected */
        context.net = net;
        context.kind = kinds[i];
        CHECK_NEAR(value, penalty_value(&context), 1e-6);
        CHECK(gradcheck_vector(weight->value.data, grad.data, grad.size, penalty_value, &context) <
              TOLERANCE);
        rn_tensor_free(&grad);
        rn_net_free(net);
    }
}

static void test_l1_subgradient_at_zero(void)
{
    rn_net *net = rn_net_new(1, (int[]){2});
    rn_param *weight;
    rn_net_add_linear(net, 1);
    weight = rn_net_param(net, 0);
    weight->value.data[0] = 0.0f;
    weight->value.data[1] = -2.0f;
    rn_net_zero_grad(net);
    CHECK_NEAR(rn_net_penalty(net, RN_PARAMS_NAMED("weight"), RN_PENALTY_L1, 0.5f), 1.0, 1e-7);
    CHECK(weight->grad.data[0] == 0.0f);
    CHECK(weight->grad.data[1] == -0.5f);
    rn_net_free(net);
}

int main(void)
{
    RUN(test_conv2d);
    RUN(test_conv2d_without_bias);
    RUN(test_linear);
    RUN(test_pools);
    RUN(test_flatten);
    RUN(test_basic_activations);
    RUN(test_losses);
    RUN(test_loss_values);
    RUN(test_penalties);
    RUN(test_l1_subgradient_at_zero);
    return finish();
}
