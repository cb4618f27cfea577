/* test_activations.c - the activation kinds: gradients, known values,
   projection, freezing, the L1 penalty, and reading learned values. */
#include "relunet.h"
#include "harness.h"
#include "gradcheck.h"

#include <string.h>

#define GRADIENT_TOLERANCE 5e-3

/* Learned values the gradient checks use instead of the defaults, so that
   every term of every formula matters: base + 0.1 * channel. c = d puts
   AReLU's kink at x = 0, where no input lies. */
static float test_value(rn_act_kind kind, int k, int channel)
{
    static const float affine[4] = {1.3f, 0.6f, 0.2f, 0.2f};
    static const float mix[3] = {1.2f, 0.5f, 0.9f};
    float base = 0.0f;
    switch (kind) {
    case RN_ACT_PRELU: base = 0.25f; break;
    case RN_ACT_RELU_ALPHA: base = 0.6f; break;
    case RN_ACT_ASIGMOID:
    case RN_ACT_ATANH:
    case RN_ACT_ARELU: base = affine[k]; break;
    case RN_ACT_MIX_ADAPTIVE: base = k < 3 ? mix[k] : affine[k - 3]; break;
    case RN_ACT_MIX_FIXED: base = mix[k]; break;
    default: break;
    }
    return base + 0.1f * (float)channel;
}

static rn_act_desc act_desc(rn_act_kind kind, rn_share share, const float *init)
{
    rn_act_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.kind = kind;
    desc.share = share;
    desc.init = init;
    return desc;
}

static rn_optim *optimizer(rn_net *net, rn_optim_kind kind, float lr)
{
    rn_optim_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.kind = kind;
    desc.lr = lr;
    return rn_optim_new(net, &desc);
}

/* A network of one activation layer on samples of the given shape. */
static rn_net *single_layer(int ndim, const int *shape, const rn_act_desc *desc)
{
    rn_net *net = rn_net_new(ndim, shape);
    CHECK(net != NULL);
    CHECK(rn_net_add_activation_ex(net, desc) == RN_OK);
    return net;
}

/* Inputs at least 0.055 from 0, where all the kinks of the test values are. */
static void fill_input(rn_tensor *x, uint64_t seed)
{
    size_t i;
    gradcheck_fill_away_from_kinks(x, seed);
    for (i = 0; i < x->size; i++) x->data[i] += x->data[i] > 0.0f ? 0.05f : -0.05f;
}

/* A parameter shared by the whole layer has a one-number gradient, which
   one upstream weighting in a hundred or so makes nearly 0, where float
   rounding in the forward pass (about 1e-4 in the central difference)
   dominates the relative error. So the check takes the best of three
   weightings: a wrong derivative is wrong under all of them. */
static double gradient_error(rn_layer *layer, rn_tensor *x)
{
    double best = INFINITY;
    uint64_t seed;
    for (seed = 1; seed <= 3 && !(best < GRADIENT_TOLERANCE); seed++) {
        double error = gradcheck_layer(layer, x, seed);
        if (error >= 0.0 && error < best) best = error;
    }
    return best;
}

static void check_gradients(rn_act_kind kind, rn_share share, int unnormalized, int ndim,
                            const int *sample_shape)
{
    rn_act_desc desc;
    rn_tensor x;
    rn_net *net;
    rn_layer *layer;
    int shape[RN_MAX_DIMS], k;
    size_t j;
    double error;
    desc = act_desc(kind, share, NULL);
    desc.slope = 0.1f;
    desc.unnormalized = unnormalized;
    net = single_layer(ndim, sample_shape, &desc);
    layer = net->layers[0];
    for (k = 0; k < layer->n_params; k++)
        for (j = 0; j < layer->params[k].value.size; j++)
            layer->params[k].value.data[j] = test_value(kind, k, (int)j);
    shape[0] = 2;
    memcpy(shape + 1, sample_shape, (size_t)ndim * sizeof(int));
    memset(&x, 0, sizeof x);
    CHECK(rn_tensor_new(&x, ndim + 1, shape) == RN_OK);
    fill_input(&x, 11 + (uint64_t)kind);
    error = gradient_error(layer, &x);
    CHECK(error < GRADIENT_TOLERANCE);
    if (!(error < GRADIENT_TOLERANCE))
        fprintf(stderr, "  %s, %s sharing%s, %d-d samples: relative error %g\n",
                rn_act_kind_name(kind), share == RN_SHARE_LAYER ? "layer" : "channel",
                unnormalized ? ", unnormalized" : "", ndim, error);
    rn_tensor_free(&x);
    rn_net_free(net);
}

static void test_gradients_every_kind(void)
{
    static const int image[3] = {3, 4, 5}, features[1] = {6};
    int kind, share;
    for (kind = 0; kind < RN_ACT_KIND_COUNT; kind++)
        for (share = RN_SHARE_LAYER; share <= RN_SHARE_CHANNEL; share++) {
            check_gradients((rn_act_kind)kind, (rn_share)share, 0, 3, image);
            check_gradients((rn_act_kind)kind, (rn_share)share, 0, 1, features);
        }
}

static void test_gradients_unnormalized_mixtures(void)
{
    static const int image[3] = {3, 4, 5};
    int share;
    for (share = RN_SHARE_LAYER; share <= RN_SHARE_CHANNEL; share++) {
        check_gradients(RN_ACT_MIX_ADAPTIVE, (rn_share)share, 1, 3, image);
        check_gradients(RN_ACT_MIX_FIXED, (rn_share)share, 1, 3, image);
    }
}

/* Outputs of one activation layer, with the given initial values, on a
   fixed input spread over [-3, 3]. */
#define KNOWN_COUNT 24

static float known_input(int i)
{
    return -3.0f + 6.0f * (float)i / (KNOWN_COUNT - 1);
}

static void act_outputs(rn_act_kind kind, const float *init, int unnormalized, float *out)
{
    static const int shape[1] = {KNOWN_COUNT};
    rn_act_desc desc = act_desc(kind, RN_SHARE_LAYER, init);
    rn_tensor x;
    rn_net *net;
    int i, batch_shape[2] = {1, KNOWN_COUNT};
    desc.unnormalized = unnormalized;
    net = single_layer(1, shape, &desc);
    memset(&x, 0, sizeof x);
    rn_tensor_new(&x, 2, batch_shape);
    for (i = 0; i < KNOWN_COUNT; i++) x.data[i] = known_input(i);
    CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
    memcpy(out, rn_net_output(net)->data, sizeof(float) * KNOWN_COUNT);
    rn_tensor_free(&x);
    rn_net_free(net);
}

static float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

static void test_known_values(void)
{
    static const float one = 1.0f, zero = 0.0f, relu_line[4] = {1.0f, 0.0f, 0.0f, 0.0f};
    static const float equal_weights[3] = {2.0f, 2.0f, 2.0f}, identity_affine[4] = {1, 1, 0, 0};
    static const float method1_plain[7] = {1, 1, 1, 1, 1, 0, 0};
    static const float method1_tanh_only[7] = {1, 0, 0, 1.5f, 0.8f, -0.3f, 0.2f};
    static const float atanh_params[4] = {1.5f, 0.8f, -0.3f, 0.2f};
    float y[KNOWN_COUNT], reference[KNOWN_COUNT];
    int i;
    act_outputs(RN_ACT_RELU, NULL, 0, reference);
    act_outputs(RN_ACT_RELU_ALPHA, &one, 0, y);
    for (i = 0; i < KNOWN_COUNT; i++) CHECK(y[i] == reference[i]);
    act_outputs(RN_ACT_PRELU, &zero, 0, y);
    for (i = 0; i < KNOWN_COUNT; i++) CHECK(y[i] == reference[i]);
    act_outputs(RN_ACT_ARELU, relu_line, 0, y);
    for (i = 0; i < KNOWN_COUNT; i++) CHECK(y[i] == reference[i]);
    act_outputs(RN_ACT_RELU_ALPHA, NULL, 0, y); /* the default alpha = 1 is ReLU */
    for (i = 0; i < KNOWN_COUNT; i++) CHECK(y[i] == reference[i]);

    act_outputs(RN_ACT_RELU_ALPHA, &zero, 0, y);
    for (i = 0; i < KNOWN_COUNT; i++) CHECK(y[i] == known_input(i));
    act_outputs(RN_ACT_ARELU, NULL, 0, y); /* the default AReLU is the identity */
    for (i = 0; i < KNOWN_COUNT; i++) CHECK(y[i] == known_input(i));
    act_outputs(RN_ACT_LRELU, NULL, 0, y);
    for (i = 0; i < KNOWN_COUNT; i++)
        CHECK_NEAR(y[i], known_input(i) * (known_input(i) >= 0.0f ? 1.0f : 0.01f), 1e-7);
    act_outputs(RN_ACT_PRELU, NULL, 0, y);
    for (i = 0; i < KNOWN_COUNT; i++)
        CHECK_NEAR(y[i], known_input(i) * (known_input(i) > 0.0f ? 1.0f : 0.25f), 1e-7);

    act_outputs(RN_ACT_MIX_FIXED, equal_weights, 0, y);
    for (i = 0; i < KNOWN_COUNT; i++) {
        float x = known_input(i);
        CHECK_NEAR(y[i], (tanhf(x) + sigmoid(x) + (x > 0.0f ? x : 0.0f)) / 3.0f, 1e-6);
    }
    act_outputs(RN_ACT_ASIGMOID, identity_affine, 0, y);
    for (i = 0; i < KNOWN_COUNT; i++) CHECK_NEAR(y[i], sigmoid(known_input(i)), 1e-7);
    act_outputs(RN_ACT_ATANH, NULL, 0, y);
    for (i = 0; i < KNOWN_COUNT; i++) CHECK_NEAR(y[i], tanhf(known_input(i)), 1e-7);
    act_outputs(RN_ACT_MIX_ADAPTIVE, method1_plain, 0, y);
    for (i = 0; i < KNOWN_COUNT; i++) {
        float x = known_input(i);
        CHECK_NEAR(y[i], (tanhf(x) + sigmoid(x) + x) / 3.0f, 1e-6);
    }
    /* unnormalised weights (1, 0, 0) leave method 1's ATanh part alone */
    act_outputs(RN_ACT_MIX_ADAPTIVE, method1_tanh_only, 1, y);
    act_outputs(RN_ACT_ATANH, atanh_params, 0, reference);
    for (i = 0; i < KNOWN_COUNT; i++) CHECK_NEAR(y[i], reference[i], 1e-6);
}

/* Forward, MSE loss against target, backward. */
static void train_step(rn_net *net, const rn_tensor *x, const rn_tensor *target)
{
    float loss;
    CHECK(rn_net_forward(net, x, RN_TRAIN) == RN_OK);
    rn_net_zero_grad(net);
    CHECK(rn_loss_mse(rn_net_output(net), target, &loss, rn_net_output_grad(net)) == RN_OK);
    CHECK(rn_net_backward(net) == RN_OK);
}

/* One ReLU_alpha layer with an alpha per feature, kept in [0, 1]. */
static rn_net *clamped_alphas(int features, float start)
{
    rn_act_desc desc = act_desc(RN_ACT_RELU_ALPHA, RN_SHARE_CHANNEL, &start);
    rn_net *net = single_layer(1, &features, &desc);
    rn_net_set_range(net, RN_PARAMS_NAMED("alpha"), 0.0f, 1.0f);
    return net;
}

static void test_projection_keeps_alpha_in_range(void)
{
    int kind;
    for (kind = RN_SGD; kind <= RN_ADAM; kind++) {
        rn_net *net = clamped_alphas(4, 0.95f);
        rn_optim *opt = optimizer(net, (rn_optim_kind)kind, 0.5f);
        rn_param *alpha = rn_net_param(net, 0);
        /* channels 0 and 1 are pushed up past 1, 2 and 3 down past 0 */
        alpha->grad.data[0] = -3.0f;
        alpha->grad.data[1] = -0.2f;
        alpha->grad.data[2] = 4.0f;
        alpha->grad.data[3] = 40.0f;
        CHECK(rn_optim_step(opt) == RN_OK);
        CHECK(rn_optim_step(opt) == RN_OK);
        CHECK(rn_optim_step(opt) == RN_OK);
        CHECK(alpha->value.data[0] == 1.0f);
        CHECK(alpha->value.data[1] == 1.0f);
        CHECK(alpha->value.data[2] == 0.0f);
        CHECK(alpha->value.data[3] == 0.0f);
        rn_optim_free(opt);
        rn_net_free(net);
    }
}

/* A conv net with a frozen PReLU slope, frozen mixture weights (the
   study's retraining at X = Y = Z = 1/3) and a wholly frozen layer trains
   for a few steps: every frozen value stays bit for bit, the rest move. */
static void test_frozen_parameters_never_move(void)
{
    static const int sample[3] = {2, 6, 6};
    static const float third[7] = {1.0f / 3, 1.0f / 3, 1.0f / 3, 1.1f, 0.9f, 0.1f, 0.0f};
    rn_act_desc prelu = act_desc(RN_ACT_PRELU, RN_SHARE_CHANNEL, NULL);
    rn_act_desc mix = act_desc(RN_ACT_MIX_ADAPTIVE, RN_SHARE_LAYER, third);
    rn_act_desc frozen_layer = act_desc(RN_ACT_ASIGMOID, RN_SHARE_LAYER, NULL);
    rn_tensor x, target;
    rn_param *params[32];
    float before[32][64];
    int count, i, step, shape[4] = {3, 2, 6, 6}, target_shape[2] = {3, 4};
    rn_net *net = rn_net_new(3, sample);
    rn_optim *opt;
    frozen_layer.frozen = 1;
    CHECK(rn_net_add_conv2d(net, 3, 3, 1, 1) == RN_OK);
    CHECK(rn_net_add_activation_ex(net, &prelu) == RN_OK);
    CHECK(rn_net_add_conv2d(net, 3, 3, 1, 1) == RN_OK);
    CHECK(rn_net_add_activation_ex(net, &mix) == RN_OK);
    CHECK(rn_net_add_flatten(net) == RN_OK);
    CHECK(rn_net_add_linear(net, 4) == RN_OK);
    CHECK(rn_net_add_activation_ex(net, &frozen_layer) == RN_OK);
    rn_net_set_frozen(net, RN_PARAMS_NAMED("slope"), 1);
    rn_net_set_frozen(net, RN_PARAMS_NAMED("mix_alpha"), 1);
    rn_net_set_frozen(net, RN_PARAMS_NAMED("mix_beta"), 1);
    rn_net_set_frozen(net, RN_PARAMS_NAMED("mix_gamma"), 1);
    memset(&x, 0, sizeof x);
    memset(&target, 0, sizeof target);
    rn_tensor_new(&x, 4, shape);
    rn_tensor_new(&target, 2, target_shape);
    gradcheck_fill_away_from_kinks(&x, 3);
    gradcheck_fill_away_from_kinks(&target, 4);
    opt = optimizer(net, RN_ADAM, 0.05f);
    count = rn_net_select(net, RN_PARAMS_OF_KIND(RN_PARAM_ACTIVATION), params, 32);
    CHECK(count == 12); /* slope; mix_alpha, mix_beta, mix_gamma, a, b, c, d; a, b, c, d */
    for (i = 0; i < count; i++) memcpy(before[i], params[i]->value.data, params[i]->value.size * sizeof(float));
    for (step = 0; step < 5; step++) {
        train_step(net, &x, &target);
        CHECK(rn_optim_step(opt) == RN_OK);
    }
    for (i = 0; i < count; i++) {
        int same = memcmp(before[i], params[i]->value.data, params[i]->value.size * sizeof(float)) == 0;
        CHECK(same == params[i]->frozen);
        if (same != params[i]->frozen) fprintf(stderr, "  %s\n", params[i]->name);
    }
    CHECK(params[0]->frozen && params[1]->frozen && !params[4]->frozen && params[8]->frozen);
    rn_optim_free(opt);
    rn_tensor_free(&x);
    rn_tensor_free(&target);
    rn_net_free(net);
}

/* Per-feature alphas fit targets made with alpha* = 0.3 (feature 0, inputs
   of size 0.2: a weak pull) and alpha* = 0.8 (feature 1, size 3: a strong
   one) under lambda ||alpha||_1 and the [0, 1] projection. The weak alpha
   must end at exactly 0, the strong one well above. */
static void test_l1_penalty_zeroes_weak_alphas(void)
{
    static const float truth[2] = {0.3f, 0.8f}, size[2] = {0.2f, 3.0f};
    int batch_shape[2] = {16, 2}, n, j, step;
    rn_tensor x, target;
    rn_net *net = clamped_alphas(2, 0.5f);
    rn_optim *opt = optimizer(net, RN_SGD, 0.1f);
    rn_param *alpha = rn_net_param(net, 0);
    memset(&x, 0, sizeof x);
    memset(&target, 0, sizeof target);
    rn_tensor_new(&x, 2, batch_shape);
    rn_tensor_new(&target, 2, batch_shape);
    for (n = 0; n < 16; n++)
        for (j = 0; j < 2; j++) {
            float v = size[j] * (-1.0f + 2.0f * (float)n / 15.0f);
            x.data[n * 2 + j] = v;
            target.data[n * 2 + j] = v > 0.0f ? v : (1.0f - truth[j]) * v;
        }
    for (step = 0; step < 300; step++) {
        train_step(net, &x, &target);
        rn_net_penalty(net, RN_PARAMS_NAMED("alpha"), RN_PENALTY_L1, 0.05f);
        CHECK(rn_optim_step(opt) == RN_OK);
    }
    CHECK(alpha->value.data[0] == 0.0f);
    CHECK(alpha->value.data[1] > 0.7f && alpha->value.data[1] < 0.8f);
    rn_optim_free(opt);
    rn_tensor_free(&x);
    rn_tensor_free(&target);
    rn_net_free(net);
}

static void test_reading_and_recording_values(void)
{
    static const int sample[3] = {3, 2, 2};
    rn_act_desc prelu = act_desc(RN_ACT_PRELU, RN_SHARE_CHANNEL, NULL);
    rn_act_desc mix = act_desc(RN_ACT_MIX_FIXED, RN_SHARE_LAYER, NULL);
    rn_act_value values[16];
    rn_act_recorder recorder;
    rn_net *net = rn_net_new(3, sample);
    int count, step;
    CHECK(rn_net_add_activation_ex(net, &prelu) == RN_OK);
    CHECK(rn_net_add_conv2d(net, 2, 1, 1, 0) == RN_OK);
    CHECK(rn_net_add_activation_ex(net, &mix) == RN_OK);
    rn_net_param(net, 0)->value.data[2] = 0.5f;
    count = rn_net_act_values(net, values, 16);
    CHECK(count == 6);
    CHECK(rn_net_act_values(net, NULL, 0) == 6);
    CHECK(values[0].layer == 0 && strcmp(values[0].layer_name, "act1") == 0);
    CHECK(strcmp(values[2].name, "slope") == 0 && values[2].channel == 2);
    CHECK(values[2].value == 0.5f && values[1].value == 0.25f);
    CHECK(values[3].layer == 2 && strcmp(values[3].layer_name, "act2") == 0);
    CHECK(strcmp(values[5].name, "mix_gamma") == 0 && values[5].channel == 0);
    CHECK(values[5].value == 1.0f);

    memset(&recorder, 0, sizeof recorder);
    for (step = 0; step < 100; step++) {
        rn_net_param(net, 0)->value.data[1] = (float)step;
        CHECK(rn_act_recorder_add(&recorder, net) == RN_OK);
    }
    CHECK(recorder.count == 6 && recorder.snapshots == 100);
    CHECK(recorder.values[37 * 6 + 1] == 37.0f && recorder.values[99 * 6 + 2] == 0.5f);
    CHECK(rn_net_add_activation(net, RN_ACT_RELU_ALPHA) == RN_OK);
    CHECK(rn_act_recorder_add(&recorder, net) == RN_ERR_SHAPE);
    CHECK(recorder.snapshots == 100);
    rn_act_recorder_free(&recorder);
    CHECK(recorder.values == NULL && recorder.snapshots == 0);
    rn_net_free(net);
}

static void test_desc_checks_and_names(void)
{
    static const int shape[1] = {3};
    static const float zero_weights[3] = {0.0f, 0.0f, 0.0f}, not_a_number[1] = {NAN};
    rn_act_desc desc = act_desc(RN_ACT_MIX_FIXED, RN_SHARE_LAYER, zero_weights);
    rn_net *net = rn_net_new(1, shape);
    CHECK(rn_net_add_activation_ex(net, &desc) == RN_ERR_ARGUMENT);
    desc.unnormalized = 1; /* raw weights may all be 0 */
    CHECK(rn_net_add_activation_ex(net, &desc) == RN_OK);
    desc.kind = RN_ACT_PRELU;
    desc.init = not_a_number;
    CHECK(rn_net_add_activation_ex(net, &desc) == RN_ERR_ARGUMENT);
    desc.kind = RN_ACT_KIND_COUNT;
    CHECK(rn_net_add_activation_ex(net, &desc) == RN_ERR_ARGUMENT);
    CHECK(net->n_layers == 1);
    CHECK(rn_act_param_count(RN_ACT_MIX_ADAPTIVE) == 7);
    CHECK(rn_act_param_count(RN_ACT_LRELU) == 0);
    CHECK(strcmp(rn_act_param_name(RN_ACT_MIX_ADAPTIVE, 3), "a") == 0);
    CHECK(strcmp(rn_act_param_name(RN_ACT_RELU_ALPHA, 0), "alpha") == 0);
    CHECK(rn_act_param_name(RN_ACT_PRELU, 1) == NULL);
    CHECK(strcmp(rn_act_kind_name(RN_ACT_MIX_FIXED), "mix_fixed") == 0);
    rn_net_free(net);
}

int main(void)
{
    RUN(test_gradients_every_kind);
    RUN(test_gradients_unnormalized_mixtures);
    RUN(test_known_values);
    RUN(test_projection_keeps_alpha_in_range);
    RUN(test_frozen_parameters_never_move);
    RUN(test_l1_penalty_zeroes_weak_alphas);
    RUN(test_reading_and_recording_values);
    RUN(test_desc_checks_and_names);
    return finish();
}
