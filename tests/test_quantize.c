/* Int8 post-training quantisation (rn_net_quantize): the fixed-point
   arithmetic against hand-worked values, every layer of small networks
   against a reference that dequantises, computes in double and
   requantises (within 1 LSB), the saturation edges, determinism, refusals,
   and int8 against float accuracy on Fashion-MNIST when it is installed.
   This file compiles the library with a counting allocator, to show that
   the int8 forward pass allocates nothing. */
#include <stddef.h>
#include <stdlib.h>

static long allocations;
static void *counting_malloc(size_t size)
{
    allocations++;
    return malloc(size);
}
#define RN_MALLOC(size) counting_malloc(size)
#define RN_FREE(pointer) free(pointer)
#define RELUNET_IMPLEMENTATION
#include "relunet_data.h"
#include "harness.h"
#include "study_net.h"

#include <string.h>

static rn_rng rng;

static void fill_uniform(rn_tensor *t, float low, float high)
{
    size_t i;
    for (i = 0; i < t->size; i++) t->data[i] = low + (high - low) * rn_rng_uniform(&rng);
}

/* ----- the arithmetic ----- */

static rn_qmultiplier multiplier_of(double factor)
{
    rn_qmultiplier m;
    CHECK(rn_quantize_multiplier(factor, &m) == RN_OK);
    return m;
}

static void test_multiplier_encoding(void)
{
    rn_qmultiplier m = multiplier_of(0.5);
    CHECK(m.multiplier == 1 << 30 && m.shift == 0);
    m = multiplier_of(1.0); /* 0.5 x 2^1 */
    CHECK(m.multiplier == 1 << 30 && m.shift == 1);
    m = multiplier_of(-0.75);
    CHECK(m.multiplier == -1610612736 && m.shift == 0);
    /* Just below 1: the fraction rounds up to 2^31 and is halved. */
    m = multiplier_of(1.0 - ldexp(1.0, -40));
    CHECK(m.multiplier == 1 << 30 && m.shift == 1);
    m = multiplier_of(1.0 - ldexp(1.0, -30));
    CHECK(m.multiplier == 2147483646 && m.shift == 0);
    /* 2^-32 is the smallest kept; below it the factor is 0. */
    m = multiplier_of(ldexp(1.0, -32));
    CHECK(m.multiplier == 1 << 30 && m.shift == -31);
    m = multiplier_of(ldexp(1.0, -34));
    CHECK(m.multiplier == 0 && m.shift == 0);
    m = multiplier_of(0.0);
    CHECK(m.multiplier == 0 && m.shift == 0);
    CHECK(rn_quantize_multiplier(ldexp(1.0, 30), &m) == RN_ERR_NUMERIC);
    CHECK(rn_quantize_multiplier(NAN, &m) == RN_ERR_NUMERIC);
    CHECK(rn_quantize_multiplier(0.5, NULL) == RN_ERR_ARGUMENT);
}

/* Ties as gemmlowp rounds them: the high multiply rounds halves up, the
   division by a power of two rounds them away from zero. */
static void test_multiplier_rounding(void)
{
    rn_qmultiplier half = multiplier_of(0.5), quarter = multiplier_of(0.25);
    rn_qmultiplier one = multiplier_of(1.0), tiny = multiplier_of(ldexp(1.0, -32));
    int32_t x;
    CHECK(rn_qmultiplier_apply(1, half) == 1);   /* 0.5 */
    CHECK(rn_qmultiplier_apply(-1, half) == 0);  /* -0.5 */
    CHECK(rn_qmultiplier_apply(3, half) == 2);   /* 1.5 */
    CHECK(rn_qmultiplier_apply(-3, half) == -1); /* -1.5 */
    CHECK(rn_qmultiplier_apply(2, quarter) == 1);   /* 0.5 */
    CHECK(rn_qmultiplier_apply(-2, quarter) == -1); /* -0.5 */
    CHECK(rn_qmultiplier_apply(6, quarter) == 2);   /* 1.5 */
    CHECK(rn_qmultiplier_apply(-6, quarter) == -2); /* -1.5 */
    for (x = -300; x <= 300; x++) CHECK(rn_qmultiplier_apply(x, one) == x);
    /* Saturation: the doubling of INT32_MIN by -2^31, and a left shift. */
    CHECK(rn_qmultiplier_apply(INT32_MIN, (rn_qmultiplier){INT32_MIN, 0}) == INT32_MAX);
    CHECK(rn_qmultiplier_apply(INT32_MAX, multiplier_of(4.0)) == 1 << 30);
    CHECK(rn_qmultiplier_apply(INT32_MIN, multiplier_of(4.0)) == -(1 << 30));
    /* (2^31 - 1) 2^-32 is 0.4999...: the high multiply rounds it to 2^30,
       a tie for the division by 2^31, which rounds it away from zero. */
    CHECK(rn_qmultiplier_apply(INT32_MAX, tiny) == 1);
    CHECK(rn_qmultiplier_apply(INT32_MIN, tiny) == -1);
}

/* The result is x times the factor rounded twice: to an integer by the
   high multiply, then by the division by 2^right. So it is the nearest
   integer unless the product lies within 0.5 / 2^right of a tie, and never
   further than that plus 0.5. */
static void test_multiplier_matches_real_product(void)
{
    static const double factors[] = {0.999999, 0.7, 0.3, 1.9, 3.7, 1e-3, 1e-6, -0.4, -1.3, 120.0};
    int f, i, off = 0;
    for (f = 0; f < (int)(sizeof factors / sizeof *factors); f++) {
        rn_qmultiplier m = multiplier_of(factors[f]);
        double exact = m.multiplier * ldexp(1.0, m.shift - 31);
        CHECK(fabs(exact - factors[f]) <= fabs(factors[f]) * ldexp(1.0, -30));
        for (i = 0; i < 2000; i++) {
            int32_t x = (int32_t)rn_rng_below(&rng, 2000001) - 1000000;
            double product = x * exact, margin = ldexp(0.5, m.shift < 0 ? m.shift : 0) + 1e-6;
            int32_t got = rn_qmultiplier_apply(x, m);
            off += fabs(got - product) > 0.5 + margin;
            if (fabs(product - floor(product) - 0.5) < margin) continue;
            off += got != (int32_t)floor(product + 0.5);
        }
    }
    CHECK(off == 0);
}

/* PyTorch's MinMaxObserver (qint8, per tensor affine) on worked ranges. */
static void test_activation_parameters(void)
{
    rn_qparams p = rn_qparams_from_range(0.0f, 1.0f);
    CHECK(p.scale == 1.0f / 255.0f && p.zero_point == -128);
    p = rn_qparams_from_range(-1.0f, 1.0f); /* -1 / scale is -127.499992 in float32 */
    CHECK(p.scale == 2.0f / 255.0f && p.zero_point == -1);
    /* A range of 255 / 256, so the scale is 2^-8 and -min / scale exactly
       126.5: half to even gives -126 (half away from zero would give -127). */
    p = rn_qparams_from_range(-0.494140625f, 0.501953125f);
    CHECK(p.scale == 0.00390625f && p.zero_point == -2);
    p = rn_qparams_from_range(2.0f, 5.0f);  /* widened to [0, 5] */
    CHECK(p.scale == 5.0f / 255.0f && p.zero_point == -128);
    p = rn_qparams_from_range(-3.0f, -1.0f); /* widened to [-3, 0] */
    CHECK(p.scale == 3.0f / 255.0f && p.zero_point == 127);
    p = rn_qparams_from_range(0.0f, 0.0f);
    CHECK(p.scale == FLT_EPSILON && p.zero_point == -128);
    p = rn_qparams_from_range(-0.5f, 2.0f);
    CHECK(p.zero_point == -128 - (int)rintf(-0.5f / (2.5f / 255.0f)));
}

static void test_value_saturation(void)
{
    rn_qparams p = rn_qparams_from_range(0.0f, 1.0f);
    CHECK(rn_quantize_value(1.0f, p) == 127);
    CHECK(rn_quantize_value(0.0f, p) == -128);
    CHECK(rn_quantize_value(1.5f, p) == 127);
    CHECK(rn_quantize_value(-7.0f, p) == -128);
    CHECK(rn_quantize_value(1e30f, p) == 127);
    CHECK(rn_quantize_value(-1e30f, p) == -128);
    CHECK(rn_quantize_value(-INFINITY, p) == -128);
    CHECK(rn_quantize_value(INFINITY, p) == 127);
    CHECK(rn_dequantize_value(127, p) == 255 * p.scale);
    CHECK(rn_dequantize_value(-128, p) == 0.0f);
    p = rn_qparams_from_range(-0.494140625f, 0.501953125f);
    CHECK(rn_quantize_value(0.0f, p) == -2 && rn_quantize_value(-0.494140625f, p) == -128);
    CHECK(rn_quantize_value(0.501953125f, p) == 126); /* 128.5 steps: to even */
}

/* ----- layer by layer against a double reference ----- */

static int8_t requantize_reference(double value, rn_qparams out)
{
    double q = out.zero_point + floor(value / out.scale + 0.5);
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

static double dequantized(int8_t q, rn_qparams p)
{
    return (double)p.scale * (q - p.zero_point);
}

/* The real value of output c at (oh, ow) of a conv2d or linear layer from
   dequantised input, weights and bias. */
static double reference_weighted(const rn_qlayer *l, const int8_t *x, int c, int oh, int ow)
{
    double scale = l->weight_scales[c], sum = (double)l->bias[c] * l->in.scale * scale;
    int ic, i, j;
    if (l->type == RN_LAYER_LINEAR) {
        size_t in = (size_t)l->in_shape[0] * (l->in_ndim == 3 ? (size_t)l->in_shape[1] * l->in_shape[2] : 1), k;
        for (k = 0; k < in; k++) sum += l->weights[(size_t)c * in + k] * scale * dequantized(x[k], l->in);
        return sum;
    }
    for (ic = 0; ic < l->in_shape[0]; ic++)
        for (i = 0; i < l->kernel; i++)
            for (j = 0; j < l->kernel; j++) {
                int row = oh * l->stride - l->padding + i, col = ow * l->stride - l->padding + j;
                if (row < 0 || row >= l->in_shape[1] || col < 0 || col >= l->in_shape[2]) continue;
                sum += l->weights[(((size_t)c * l->in_shape[0] + ic) * l->kernel + i) * l->kernel + j] *
                       scale * dequantized(x[((size_t)ic * l->in_shape[1] + row) * l->in_shape[2] + col], l->in);
            }
    return sum;
}

static double reference_pool(const rn_qlayer *l, const int8_t *x, int c, int oh, int ow)
{
    double best = -1e300, sum = 0.0;
    int i, j;
    for (i = 0; i < l->kernel; i++)
        for (j = 0; j < l->kernel; j++) {
            double v = dequantized(x[((size_t)c * l->in_shape[1] + oh * l->stride + i) * l->in_shape[2] +
                                     ow * l->stride + j], l->in);
            best = v > best ? v : best;
            sum += v;
        }
    return l->type == RN_LAYER_MAXPOOL2D ? best : sum / (l->kernel * l->kernel);
}

/* The slope of channel c of float activation layer. */
static double reference_slope(const rn_layer *layer, int c)
{
    int at = layer->act.share == RN_SHARE_CHANNEL ? c : 0;
    switch (layer->act.kind) {
    case RN_ACT_RELU: return 0.0;
    case RN_ACT_LRELU: return layer->act.slope;
    case RN_ACT_PRELU: return layer->params[0].value.data[at];
    case RN_ACT_RELU_ALPHA: return 1.0 - layer->params[0].value.data[at];
    default: return 1.0;
    }
}

/* Every output of qlayer (float layer `layer`) for input x against the
   reference: the largest difference in LSB; counts saturated outputs. */
static int reference_difference(const rn_qlayer *l, const rn_layer *layer, const int8_t *x,
                                const int8_t *y, int *saturated)
{
    int channels = l->out_shape[0];
    int height = l->out_ndim == 3 ? l->out_shape[1] : 1, width = l->out_ndim == 3 ? l->out_shape[2] : 1;
    int c, oh, ow, worst = 0;
    for (c = 0; c < channels; c++)
        for (oh = 0; oh < height; oh++)
            for (ow = 0; ow < width; ow++) {
                size_t at = ((size_t)c * height + oh) * width + ow;
                double real;
                int8_t expected;
                if (l->type == RN_LAYER_CONV2D || l->type == RN_LAYER_LINEAR)
                    real = reference_weighted(l, x, c, oh, ow);
                else if (l->type == RN_LAYER_MAXPOOL2D || l->type == RN_LAYER_AVGPOOL2D)
                    real = reference_pool(l, x, c, oh, ow);
                else if (l->type == RN_LAYER_ACTIVATION) {
                    real = dequantized(x[at], l->in);
                    if (real < 0.0) real *= reference_slope(layer, c);
                } else
                    real = dequantized(x[at], l->in);
                expected = requantize_reference(real, l->out);
                *saturated += y[at] == -128 || y[at] == 127;
                if (abs(expected - y[at]) > worst) worst = abs(expected - y[at]);
            }
    return worst;
}

/* Quantises net on calibration, then walks inputs through it layer by
   layer, checking each layer within 1 LSB. Returns saturated outputs. */
static int check_layers_against_reference(const rn_net *net, const rn_tensor *calibration,
                                          const rn_tensor *inputs)
{
    rn_qnet *qnet;
    rn_net *folded;
    int8_t *a = malloc(65536), *b = malloc(65536), *final = malloc(65536);
    int n, i, saturated = 0;
    size_t j;
    CHECK(rn_net_quantize(net, calibration, &qnet) == RN_OK);
    CHECK(rn_net_fold_batchnorm(net, &folded) == RN_OK);
    if (qnet == NULL || folded == NULL || a == NULL || b == NULL || final == NULL) {
        fprintf(stderr, "%s\n", rn_last_error());
        return 0;
    }
    CHECK(qnet->n_layers == folded->n_layers);
    for (n = 0; n < inputs->shape[0]; n++) {
        const float *x = inputs->data + (size_t)n * qnet->in_size;
        for (j = 0; j < qnet->in_size; j++) a[j] = rn_quantize_value(x[j], qnet->layers[0].in);
        CHECK(rn_qnet_forward(qnet, a, 1, final) == RN_OK);
        for (i = 0; i < qnet->n_layers; i++) {
            int8_t *swap;
            int worst;
            CHECK(rn_qlayer_forward(&qnet->layers[i], a, b) == RN_OK);
            worst = reference_difference(&qnet->layers[i], folded->layers[i], a, b, &saturated);
            if (worst > 1) fprintf(stderr, "%s: %d LSB from the reference\n", qnet->layers[i].name, worst);
            CHECK(worst <= 1);
            swap = a, a = b, b = swap;
        }
        /* The whole pass computes what the layers do one by one. */
        CHECK(memcmp(final, a, qnet->out_size) == 0);
    }
    rn_net_free(folded);
    rn_qnet_free(qnet);
    free(a), free(b), free(final);
    return saturated;
}

static void set_values(rn_net *net, const char *name, float low, float high)
{
    rn_param *params[16];
    int i, n = rn_net_select(net, RN_PARAMS_NAMED(name), params, 16);
    for (i = 0; i < n; i++) fill_uniform(&params[i]->value, low, high);
}

/* conv (padded) + ReLU + max pool + conv (strided) + LReLU + average pool +
   flatten + linear + shared PReLU with a negative slope + linear. */
static rn_net *make_plain_net(void)
{
    rn_net *net = rn_net_new(3, (int[]){3, 8, 8});
    const rn_act_desc lrelu = {.kind = RN_ACT_LRELU, .slope = 0.1f};
    const rn_act_desc prelu = {.kind = RN_ACT_PRELU, .init = (const float[]){-0.3f}};
    rn_net_add_conv2d(net, 4, 3, 1, 1);
    rn_net_add_activation(net, RN_ACT_RELU);
    rn_net_add_maxpool2d(net, 2, 2);
    rn_net_add_conv2d(net, 5, 2, 2, 0);
    rn_net_add_activation_ex(net, &lrelu);
    rn_net_add_avgpool2d(net, 2, 2);
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 6);
    rn_net_add_activation_ex(net, &prelu);
    rn_net_add_linear(net, 3);
    CHECK(net->n_layers == 10);
    rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, 3);
    return net;
}

/* conv + batch norm + per-channel PReLU + conv + batch norm + per-channel
   ReLU_alpha + dropout + linear + identity, the slopes drawn on both sides
   of 0 and beyond 1. */
static rn_net *make_norm_net(void)
{
    rn_net *net = rn_net_new(3, (int[]){2, 9, 9});
    const rn_act_desc prelu = {.kind = RN_ACT_PRELU, .share = RN_SHARE_CHANNEL};
    const rn_act_desc relu_alpha = {.kind = RN_ACT_RELU_ALPHA, .share = RN_SHARE_CHANNEL};
    int i;
    rn_net_add_conv2d(net, 6, 3, 2, 1);
    rn_net_add_batchnorm(net);
    rn_net_add_activation_ex(net, &prelu);
    rn_net_add_conv2d(net, 4, 2, 1, 0);
    rn_net_add_batchnorm(net);
    rn_net_add_activation_ex(net, &relu_alpha);
    rn_net_add_dropout(net, 0.5f);
    rn_net_add_linear(net, 5);
    rn_net_add_activation(net, RN_ACT_IDENTITY);
    CHECK(net->n_layers == 9);
    rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, 4);
    set_values(net, "slope", -0.5f, 1.5f);
    set_values(net, "alpha", -0.5f, 1.5f);
    set_values(net, "scale", 0.5f, 2.0f);
    set_values(net, "shift", -0.5f, 0.5f);
    for (i = 0; i < net->n_layers; i++)
        if (net->layers[i]->type == RN_LAYER_BATCHNORM) {
            fill_uniform(&net->layers[i]->running_mean, -0.3f, 0.3f);
            fill_uniform(&net->layers[i]->running_var, 0.1f, 2.0f);
        }
    return net;
}

/* Wider than the int8 convolution's stack blocks: 40 output channels (32
   a block), 30 x 3 x 3 = 270 taps (256 a block), padded; a shared ReLU
   over 1,000 values (through a table) and a per-channel PReLU. */
static rn_net *make_wide_net(void)
{
    rn_net *net = rn_net_new(3, (int[]){30, 5, 5});
    const rn_act_desc prelu = {.kind = RN_ACT_PRELU, .share = RN_SHARE_CHANNEL};
    rn_net_add_conv2d(net, 40, 3, 1, 1);
    rn_net_add_activation(net, RN_ACT_RELU);
    rn_net_add_conv2d(net, 3, 3, 2, 1);
    rn_net_add_activation_ex(net, &prelu);
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 4);
    CHECK(net->n_layers == 6);
    rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, 5);
    set_values(net, "slope", -0.5f, 1.5f);
    return net;
}

static void batch_of(rn_tensor *t, const rn_net *net, int batch, float low, float high)
{
    int shape[RN_MAX_DIMS];
    shape[0] = batch;
    memcpy(shape + 1, net->in_shape, (size_t)net->in_ndim * sizeof(int));
    CHECK(rn_tensor_new(t, net->in_ndim + 1, shape) == RN_OK);
    fill_uniform(t, low, high);
}

static void test_layers_match_reference(void)
{
    rn_net *nets[3];
    int k;
    nets[0] = make_plain_net();
    nets[1] = make_norm_net();
    nets[2] = make_wide_net();
    for (k = 0; k < 3; k++) {
        rn_tensor calibration, inputs;
        batch_of(&calibration, nets[k], 40, -1.0f, 1.0f);
        batch_of(&inputs, nets[k], 20, -1.0f, 1.0f);
        check_layers_against_reference(nets[k], &calibration, &inputs);
        rn_tensor_free(&calibration);
        rn_tensor_free(&inputs);
        rn_net_free(nets[k]);
    }
}

/* Inputs four times wider than the calibration saw: the input, the sums
   and the activations saturate at -128 and 127, still within 1 LSB. */
static void test_saturation_beyond_calibration(void)
{
    rn_net *net;
    rn_tensor calibration, inputs;
    rn_rng_seed(&rng, 14, 3); /* its own values, whatever ran before (187 saturate) */
    net = make_norm_net();
    batch_of(&calibration, net, 40, -0.25f, 0.25f);
    batch_of(&inputs, net, 20, -1.0f, 1.0f);
    CHECK(check_layers_against_reference(net, &calibration, &inputs) > 100);
    rn_tensor_free(&calibration);
    rn_tensor_free(&inputs);
    rn_net_free(net);
}

/* An identity activation requantises by exactly 1 (its output range is its
   input's) and copies; a PReLU slope below 2^-32 times the scale ratio is a
   multiplier of 0, so every negative input becomes the zero point. */
static void test_multipliers_at_one_and_tiny(void)
{
    rn_net *net = rn_net_new(1, (int[]){8});
    const rn_act_desc tiny = {.kind = RN_ACT_PRELU, .init = (const float[]){1e-12f}};
    rn_tensor calibration;
    rn_qnet *qnet;
    int8_t x[8], y[8];
    int q, j;
    rn_net_add_linear(net, 8);
    rn_net_add_activation(net, RN_ACT_IDENTITY);
    rn_net_add_activation_ex(net, &tiny);
    rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, 5);
    batch_of(&calibration, net, 30, -2.0f, 2.0f);
    CHECK(rn_net_quantize(net, &calibration, &qnet) == RN_OK);
    if (qnet == NULL) return;
    CHECK(qnet->layers[1].requant[0].multiplier == 1 << 30 && qnet->layers[1].requant[0].shift == 1);
    CHECK(qnet->layers[2].slope_requant[0].multiplier == 0);
    for (q = -128; q <= 127; q += 8) {
        for (j = 0; j < 8; j++) x[j] = (int8_t)(q + j);
        CHECK(rn_qlayer_forward(&qnet->layers[1], x, y) == RN_OK);
        CHECK(memcmp(x, y, sizeof x) == 0);
        CHECK(rn_qlayer_forward(&qnet->layers[2], x, y) == RN_OK);
        for (j = 0; j < 8; j++)
            if (x[j] < qnet->layers[2].in.zero_point) CHECK(y[j] == qnet->layers[2].out.zero_point);
    }
    rn_qnet_free(qnet);
    rn_tensor_free(&calibration);
    rn_net_free(net);
}

/* Average pooling divides each window's sum to the nearest integer, ties
   away from zero (TFLite's rule): six 2x2 windows side by side. The 1-LSB
   reference test cannot tell this from truncation. */
static void test_average_pool_rounding(void)
{
    static const int8_t windows[6][4] = {{1, 2, 2, 2}, {1, 1, 1, 2}, {-1, -1, -1, -2},
                                         {-2, -2, -2, -1}, {1, 1, 0, 0}, {-1, -1, 0, 0}};
    static const int8_t expected[6] = {2, 1, -1, -2, 1, -1}; /* 1.75 1.25 -1.25 -1.75 0.5 -0.5 */
    rn_net *net = rn_net_new(3, (int[]){1, 2, 12});
    rn_tensor calibration;
    rn_qnet *qnet;
    int8_t x[24], y[6];
    int w;
    rn_net_add_avgpool2d(net, 2, 2);
    batch_of(&calibration, net, 2, -1.0f, 1.0f);
    CHECK(rn_net_quantize(net, &calibration, &qnet) == RN_OK);
    if (qnet == NULL) return;
    for (w = 0; w < 6; w++) {
        x[2 * w] = windows[w][0], x[2 * w + 1] = windows[w][1];
        x[12 + 2 * w] = windows[w][2], x[12 + 2 * w + 1] = windows[w][3];
    }
    CHECK(rn_qlayer_forward(&qnet->layers[0], x, y) == RN_OK);
    CHECK(memcmp(y, expected, sizeof y) == 0);
    rn_qnet_free(qnet);
    rn_tensor_free(&calibration);
    rn_net_free(net);
}

/* Per output channel, from the spec's formulas: scale max|w| / 127, values
   round(w / scale) in [-127, 127], bias round(b / (input scale x scale)). */
static void test_per_channel_weights(void)
{
    rn_net *net = make_norm_net(), *folded;
    rn_tensor calibration;
    rn_qnet *qnet;
    const rn_layer *conv;
    int c, mismatches = 0;
    size_t j, fan;
    batch_of(&calibration, net, 10, -1.0f, 1.0f);
    CHECK(rn_net_quantize(net, &calibration, &qnet) == RN_OK);
    CHECK(rn_net_fold_batchnorm(net, &folded) == RN_OK);
    if (qnet == NULL || folded == NULL) return;
    conv = folded->layers[0];
    fan = conv->params[0].value.size / (size_t)conv->units;
    for (c = 0; c < conv->units; c++) {
        float largest = 0.0f, scale;
        for (j = 0; j < fan; j++) largest = fmaxf(largest, fabsf(conv->params[0].value.data[c * fan + j]));
        scale = largest / 127.0f;
        mismatches += qnet->layers[0].weight_scales[c] != scale;
        for (j = 0; j < fan; j++) {
            float w = conv->params[0].value.data[c * fan + j];
            mismatches += qnet->layers[0].weights[c * fan + j] != (int8_t)rintf(w / scale);
        }
        mismatches += qnet->layers[0].bias[c] !=
                      (int32_t)round(conv->params[1].value.data[c] /
                                     ((double)qnet->layers[0].in.scale * scale));
    }
    CHECK(mismatches == 0);
    rn_net_free(folded);
    rn_qnet_free(qnet);
    rn_tensor_free(&calibration);
    rn_net_free(net);
}

/* ----- the network as a whole ----- */

/* memcmp, but two empty arrays are equal whatever their pointers (memcmp
   must not be given NULL, even for 0 bytes). */
static int same_bytes(const void *a, const void *b, size_t bytes)
{
    return bytes == 0 || (a != NULL && b != NULL && memcmp(a, b, bytes) == 0);
}

static int qnets_equal(const rn_qnet *a, const rn_qnet *b)
{
    int i, same = a->n_layers == b->n_layers && a->in_size == b->in_size &&
                  a->out_size == b->out_size;
    for (i = 0; same && i < a->n_layers; i++) {
        const rn_qlayer *p = &a->layers[i], *q = &b->layers[i];
        size_t weights = 0;
        int slopes = p->type == RN_LAYER_ACTIVATION ? p->channels : 0;
        int weighted = p->type == RN_LAYER_CONV2D || p->type == RN_LAYER_LINEAR;
        int requants = p->type == RN_LAYER_ACTIVATION ? 1 : weighted ? p->channels : 0;
        if (weighted) weights = (size_t)p->channels * (p->type == RN_LAYER_CONV2D ?
                                (size_t)p->in_shape[0] * p->kernel * p->kernel :
                                (size_t)p->in_shape[0] * (p->in_ndim == 3 ? p->in_shape[1] * p->in_shape[2] : 1));
        same = p->type == q->type && p->channels == q->channels &&
               memcmp(&p->in, &q->in, sizeof p->in) == 0 && memcmp(&p->out, &q->out, sizeof p->out) == 0 &&
               p->output_buffer == q->output_buffer &&
               same_bytes(p->requant, q->requant, (size_t)requants * sizeof *p->requant) &&
               same_bytes(p->slope_requant, q->slope_requant, (size_t)slopes * sizeof *p->slope_requant);
        if (same && weighted)
            same = same_bytes(p->weights, q->weights, weights) &&
                   same_bytes(p->weight_scales, q->weight_scales, (size_t)p->channels * sizeof(float)) &&
                   same_bytes(p->bias, q->bias, (size_t)p->channels * sizeof(int32_t));
    }
    return same;
}

static void test_calibration_is_deterministic(void)
{
    rn_net *net = make_norm_net();
    rn_tensor calibration, other;
    rn_qnet *first, *second, *third;
    batch_of(&calibration, net, 300, -1.0f, 1.0f); /* two calibration batches */
    batch_of(&other, net, 300, -1.0f, 1.0f);
    CHECK(rn_net_quantize(net, &calibration, &first) == RN_OK);
    CHECK(rn_net_quantize(net, &calibration, &second) == RN_OK);
    CHECK(rn_net_quantize(net, &other, &third) == RN_OK);
    if (first != NULL && second != NULL && third != NULL) {
        CHECK(qnets_equal(first, second));
        CHECK(!qnets_equal(first, third)); /* other data, other ranges: the check can fail */
    }
    rn_qnet_free(first);
    rn_qnet_free(second);
    rn_qnet_free(third);
    rn_tensor_free(&calibration);
    rn_tensor_free(&other);
    rn_net_free(net);
}

static void test_forward_allocates_nothing(void)
{
    rn_net *net = make_plain_net();
    rn_tensor calibration, inputs, output = {0};
    rn_qnet *qnet;
    int8_t x[3 * 8 * 8 * 4], y[3 * 4];
    long before;
    size_t j;
    batch_of(&calibration, net, 20, -1.0f, 1.0f);
    batch_of(&inputs, net, 4, -1.0f, 1.0f);
    CHECK(rn_net_quantize(net, &calibration, &qnet) == RN_OK);
    if (qnet == NULL) return;
    for (j = 0; j < inputs.size; j++) x[j] = rn_quantize_value(inputs.data[j], qnet->layers[0].in);
    CHECK(rn_qnet_forward_float(qnet, &inputs, &output) == RN_OK);
    before = allocations;
    CHECK(rn_qnet_forward(qnet, x, 4, y) == RN_OK);
    CHECK(rn_qnet_forward_float(qnet, &inputs, &output) == RN_OK); /* output is large enough */
    CHECK(allocations == before);
    /* The float pass is the int8 pass between a quantisation and a dequantisation. */
    for (j = 0; j < output.size; j++)
        CHECK(output.data[j] == rn_dequantize_value(y[j], qnet->layers[qnet->n_layers - 1].out));
    CHECK(output.ndim == 2 && output.shape[0] == 4 && output.shape[1] == 3);
    rn_tensor_free(&output);
    rn_qnet_free(qnet);
    rn_tensor_free(&calibration);
    rn_tensor_free(&inputs);
    rn_net_free(net);
}

static void test_unsupported_kinds_are_refused(void)
{
    static const rn_act_kind kinds[] = {RN_ACT_SIGMOID, RN_ACT_TANH, RN_ACT_ASIGMOID, RN_ACT_ATANH,
                                        RN_ACT_ARELU, RN_ACT_MIX_ADAPTIVE, RN_ACT_MIX_FIXED};
    rn_tensor calibration;
    rn_qnet *qnet = (rn_qnet *)&calibration;
    int k;
    for (k = 0; k < (int)(sizeof kinds / sizeof *kinds); k++) {
        rn_net *net = rn_net_new(1, (int[]){4});
        rn_net_add_linear(net, 4);
        rn_net_add_activation(net, kinds[k]);
        if (k == 0) batch_of(&calibration, net, 5, -1.0f, 1.0f);
        CHECK(rn_net_quantize(net, &calibration, &qnet) == RN_ERR_UNSUPPORTED);
        CHECK(qnet == NULL);
        CHECK(strstr(rn_last_error(), rn_act_kind_name(kinds[k])) != NULL &&
              strstr(rn_last_error(), "act1") != NULL);
        rn_net_free(net);
    }
    rn_tensor_free(&calibration);
}

static void test_bad_input_is_refused(void)
{
    rn_net *net = rn_net_new(3, (int[]){2, 4, 4});
    rn_tensor calibration, wrong, output = {0};
    rn_qnet *qnet;
    int8_t x[32];
    rn_net_add_maxpool2d(net, 2, 2);
    rn_net_add_batchnorm(net); /* after a pool: nothing to fold into */
    batch_of(&calibration, net, 5, -1.0f, 1.0f);
    CHECK(rn_net_quantize(net, &calibration, &qnet) == RN_ERR_UNSUPPORTED && qnet == NULL);
    CHECK(strstr(rn_last_error(), "norm1") != NULL);
    rn_net_free(net);
    net = rn_net_new(3, (int[]){2, 4, 4});
    rn_net_add_conv2d(net, 2, 3, 1, 1);
    CHECK(rn_net_quantize(NULL, &calibration, &qnet) == RN_ERR_ARGUMENT && qnet == NULL);
    CHECK(rn_net_quantize(net, NULL, &qnet) == RN_ERR_ARGUMENT);
    CHECK(rn_net_quantize(net, &calibration, NULL) == RN_ERR_ARGUMENT);
    calibration.data[7] = NAN;
    CHECK(rn_net_quantize(net, &calibration, &qnet) == RN_ERR_NUMERIC && qnet == NULL);
    CHECK(strstr(rn_last_error(), "not finite") != NULL);
    calibration.data[7] = 0.0f;
    batch_of(&wrong, net, 2, 0.0f, 1.0f);
    CHECK(rn_tensor_reshape(&wrong, 2, (int[]){2, 32}) == RN_OK);
    CHECK(rn_net_quantize(net, &wrong, &qnet) == RN_ERR_SHAPE && qnet == NULL);
    CHECK(rn_net_quantize(net, &calibration, &qnet) == RN_OK);
    CHECK(rn_qnet_forward_float(qnet, &wrong, &output) == RN_ERR_SHAPE);
    CHECK(rn_qnet_forward(qnet, NULL, 1, x) == RN_ERR_ARGUMENT);
    CHECK(rn_qnet_forward(qnet, x, 0, x) == RN_ERR_ARGUMENT);
    CHECK(rn_qlayer_forward(NULL, x, x) == RN_ERR_ARGUMENT);
    rn_qnet_free(qnet);
    rn_qnet_free(NULL);
    rn_tensor_free(&calibration);
    rn_tensor_free(&wrong);
    rn_net_free(net);
}

/* ----- accuracy on Fashion-MNIST ----- */

enum { TRAIN_IMAGES = 12000, CALIBRATION_IMAGES = 1000 };

/* The ReLU_alpha study's CNN, alpha starting at 0.5 (a slope of 0.5). */
static rn_net *make_relu_alpha_net(void)
{
    const rn_act_desc act = {.kind = RN_ACT_RELU_ALPHA, .init = (const float[]){0.5f}};
    return study_net(&act, 1);
}

static rn_net *make_bn_prelu_net(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, 28, 28});
    const rn_act_desc per_channel = {.kind = RN_ACT_PRELU, .share = RN_SHARE_CHANNEL};
    rn_net_add_conv2d(net, 8, 3, 1, 1);
    rn_net_add_batchnorm(net);
    rn_net_add_activation(net, RN_ACT_PRELU);
    rn_net_add_maxpool2d(net, 2, 2);
    rn_net_add_conv2d(net, 16, 3, 1, 1);
    rn_net_add_batchnorm(net);
    rn_net_add_activation_ex(net, &per_channel);
    rn_net_add_avgpool2d(net, 2, 2);
    rn_net_add_linear(net, 10);
    rn_net_init(net, RN_INIT_HE_NORMAL, 0.25f, 2);
    return net;
}

static double int8_accuracy(rn_qnet *qnet, const rn_dataset *test)
{
    rn_tensor logits = {0};
    double accuracy = -1.0;
    if (rn_qnet_forward_float(qnet, &test->inputs, &logits) == RN_OK)
        accuracy = rn_accuracy(&logits, test->labels);
    rn_tensor_free(&logits);
    return accuracy;
}

static void check_accuracy(rn_net *net, const char *label, const rn_dataset *train,
                           const rn_dataset *test)
{
    rn_optim *opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_ADAM, .lr = 2e-3f});
    rn_epoch_stats epoch;
    rn_eval_stats eval;
    rn_tensor calibration = rn_tensor_slice(&train->inputs, 0, CALIBRATION_IMAGES);
    rn_qnet *qnet;
    double int8;
    CHECK(rn_net_train_epoch(net, opt, &train->inputs, train->labels,
                             &(rn_epoch_desc){.batch_size = 32}, &epoch) == RN_OK);
    CHECK(rn_net_evaluate(net, &test->inputs, test->labels, 500, 1, NULL, &eval) == RN_OK);
    CHECK(rn_net_quantize(net, &calibration, &qnet) == RN_OK);
    if (qnet == NULL) {
        fprintf(stderr, "%s\n", rn_last_error());
        rn_optim_free(opt);
        return;
    }
    int8 = int8_accuracy(qnet, test);
    printf("%s: float %.2f%%, int8 %.2f%% on %d test images (trained 1 epoch on %d, "
           "calibrated on %d)\n", label, 100.0 * eval.accuracy, 100.0 * int8,
           test->inputs.shape[0], train->inputs.shape[0], CALIBRATION_IMAGES);
    CHECK(eval.accuracy > 0.7); /* trained: a meaningful comparison */
    CHECK(fabs(int8 - eval.accuracy) <= 0.005);
    rn_qnet_free(qnet);
    rn_optim_free(opt);
}

static void test_fashion_mnist_accuracy(void)
{
    rn_dataset all, train, test;
    rn_net *net;
    if (getenv("RELUNET_SLOW_RUNNER") != NULL) { /* valgrind or an emulator: tests/run.sh */
        printf("skipped under a slow runner: int8 vs float accuracy on Fashion-MNIST (two "
               "trainings of 12,000 images: 10 s natively, over an hour under valgrind; the "
               "plain and sanitizer runs check it)\n");
        return;
    }
    if (rn_data_fashion_mnist(NULL, 1, &all) != RN_OK) {
        printf("skipped: int8 vs float accuracy on Fashion-MNIST (%s)\n", rn_last_error());
        return;
    }
    CHECK(rn_dataset_subsample(&all, TRAIN_IMAGES, 1, 1, &train) == RN_OK);
    rn_dataset_free(&all);
    CHECK(rn_data_fashion_mnist(NULL, 0, &test) == RN_OK);
    net = make_relu_alpha_net();
    check_accuracy(net, "ReLU_alpha net", &train, &test);
    rn_net_free(net);
    net = make_bn_prelu_net();
    check_accuracy(net, "conv + batch norm + PReLU net", &train, &test);
    rn_net_free(net);
    rn_dataset_free(&train);
    rn_dataset_free(&test);
}

int main(void)
{
    rn_rng_seed(&rng, 14, 8);
    RUN(test_multiplier_encoding);
    RUN(test_multiplier_rounding);
    RUN(test_multiplier_matches_real_product);
    RUN(test_activation_parameters);
    RUN(test_value_saturation);
    RUN(test_layers_match_reference);
    RUN(test_saturation_beyond_calibration);
    RUN(test_multipliers_at_one_and_tiny);
    RUN(test_average_pool_rounding);
    RUN(test_per_channel_weights);
    RUN(test_calibration_is_deterministic);
    RUN(test_forward_allocates_nothing);
    RUN(test_unsupported_kinds_are_refused);
    RUN(test_bad_input_is_refused);
    RUN(test_fashion_mnist_accuracy);
    return finish();
}
