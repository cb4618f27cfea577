/* Model files, optimizer state and arena networks: bit-exact round trips for
   every layer and activation kind, a golden file that pins the on-disk
   bytes (so a big-endian host must write the same), exact resumption of
   training, and files damaged every possible way. */
#include "relunet.h"
#include "harness.h"
#include "reseal.h"

#include <stdlib.h>
#include <string.h>

static const char *const temporary_path = "test_model_io.tmp";

/* Every layer type (batch norm only with_batchnorm: arena networks cannot
   have it), and every activation kind both shared per layer and per
   channel, with values that are not the defaults. */
static rn_net *make_every_layer_net(int with_batchnorm)
{
    rn_net *net = rn_net_new(3, (int[]){2, 9, 9});
    float init[RN_ACT_MAX_PARAMS];
    rn_rng rng;
    int kind, share, k, ok = 1;
    rn_rng_seed(&rng, 5, 5);
    ok &= rn_net_add_conv2d(net, 3, 3, 2, 1) == RN_OK;
    if (with_batchnorm) ok &= rn_net_add_batchnorm_ex(net, 1e-3f, 0.25f) == RN_OK;
    ok &= rn_net_add_dropout(net, 0.375f) == RN_OK;
    for (kind = 0; kind < RN_ACT_KIND_COUNT; kind++)
        for (share = 0; share < 2; share++) {
            rn_act_desc desc;
            memset(&desc, 0, sizeof desc);
            for (k = 0; k < rn_act_param_count((rn_act_kind)kind); k++)
                init[k] = 0.5f + rn_rng_uniform(&rng);
            desc.kind = (rn_act_kind)kind;
            desc.share = (rn_share)share;
            desc.init = init;
            desc.frozen = kind % 2;
            desc.unnormalized = share;
            desc.slope = kind == RN_ACT_LRELU ? 0.125f * (float)share : 0.0f;
            ok &= rn_net_add_activation_ex(net, &desc) == RN_OK;
        }
    ok &= rn_net_add_maxpool2d(net, 2, 1) == RN_OK;
    ok &= rn_net_add_conv2d(net, 4, 2, 1, 0) == RN_OK;
    ok &= rn_net_remove_bias(net) == RN_OK;
    ok &= rn_net_add_avgpool2d(net, 2, 2) == RN_OK;
    ok &= rn_net_add_flatten(net) == RN_OK;
    ok &= rn_net_add_linear(net, 5) == RN_OK;
    ok &= rn_net_add_linear(net, 3) == RN_OK;
    ok &= rn_net_remove_bias(net) == RN_OK;
    ok &= rn_net_init(net, RN_INIT_HE_UNIFORM, 0.1f, 11) == RN_OK;
    rn_net_set_range(net, RN_PARAMS_OF_LAYER(1), -0.25f, 2.0f);
    rn_net_set_frozen(net, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), 1);
    if (with_batchnorm) { /* running statistics as after training */
        rn_tensor_fill(&net->layers[1]->running_mean, 0.125f);
        rn_tensor_fill(&net->layers[1]->running_var, 3.5f);
    }
    CHECK(ok);
    return net;
}

static void make_input(rn_tensor *x, int batch, const rn_net *net, uint64_t seed)
{
    int shape[4], i;
    size_t j;
    rn_rng rng;
    shape[0] = batch;
    for (i = 0; i < net->in_ndim; i++) shape[i + 1] = net->in_shape[i];
    rn_tensor_new(x, net->in_ndim + 1, shape);
    rn_rng_seed(&rng, seed, 2);
    for (j = 0; j < x->size; j++) x->data[j] = rn_rng_normal(&rng);
}

static int same_bits(const float *a, const float *b, size_t count)
{
    return count == 0 || memcmp(a, b, count * sizeof(float)) == 0;
}

/* Same architecture and parameter bits, and with training 1 the same
   training settings (frozen flags and ranges: an arena network has none). */
static void check_same_net(rn_net *a, rn_net *b, int training)
{
    int i, k;
    CHECK(a->n_layers == b->n_layers && a->in_ndim == b->in_ndim);
    CHECK(memcmp(a->in_shape, b->in_shape, sizeof a->in_shape) == 0);
    for (i = 0; i < a->n_layers && i < b->n_layers; i++) {
        const rn_layer *x = a->layers[i], *y = b->layers[i];
        CHECK(x->type == y->type && strcmp(x->name, y->name) == 0);
        CHECK(x->out_ndim == y->out_ndim && memcmp(x->out_shape, y->out_shape, sizeof x->out_shape) == 0);
        CHECK(x->units == y->units && x->kernel == y->kernel && x->stride == y->stride);
        CHECK(x->padding == y->padding && x->has_bias == y->has_bias);
        CHECK(x->act.kind == y->act.kind && x->act.share == y->act.share);
        CHECK(x->act.frozen == y->act.frozen && x->act.unnormalized == y->act.unnormalized);
        CHECK(same_bits(&x->act.slope, &y->act.slope, 1));
        CHECK(same_bits(x->act_init, y->act_init, RN_ACT_MAX_PARAMS));
        CHECK(x->eps == y->eps && x->momentum == y->momentum && x->drop_rate == y->drop_rate);
        CHECK(x->running_mean.size == y->running_mean.size && x->running_var.size == y->running_var.size);
        CHECK(same_bits(x->running_mean.data, y->running_mean.data, x->running_mean.size));
        CHECK(same_bits(x->running_var.data, y->running_var.data, x->running_var.size));
        CHECK(x->n_params == y->n_params);
        for (k = 0; k < x->n_params && k < y->n_params; k++) {
            const rn_param *p = &x->params[k], *q = &y->params[k];
            CHECK(strcmp(p->name, q->name) == 0 && p->kind == q->kind && p->layer == q->layer);
            CHECK(!training || (p->frozen == q->frozen && p->min == q->min && p->max == q->max));
            CHECK(!training || p->grad.size == q->grad.size);
            CHECK(p->value.size == q->value.size && same_bits(p->value.data, q->value.data, p->value.size));
        }
    }
}

static void test_crc32(void)
{
    CHECK(rn_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(rn_crc32(rn_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
    CHECK(rn_crc32(0, "", 0) == 0);
}

static void test_round_trip_every_layer_and_kind(void)
{
    rn_net *net = make_every_layer_net(1), *loaded = NULL, *from_file = NULL;
    rn_tensor x;
    size_t size = 0, size_again = 0;
    unsigned char *bytes, *again;
    CHECK(rn_net_save_memory(net, NULL, 0, &size) == RN_OK && size > 0);
    bytes = (unsigned char *)malloc(size);
    again = (unsigned char *)malloc(size);
    CHECK(rn_net_save_memory(net, bytes, size - 1, &size_again) == RN_ERR_ARGUMENT);
    CHECK(rn_net_save_memory(net, bytes, size, &size_again) == RN_OK && size_again == size);
    CHECK(rn_net_load_memory(bytes, size, &loaded) == RN_OK && loaded != NULL);
    if (loaded != NULL) {
        check_same_net(net, loaded, 1);
        /* Saving what was loaded gives the same bytes. */
        CHECK(rn_net_save_memory(loaded, again, size, &size_again) == RN_OK);
        CHECK(size_again == size && memcmp(bytes, again, size) == 0);
        /* And it computes the same thing. */
        make_input(&x, 3, net, 1);
        CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
        CHECK(rn_net_forward(loaded, &x, RN_EVAL) == RN_OK);
        CHECK(same_bits(rn_net_output(net)->data, rn_net_output(loaded)->data,
                        rn_net_output(net)->size));
        rn_tensor_free(&x);
    }
    CHECK(rn_net_save(net, temporary_path) == RN_OK);
    CHECK(rn_net_load(temporary_path, &from_file) == RN_OK && from_file != NULL);
    if (from_file != NULL) check_same_net(net, from_file, 1);
    rn_net_free(from_file);
    remove(temporary_path);
    CHECK(rn_net_load(temporary_path, &from_file) == RN_ERR_IO && from_file == NULL);
    rn_net_free(loaded);
    rn_net_free(net);
    free(bytes);
    free(again);
}

/* linear(2 -> 1) with weights 1.5, -2 and bias 0.25, then a per-layer
   sigmoid: the complete file, written by hand from the documented format.
   Any host must write exactly these bytes and read them back. */
static const unsigned char golden_file[] = {
    'R', 'N', 'E', 'T', 2, 0, 0, 0, 124, 0, 0, 0,         /* magic, version, body size */
    1, 0, 0, 0, 2, 0, 0, 0,                               /* sample shape: [2] */
    2, 0, 0, 0,                                           /* two layers */
    1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,       /* linear: units 1, bias 1 */
    0, 0, 0, 0,                                           /* no float settings */
    2, 0, 0, 0,                                           /* two parameters */
    0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0, 0, 0x80, 0x7F,       /* weight: not frozen, -inf, inf */
    2, 0, 0, 0, 0, 0, 0xC0, 0x3F, 0, 0, 0, 0xC0,          /* 1.5, -2 */
    1, 0, 0, 0, 0, 0, 0x80, 0xBF, 0, 0, 0x80, 0x3F,       /* bias: frozen, [-1, 1] */
    1, 0, 0, 0, 0, 0, 0x80, 0x3E,                         /* 0.25 */
    0, 0, 0, 0,                                           /* no state buffers */
    5, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0,                   /* activation: sigmoid, */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                   /* per layer, not frozen, normalised */
    1, 0, 0, 0, 0, 0, 0, 0,                               /* slope 0 */
    0, 0, 0, 0, 0, 0, 0, 0,                               /* no params, no buffers */
    0x7D, 0xA0, 0xDE, 0x1E                                /* CRC-32 */
};

static void test_golden_file(void)
{
    rn_net *net = rn_net_new(1, (int[]){2}), *loaded = NULL;
    unsigned char bytes[sizeof golden_file];
    size_t size = 0;
    rn_net_add_linear(net, 1);
    rn_net_add_activation(net, RN_ACT_SIGMOID);
    net->layers[0]->params[0].value.data[0] = 1.5f;
    net->layers[0]->params[0].value.data[1] = -2.0f;
    net->layers[0]->params[1].value.data[0] = 0.25f;
    net->layers[0]->params[1].frozen = 1;
    net->layers[0]->params[1].min = -1.0f;
    net->layers[0]->params[1].max = 1.0f;
    CHECK(rn_net_save_memory(net, bytes, sizeof bytes, &size) == RN_OK);
    CHECK(size == sizeof golden_file && memcmp(bytes, golden_file, sizeof bytes) == 0);
    CHECK(rn_net_load_memory(golden_file, sizeof golden_file, &loaded) == RN_OK);
    if (loaded != NULL) check_same_net(net, loaded, 1);
    rn_net_free(loaded);
    rn_net_free(net);
}

/* The same network in format 1 (no layer here keeps state, so only the
   version and the CRC differ) still loads. */
static void test_format_1_still_loads(void)
{
    unsigned char bytes[sizeof golden_file];
    uint32_t crc;
    rn_net *loaded = NULL;
    memcpy(bytes, golden_file, sizeof bytes);
    bytes[4] = 1;
    crc = rn_crc32(0, bytes, sizeof bytes - 4);
    bytes[sizeof bytes - 4] = (unsigned char)crc;
    bytes[sizeof bytes - 3] = (unsigned char)(crc >> 8);
    bytes[sizeof bytes - 2] = (unsigned char)(crc >> 16);
    bytes[sizeof bytes - 1] = (unsigned char)(crc >> 24);
    CHECK(rn_net_load_memory(bytes, sizeof bytes, &loaded) == RN_OK && loaded != NULL);
    rn_net_free(loaded);
}

/* Loading must fail with a message and a NULL network, or (for resealed
   damage that still describes a valid network) succeed. */
static int load_fails_cleanly(const unsigned char *bytes, size_t size, int may_succeed)
{
    rn_net *net = (rn_net *)&net; /* not NULL, to see it cleared */
    int status = rn_net_load_memory(bytes, size, &net);
    if (status == RN_OK) {
        rn_net_free(net);
        return may_succeed;
    }
    return net == NULL && status == RN_ERR_FORMAT && strlen(rn_last_error()) > 10;
}

static void test_every_truncation_and_flip_fails(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, 4, 4});
    unsigned char bytes[4096], damaged[4096];
    size_t size = 0, at, length;
    int bit, ok = 1;
    rn_net_add_conv2d(net, 2, 2, 2, 0);
    rn_net_add_activation_ex(net, &(rn_act_desc){.kind = RN_ACT_SIGMOID, .share = RN_SHARE_CHANNEL});
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 2);
    CHECK(rn_net_save_memory(net, bytes, sizeof bytes, &size) == RN_OK && size < sizeof bytes);
    for (length = 0; length < size; length++) {
        ok &= load_fails_cleanly(bytes, length, 0);
        if (length < 16) continue;
        memcpy(damaged, bytes, length);
        reseal(damaged, length);
        ok &= load_fails_cleanly(damaged, length, 0);
    }
    CHECK(ok);
    for (at = 0; at < size; at++)
        for (bit = 0; bit < 8; bit++) {
            memcpy(damaged, bytes, size);
            damaged[at] ^= (unsigned char)(1u << bit);
            ok &= load_fails_cleanly(damaged, size, 0);
            if (at >= 12 && at < size - 4) {
                reseal(damaged, size);
                ok &= load_fails_cleanly(damaged, size, 1);
            }
        }
    CHECK(ok);
    memcpy(damaged, bytes, size);
    damaged[size] = 0;
    CHECK(load_fails_cleanly(damaged, size + 1, 0));
    rn_net_free(net);
}

static void test_newer_version_is_refused(void)
{
    rn_net *net = NULL;
    unsigned char bytes[sizeof golden_file];
    memcpy(bytes, golden_file, sizeof bytes);
    bytes[4] = RN_FILE_VERSION + 1;
    reseal(bytes, sizeof bytes);
    CHECK(rn_net_load_memory(bytes, sizeof bytes, &net) == RN_ERR_FORMAT && net == NULL);
    CHECK(strstr(rn_last_error(), "newer") != NULL);
    memcpy(bytes, golden_file, 4);
    bytes[0] = 'X';
    CHECK(rn_net_load_memory(bytes, sizeof bytes, &net) == RN_ERR_FORMAT);
    CHECK(strstr(rn_last_error(), "magic") != NULL);
}

/* A batch norm with a negative running variance cannot come from training:
   the loader refuses it (eval forward would give NaN everywhere). */
static void test_negative_running_variance_refused(void)
{
    rn_net *net = rn_net_new(3, (int[]){2, 3, 3}), *loaded = NULL;
    unsigned char bytes[4096];
    size_t size = 0;
    rn_net_add_batchnorm(net);
    net->layers[0]->running_var.data[1] = -0.5f;
    CHECK(rn_net_save_memory(net, bytes, sizeof bytes, &size) == RN_OK);
    CHECK(rn_net_load_memory(bytes, size, &loaded) == RN_ERR_FORMAT && loaded == NULL);
    CHECK(strstr(rn_last_error(), "running variance -0.5 in channel 1") != NULL);
    net->layers[0]->running_var.data[1] = 0.0f;
    CHECK(rn_net_save_memory(net, bytes, sizeof bytes, &size) == RN_OK);
    CHECK(rn_net_load_memory(bytes, size, &loaded) == RN_OK && loaded != NULL);
    rn_net_free(loaded);
    rn_net_free(net);
}

/* A small regression problem for the optimizer tests; its dropout makes a
   resume exact only if the random stream is saved too. */
static rn_net *make_small_net(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, 6, 6});
    rn_net_add_conv2d(net, 3, 3, 1, 1);
    rn_net_add_activation(net, RN_ACT_TANH);
    rn_net_add_dropout(net, 0.3f);
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 2);
    rn_net_init(net, RN_INIT_HE_NORMAL, 0.0f, 3);
    return net;
}

static int train_steps(rn_net *net, rn_optim *opt, const rn_tensor *x, const rn_tensor *y,
                       int steps)
{
    int step, ok = 1;
    for (step = 0; step < steps; step++) {
        float loss;
        ok &= rn_net_forward(net, x, RN_TRAIN) == RN_OK;
        rn_net_zero_grad(net);
        ok &= rn_loss_mse(rn_net_output(net), y, &loss, rn_net_output_grad(net)) == RN_OK;
        ok &= rn_net_backward(net) == RN_OK;
        ok &= rn_optim_step(opt) == RN_OK;
    }
    return ok;
}

static int same_params(rn_net *a, rn_net *b)
{
    int i, same = rn_net_param_count(a) == rn_net_param_count(b);
    for (i = 0; same && i < rn_net_param_count(a); i++)
        same = same_bits(rn_net_param(a, i)->value.data, rn_net_param(b, i)->value.data,
                         rn_net_param(a, i)->value.size);
    return same;
}

/* Train 2K steps straight through, or K steps, save the network and the
   optimizer, load both into new objects (the optimizer made with other
   settings) and train K more: the weights must agree to the bit. The
   biases are frozen for the first K steps, so their state must start at
   their own first update after the resume too. */
static void check_resume(rn_optim_desc desc)
{
    rn_net *straight = make_small_net(), *first = make_small_net(), *resumed = NULL;
    rn_optim *opt_straight = rn_optim_new(straight, &desc), *opt_first = rn_optim_new(first, &desc);
    rn_optim *opt_resumed = NULL;
    rn_optim_desc other = desc;
    unsigned char *net_bytes = NULL, *opt_bytes = NULL;
    size_t net_size = 0, opt_size = 0;
    rn_tensor x, y;
    enum { K = 7 };
    make_input(&x, 4, straight, 9);
    rn_tensor_new(&y, 2, (int[]){4, 2});
    rn_tensor_fill(&y, 0.5f);
    rn_optim_set_group(opt_straight, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), desc.lr * 0.5f, 0.01f);
    rn_optim_set_group(opt_first, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), desc.lr * 0.5f, 0.01f);
    rn_net_set_frozen(straight, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), 1);
    rn_net_set_frozen(first, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), 1);
    CHECK(train_steps(straight, opt_straight, &x, &y, K));
    rn_net_set_frozen(straight, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), 0);
    CHECK(train_steps(straight, opt_straight, &x, &y, K));
    CHECK(train_steps(first, opt_first, &x, &y, K));
    rn_net_save_memory(first, NULL, 0, &net_size);
    rn_optim_save_memory(opt_first, NULL, 0, &opt_size);
    net_bytes = (unsigned char *)malloc(net_size);
    opt_bytes = (unsigned char *)malloc(opt_size);
    CHECK(rn_net_save_memory(first, net_bytes, net_size, &net_size) == RN_OK);
    CHECK(rn_optim_save_memory(opt_first, opt_bytes, opt_size, &opt_size) == RN_OK);
    CHECK(rn_net_load_memory(net_bytes, net_size, &resumed) == RN_OK);
    other.lr = desc.lr * 3.0f;
    other.beta1 = 0.5f;
    opt_resumed = rn_optim_new(resumed, &other);
    CHECK(rn_optim_load_memory(opt_resumed, opt_bytes, opt_size) == RN_OK);
    rn_net_set_frozen(resumed, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), 0);
    CHECK(train_steps(resumed, opt_resumed, &x, &y, K));
    CHECK(same_params(straight, resumed));
    /* The file route gives the same optimizer bytes. */
    CHECK(rn_optim_save(opt_first, temporary_path) == RN_OK);
    CHECK(rn_optim_load(opt_first, temporary_path) == RN_OK);
    remove(temporary_path);
    rn_tensor_free(&x);
    rn_tensor_free(&y);
    rn_optim_free(opt_straight);
    rn_optim_free(opt_first);
    rn_optim_free(opt_resumed);
    rn_net_free(straight);
    rn_net_free(first);
    rn_net_free(resumed);
    free(net_bytes);
    free(opt_bytes);
}

static void test_resume_sgd_momentum(void)
{
    check_resume((rn_optim_desc){.kind = RN_SGD, .lr = 0.05f, .momentum = 0.9f, .nesterov = 1});
}

static void test_resume_adam(void)
{
    check_resume((rn_optim_desc){.kind = RN_ADAM, .lr = 0.01f, .weight_decay = 0.001f});
}

static void test_resume_adamw(void)
{
    check_resume((rn_optim_desc){.kind = RN_ADAMW, .lr = 0.01f, .weight_decay = 0.1f});
}

static void test_resume_sgd_dampening_and_rprop(void)
{
    check_resume((rn_optim_desc){.kind = RN_SGD, .lr = 0.05f, .momentum = 0.9f,
                                 .dampening = 0.5f});
    check_resume((rn_optim_desc){.kind = RN_RPROP, .lr = 0.01f});
}

/* A bad optimizer file, or one for another kind or network, is refused and
   the optimizer keeps working as if nothing had happened. */
static void test_optim_load_errors_leave_it_unchanged(void)
{
    rn_net *a = make_small_net(), *b = make_small_net(), *other = make_every_layer_net(1);
    rn_optim_desc desc = {.kind = RN_ADAM, .lr = 0.01f};
    rn_optim *opt_a = rn_optim_new(a, &desc), *opt_b = rn_optim_new(b, &desc);
    rn_optim *sgd = rn_optim_new(a, &(rn_optim_desc){.kind = RN_SGD});
    rn_optim *opt_other = rn_optim_new(other, &desc);
    unsigned char bytes[8192], damaged[8192];
    size_t size = 0, at;
    rn_tensor x, y;
    int ok = 1;
    make_input(&x, 4, a, 9);
    rn_tensor_new(&y, 2, (int[]){4, 2});
    CHECK(train_steps(a, opt_a, &x, &y, 3) && train_steps(b, opt_b, &x, &y, 3));
    CHECK(rn_optim_save_memory(opt_a, bytes, sizeof bytes, &size) == RN_OK);
    CHECK(rn_optim_load_memory(sgd, bytes, size) == RN_ERR_FORMAT);
    CHECK(rn_optim_load_memory(opt_other, bytes, size) == RN_ERR_FORMAT);
    for (at = 0; at + 1 < size; at++) {
        ok &= rn_optim_load_memory(opt_b, bytes, at) == RN_ERR_FORMAT;
        memcpy(damaged, bytes, size);
        damaged[at] ^= 0x40;
        ok &= rn_optim_load_memory(opt_b, damaged, size) == RN_ERR_FORMAT;
    }
    CHECK(ok);
    /* The trailing counts decide: one state tensor too few, resealed. */
    memcpy(damaged, bytes, size);
    reseal(damaged, size - 8);
    CHECK(rn_optim_load_memory(opt_b, damaged, size - 8) == RN_ERR_FORMAT);
    CHECK(train_steps(a, opt_a, &x, &y, 3) && train_steps(b, opt_b, &x, &y, 3));
    CHECK(same_params(a, b));
    rn_tensor_free(&x);
    rn_tensor_free(&y);
    rn_optim_free(opt_a);
    rn_optim_free(opt_b);
    rn_optim_free(sgd);
    rn_optim_free(opt_other);
    rn_net_free(a);
    rn_net_free(b);
    rn_net_free(other);
}

/* An arena copy of a network, its parameters bound to the heap network's
   arrays, computes the same outputs, needs exactly rn_net_arena_bytes
   wherever the buffer starts, and refuses what it cannot do. */
static rn_net *arena_copy(const rn_net *net, rn_arena *arena, int max_batch)
{
    const float *values[64];
    rn_net *copy = rn_net_new_arena(arena, net->in_ndim, net->in_shape, net->n_layers, max_batch);
    size_t size;
    unsigned char file[16384];
    rn_net *rebuilt = NULL;
    rn_act_desc desc;
    int i, status = copy != NULL ? RN_OK : RN_ERR_MEMORY;
    /* One rn_net_add_* call per layer, as the exporter's generated code does. */
    for (i = 0; i < net->n_layers && status == RN_OK; i++) {
        const rn_layer *layer = net->layers[i];
        switch (layer->type) {
        case RN_LAYER_CONV2D:
            status = rn_net_add_conv2d(copy, layer->units, layer->kernel, layer->stride, layer->padding);
            if (status == RN_OK && !layer->has_bias) status = rn_net_remove_bias(copy);
            break;
        case RN_LAYER_LINEAR:
            status = rn_net_add_linear(copy, layer->units);
            if (status == RN_OK && !layer->has_bias) status = rn_net_remove_bias(copy);
            break;
        case RN_LAYER_MAXPOOL2D: status = rn_net_add_maxpool2d(copy, layer->kernel, layer->stride); break;
        case RN_LAYER_AVGPOOL2D: status = rn_net_add_avgpool2d(copy, layer->kernel, layer->stride); break;
        case RN_LAYER_FLATTEN: status = rn_net_add_flatten(copy); break;
        case RN_LAYER_DROPOUT: status = rn_net_add_dropout(copy, layer->drop_rate); break;
        case RN_LAYER_BATCHNORM: /* eval mode, its statistics copied in as exports do */
            status = rn_net_add_batchnorm_ex(copy, layer->eps, layer->momentum);
            if (status == RN_OK) {
                rn_layer *norm = copy->layers[copy->n_layers - 1];
                memcpy(norm->running_mean.data, layer->running_mean.data,
                       layer->running_mean.size * sizeof(float));
                memcpy(norm->running_var.data, layer->running_var.data,
                       layer->running_var.size * sizeof(float));
            }
            break;
        case RN_LAYER_ACTIVATION:
            desc = layer->act;
            desc.init = layer->act_init;
            status = rn_net_add_activation_ex(copy, &desc);
            break;
        }
    }
    for (i = 0; i < rn_net_param_count((rn_net *)net); i++)
        values[i] = rn_net_param((rn_net *)net, i)->value.data;
    values[i] = NULL;
    if (status == RN_OK) status = rn_net_bind_params(copy, values);
    /* An arena network saves like any other. */
    if (status == RN_OK) status = rn_net_save_memory(copy, file, sizeof file, &size);
    if (status == RN_OK && rn_net_load_memory(file, size, &rebuilt) == RN_OK)
        check_same_net((rn_net *)net, rebuilt, 0);
    rn_net_free(rebuilt);
    return status == RN_OK ? copy : NULL;
}

static void test_arena_inference(void)
{
    rn_net *net = make_every_layer_net(0), *copy;
    size_t bytes = rn_net_arena_bytes(net, 3), offset;
    unsigned char *memory = (unsigned char *)malloc(bytes + 64);
    rn_tensor x, big;
    rn_arena arena;
    int ok = 1;
    make_input(&x, 3, net, 4);
    make_input(&big, 4, net, 4);
    CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
    for (offset = 0; offset < 64; offset++) {
        rn_arena_init(&arena, memory + offset, bytes);
        copy = arena_copy(net, &arena, 3);
        ok &= copy != NULL && rn_net_forward(copy, &x, RN_EVAL) == RN_OK;
        ok &= ok && same_bits(rn_net_output(net)->data, rn_net_output(copy)->data,
                                        rn_net_output(net)->size);
        ok &= arena.used <= bytes;
    }
    CHECK(ok);
    copy = arena_copy(net, &arena, 3); /* the arena is full now */
    CHECK(copy == NULL);
    rn_arena_init(&arena, memory, bytes);
    copy = arena_copy(net, &arena, 3);
    CHECK(copy != NULL);
    if (copy != NULL) {
        CHECK(rn_net_forward(copy, &big, RN_EVAL) == RN_ERR_ARGUMENT);
        CHECK(rn_net_forward(copy, &x, RN_TRAIN) == RN_ERR_ARGUMENT);
        CHECK(rn_net_forward(copy, &x, RN_EVAL) == RN_OK);
        CHECK(rn_net_backward(copy) == RN_ERR_ARGUMENT);
        CHECK(rn_net_init(copy, RN_INIT_HE_NORMAL, 0.0f, 1) == RN_ERR_ARGUMENT);
        CHECK(rn_optim_new(copy, &(rn_optim_desc){.kind = RN_SGD}) == NULL);
        CHECK(rn_net_add_flatten(copy) == RN_ERR_ARGUMENT);
        CHECK(rn_net_output_grad(copy) == NULL);
        CHECK(rn_net_penalty(copy, RN_PARAMS_ALL, RN_PENALTY_L1, 1.0f) > 0.0);
        rn_net_free(copy); /* does nothing: the arena holds it */
    }
    /* Too small by one allocation's worth: a clean failure, never a write
       past the end. */
    rn_arena_init(&arena, memory, bytes - 64);
    copy = arena_copy(net, &arena, 3);
    CHECK(copy == NULL || rn_net_forward(copy, &x, RN_EVAL) == RN_ERR_MEMORY);
    CHECK(arena.used <= bytes - 64);
    rn_tensor_free(&x);
    rn_tensor_free(&big);
    rn_net_free(net);
    free(memory);
}

static void test_export_c_writes_every_value(void)
{
    rn_net *net = make_every_layer_net(0), *with_batchnorm = make_every_layer_net(1);
    FILE *file;
    char line[512];
    int arrays = 0, builds = 0;
    CHECK(rn_net_export_c(net, temporary_path, "9bad") == RN_ERR_ARGUMENT);
    CHECK(rn_net_export_c(net, temporary_path, "every_layer") == RN_OK);
    file = fopen(temporary_path, "r");
    CHECK(file != NULL);
    while (file != NULL && fgets(line, sizeof line, file) != NULL) {
        arrays += strncmp(line, "static const float every_layer_", 31) == 0;
        builds += strstr(line, "every_layer_build(rn_arena *arena, int max_batch, rn_net **built)") != NULL;
    }
    if (file != NULL) fclose(file);
    remove(temporary_path);
    CHECK(arrays == rn_net_param_count(net));
    CHECK(builds == 1);
    rn_net_param(net, 0)->value.data[0] = NAN;
    CHECK(rn_net_export_c(net, temporary_path, "every_layer") == RN_ERR_NUMERIC);
    /* Its batch norm follows a convolution, so it is folded away. */
    CHECK(rn_net_export_c(with_batchnorm, temporary_path, "bn") == RN_OK);
    file = fopen(temporary_path, "r");
    CHECK(file != NULL);
    arrays = 0;
    while (file != NULL && fgets(line, sizeof line, file) != NULL)
        arrays += strstr(line, "batchnorm") != NULL || strstr(line, "bn_norm") != NULL;
    if (file != NULL) fclose(file);
    remove(temporary_path);
    CHECK(arrays == 0);
    rn_net_free(net);
    rn_net_free(with_batchnorm);
}

/* Batch norm with statistics and affine parameters far from their
   initial values, as after training. */
static void randomize_norm(rn_layer *norm, rn_rng *rng)
{
    size_t c;
    for (c = 0; c < norm->running_mean.size; c++) {
        norm->params[0].value.data[c] = 0.5f + rn_rng_uniform(rng);
        norm->params[1].value.data[c] = rn_rng_uniform(rng) - 0.5f;
        norm->running_mean.data[c] = 2.0f * rn_rng_uniform(rng) - 1.0f;
        norm->running_var.data[c] = 0.25f + 1.75f * rn_rng_uniform(rng);
    }
}

static float largest_magnitude(const rn_tensor *t)
{
    float largest = 0.0f;
    size_t i;
    for (i = 0; i < t->size; i++) largest = fabsf(t->data[i]) > largest ? fabsf(t->data[i]) : largest;
    return largest;
}

static void test_fold_batchnorm(void)
{
    rn_net *net = rn_net_new(3, (int[]){2, 6, 6}), *folded = NULL, *copy;
    rn_tensor x, unfolded;
    rn_rng rng;
    rn_arena arena;
    static unsigned char memory[1 << 16];
    float tolerance;
    size_t i;
    int norms = 0, ok = 1;
    ok &= rn_net_add_conv2d(net, 3, 3, 1, 1) == RN_OK;
    ok &= rn_net_add_batchnorm(net) == RN_OK; /* folds into conv1 */
    ok &= rn_net_add_activation(net, RN_ACT_PRELU) == RN_OK;
    ok &= rn_net_add_conv2d(net, 4, 2, 1, 0) == RN_OK;
    ok &= rn_net_remove_bias(net) == RN_OK;
    ok &= rn_net_add_batchnorm_ex(net, 1e-3f, 0.1f) == RN_OK; /* folds, and conv2 gets a bias */
    ok &= rn_net_add_activation(net, RN_ACT_RELU_ALPHA) == RN_OK;
    ok &= rn_net_add_batchnorm(net) == RN_OK; /* after an activation: stays */
    ok &= rn_net_add_flatten(net) == RN_OK;
    ok &= rn_net_add_linear(net, 5) == RN_OK;
    ok &= rn_net_add_batchnorm(net) == RN_OK; /* folds into linear1 */
    ok &= rn_net_add_linear(net, 3) == RN_OK;
    CHECK(ok);
    if (!ok) return;
    rn_rng_seed(&rng, 9, 9);
    for (i = 0; i < (size_t)net->n_layers; i++)
        if (net->layers[i]->type == RN_LAYER_BATCHNORM) randomize_norm(net->layers[i], &rng);
    CHECK(rn_tensor_new(&x, 4, (int[]){3, 2, 6, 6}) == RN_OK);
    CHECK(rn_tensor_new(&unfolded, 2, (int[]){3, 3}) == RN_OK);
    for (i = 0; i < x.size; i++) x.data[i] = 2.0f * rn_rng_uniform(&rng) - 1.0f;
    CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
    memcpy(unfolded.data, rn_net_output(net)->data, unfolded.size * sizeof(float));
    CHECK(rn_net_fold_batchnorm(net, &folded) == RN_OK);
    if (folded == NULL) return;
    CHECK(folded->n_layers == net->n_layers - 3);
    for (i = 0; i < (size_t)folded->n_layers; i++) norms += folded->layers[i]->type == RN_LAYER_BATCHNORM;
    CHECK(norms == 1);
    CHECK(folded->layers[2]->has_bias);
    CHECK(rn_net_forward(folded, &x, RN_EVAL) == RN_OK);
    tolerance = 1e-5f * largest_magnitude(&unfolded);
    for (i = 0; i < unfolded.size; i++)
        CHECK(fabsf(rn_net_output(folded)->data[i] - unfolded.data[i]) <= tolerance);
    /* An arena network runs the batch norm that is left, bit for bit. */
    rn_arena_init(&arena, memory, sizeof memory);
    copy = arena_copy(folded, &arena, 3);
    CHECK(copy != NULL);
    if (copy != NULL) {
        CHECK(rn_net_forward(copy, &x, RN_EVAL) == RN_OK);
        CHECK(memcmp(rn_net_output(copy)->data, rn_net_output(folded)->data,
                     unfolded.size * sizeof(float)) == 0);
        CHECK(arena.used <= rn_net_arena_bytes(copy, 3));
        CHECK(rn_net_forward(copy, &x, RN_TRAIN) == RN_ERR_ARGUMENT);
    }
    /* The batch norm that is left is exported with its statistics. */
    CHECK(rn_net_export_c(folded, temporary_path, "left") == RN_OK);
    CHECK(rn_net_export_c(net, temporary_path, "folded") == RN_OK);
    remove(temporary_path);
    rn_net_free(folded);
    CHECK(rn_net_fold_batchnorm(NULL, &folded) == RN_ERR_ARGUMENT && folded == NULL);
    CHECK(rn_net_fold_batchnorm(net, NULL) == RN_ERR_ARGUMENT);
    rn_tensor_free(&x);
    rn_tensor_free(&unfolded);
    rn_net_free(net);
}

/* Files appear whole or not at all: written under path.tmp and renamed, no
   temporary left behind, and a failure says what the system said. */
static void test_save_is_atomic(void)
{
    rn_net *net = make_every_layer_net(0), *loaded = NULL;
    char temp[256];
    FILE *file;
    snprintf(temp, sizeof temp, "%s.tmp", temporary_path);
    CHECK(rn_net_save(net, temporary_path) == RN_OK);
    CHECK((file = fopen(temp, "rb")) == NULL);
    if (file != NULL) fclose(file);
    CHECK(rn_net_export_c(net, temporary_path, "again") == RN_OK);
    CHECK((file = fopen(temp, "rb")) == NULL);
    if (file != NULL) fclose(file);
    CHECK(rn_net_load(temporary_path, &loaded) == RN_ERR_FORMAT); /* now the C export */
    remove(temporary_path);
    CHECK(rn_net_save(net, "/nonexistent/folder/model.rnet") == RN_ERR_IO);
    CHECK(strstr(rn_last_error(), "/nonexistent/folder/model.rnet.tmp") != NULL &&
          strstr(rn_last_error(), "No such file") != NULL);
    CHECK(rn_net_load("/nonexistent/folder/model.rnet", &loaded) == RN_ERR_IO);
    CHECK(strstr(rn_last_error(), "No such file") != NULL);
    rn_net_free(net);
}

/* The arena's buffer plan: layers that map values in place write over
   their input, but never over the caller's; the input can live in the
   arena; the result is the heap network's bit for bit either way. */
static void test_arena_buffers_in_place(void)
{
    rn_net *net = rn_net_new(3, (int[]){2, 3, 3}), *copy;
    static unsigned char memory[1 << 15];
    float before[2 * 18];
    rn_tensor x;
    rn_arena arena;
    rn_rng rng;
    size_t i;
    int ok = net != NULL;
    ok = ok && rn_net_add_activation(net, RN_ACT_PRELU) == RN_OK; /* in place, but layer 0 */
    ok = ok && rn_net_add_flatten(net) == RN_OK;
    ok = ok && rn_net_add_linear(net, 40) == RN_OK;               /* the larger buffer */
    ok = ok && rn_net_add_activation(net, RN_ACT_RELU_ALPHA) == RN_OK;
    ok = ok && rn_net_add_dropout(net, 0.5f) == RN_OK;
    ok = ok && rn_net_add_linear(net, 3) == RN_OK;
    CHECK(ok);
    if (!ok) return;
    rn_rng_seed(&rng, 3, 3);
    CHECK(rn_tensor_new(&x, 4, (int[]){2, 2, 3, 3}) == RN_OK);
    for (i = 0; i < x.size; i++) x.data[i] = rn_rng_uniform(&rng) - 0.5f;
    memcpy(before, x.data, sizeof before);
    CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
    rn_arena_init(&arena, memory, sizeof memory);
    copy = arena_copy(net, &arena, 2);
    CHECK(copy != NULL);
    if (copy != NULL) {
        float *input;
        CHECK(rn_net_forward(copy, &x, RN_EVAL) == RN_OK);
        CHECK(memcmp(x.data, before, sizeof before) == 0); /* the caller's input is intact */
        CHECK(memcmp(rn_net_output(copy)->data, rn_net_output(net)->data, 6 * sizeof(float)) == 0);
        /* Buffers: 18 (act1, flatten1) and then 40 (linear1, act2, dropout1) in the first, the
           input (18) and linear2's 3 in the second: 40 + 18 floats per sample. */
        CHECK(arena.used <= rn_net_arena_bytes(copy, 2) &&
              rn_net_arena_bytes(copy, 2) <= RN_NET_ARENA_BYTES(6, 6, 40, 18, 2));
        input = rn_net_arena_input(copy);
        CHECK(input != NULL);
        if (input != NULL) {
            rn_tensor inside = rn_tensor_view(input, 4, (int[]){2, 2, 3, 3});
            memcpy(input, before, sizeof before);
            CHECK(rn_net_forward(copy, &inside, RN_EVAL) == RN_OK);
            CHECK(memcmp(rn_net_output(copy)->data, rn_net_output(net)->data,
                         6 * sizeof(float)) == 0);
        }
    }
    CHECK(rn_net_arena_input(net) == NULL); /* not an arena network */
    rn_tensor_free(&x);
    rn_net_free(net);
}

/* An arena layer takes its struct and the parameters it has, no more: a
   flatten layer none, a convolution two, a shared PReLU one. */
static void test_arena_layers_are_compact(void)
{
    static unsigned char memory[1 << 14];
    const size_t layer = sizeof(rn_layer), param = sizeof(rn_param);
    rn_arena arena;
    rn_net *net;
    size_t used;
    CHECK(layer < RN_LAYER_MAX_PARAMS * param); /* the struct embeds no parameter array */
    rn_arena_init(&arena, memory, sizeof memory);
    net = rn_net_new_arena(&arena, 3, (int[]){1, 4, 4}, 3, 1);
    CHECK(net != NULL);
    if (net == NULL) return;
    used = arena.used;
    CHECK(rn_net_add_conv2d(net, 2, 2, 2, 0) == RN_OK);
    CHECK(arena.used - used == RN__ARENA_ROUND(layer + 2 * param));
    used = arena.used;
    CHECK(rn_net_add_activation(net, RN_ACT_PRELU) == RN_OK);
    CHECK(arena.used - used == RN__ARENA_ROUND(layer + param));
    used = arena.used;
    CHECK(rn_net_add_flatten(net) == RN_OK);
    CHECK(arena.used - used == RN__ARENA_ROUND(layer));
    CHECK(strcmp(net->layers[1]->params[0].name, "act1.slope") == 0);
}

int main(void)
{
    RUN(test_crc32);
    RUN(test_round_trip_every_layer_and_kind);
    RUN(test_golden_file);
    RUN(test_format_1_still_loads);
    RUN(test_negative_running_variance_refused);
    RUN(test_every_truncation_and_flip_fails);
    RUN(test_newer_version_is_refused);
    RUN(test_resume_sgd_momentum);
    RUN(test_resume_adam);
    RUN(test_resume_adamw);
    RUN(test_resume_sgd_dampening_and_rprop);
    RUN(test_optim_load_errors_leave_it_unchanged);
    RUN(test_arena_inference);
    RUN(test_export_c_writes_every_value);
    RUN(test_fold_batchnorm);
    RUN(test_arena_buffers_in_place);
    RUN(test_arena_layers_are_compact);
    RUN(test_save_is_atomic);
    return finish();
}
