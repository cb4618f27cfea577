/* torch_driver.c - relunet's side of the differential test against PyTorch
 * (make test-torch).
 *
 * Writes one JSON object per line to stdout: a case's family, its settings,
 * its inputs and starting values, and what relunet computed from them
 * (forward outputs, input and parameter gradients, losses, or the parameter
 * values after every optimizer step). tests/torch_reference.py recomputes
 * each case with torch in float64 and compares.
 */
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "study_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rn_rng rng;

/* ----- JSON output ----- */

static void put_floats(const char *name, const float *values, size_t count)
{
    size_t i;
    printf(", \"%s\": [", name);
    for (i = 0; i < count; i++) printf("%s%.9g", i ? ", " : "", (double)values[i]);
    printf("]");
}

static void put_tensor(const char *name, const rn_tensor *t)
{
    int i;
    printf(", \"%s_shape\": [", name);
    for (i = 0; i < t->ndim; i++) printf("%s%d", i ? ", " : "", t->shape[i]);
    printf("]");
    put_floats(name, t->data, t->size);
}

/* Every parameter's values (or gradients) as "params": [[...], ...]. */
static void put_params(const char *name, rn_net *net, int gradients)
{
    int i, count = rn_net_param_count(net);
    size_t j;
    printf(", \"%s\": [", name);
    for (i = 0; i < count; i++) {
        const rn_tensor *t = gradients ? &rn_net_param(net, i)->grad : &rn_net_param(net, i)->value;
        printf("%s[", i ? ", " : "");
        for (j = 0; j < t->size; j++) printf("%s%.9g", j ? ", " : "", (double)t->data[j]);
        printf("]");
    }
    printf("]");
}

static void fill_uniform(rn_tensor *t, float low, float high)
{
    size_t i;
    for (i = 0; i < t->size; i++) t->data[i] = low + (high - low) * rn_rng_uniform(&rng);
}

static void batch_tensor(rn_tensor *t, int batch, const rn_net *net)
{
    int shape[RN_MAX_DIMS], i;
    shape[0] = batch;
    for (i = 0; i < net->in_ndim; i++) shape[i + 1] = net->in_shape[i];
    rn_tensor_new(t, net->in_ndim + 1, shape);
}

/* ----- layers and activations: forward, input and parameter gradients ----- */

/* Batch norm's running statistics, under names that end in suffix. */
static void put_running(rn_net *net, const char *suffix)
{
    char name[32];
    int i;
    for (i = 0; i < net->n_layers; i++)
        if (net->layers[i]->type == RN_LAYER_BATCHNORM) {
            snprintf(name, sizeof name, "running_mean%s", suffix);
            put_tensor(name, &net->layers[i]->running_mean);
            snprintf(name, sizeof name, "running_var%s", suffix);
            put_tensor(name, &net->layers[i]->running_var);
        }
}

/* Gives the network's parameters values in [low, high], runs it forward
   in mode on a random batch and backward from a random output gradient,
   and writes it all. */
static void layer_case(const char *family, const char *settings, rn_net *net, int batch,
                       rn_mode mode, float low, float high)
{
    rn_tensor x;
    int i;
    batch_tensor(&x, batch, net);
    fill_uniform(&x, -2.0f, 2.0f);
    for (i = 0; i < rn_net_param_count(net); i++)
        fill_uniform(&rn_net_param(net, i)->value, low, high);
    net->want_input_grad = 1;
    printf("{\"family\": \"%s\", %s, \"mode\": \"%s\"", family, settings,
           mode == RN_TRAIN ? "train" : "eval");
    put_tensor("x", &x);
    put_params("params", net, 0);
    put_running(net, "0");
    if (rn_net_forward(net, &x, mode) != RN_OK) {
        fprintf(stderr, "torch_driver: %s %s: %s\n", family, settings, rn_last_error());
        exit(1);
    }
    rn_net_zero_grad(net);
    fill_uniform(rn_net_output_grad(net), -1.0f, 1.0f);
    rn_net_backward(net);
    put_tensor("y", rn_net_output(net));
    put_tensor("dy", rn_net_output_grad(net));
    put_tensor("dx", rn_net_input_grad(net));
    put_params("dparams", net, 1);
    put_running(net, "");
    printf("}\n");
    rn_tensor_free(&x);
    rn_net_free(net);
}

static void conv_cases(void)
{
    /* in_channels, height, width, out_channels, kernel, stride, padding, bias, batch */
    static const int shapes[][9] = {
        {1, 5, 5, 1, 1, 1, 0, 1, 1},  {1, 7, 3, 2, 3, 1, 1, 1, 2},  {3, 8, 8, 4, 3, 1, 1, 1, 2},
        {2, 9, 7, 3, 3, 2, 1, 0, 3},  {3, 11, 13, 5, 5, 2, 2, 1, 2}, {4, 6, 6, 7, 2, 2, 0, 1, 1},
        {5, 10, 10, 3, 3, 3, 0, 1, 2}, {2, 5, 9, 17, 3, 1, 0, 1, 1}, {17, 4, 4, 2, 1, 1, 0, 0, 3},
        {1, 28, 28, 15, 2, 2, 0, 1, 2}, {8, 7, 7, 16, 5, 1, 2, 1, 1}, {3, 12, 5, 2, 4, 3, 2, 1, 2},
    };
    size_t i;
    char settings[256];
    for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        rn_net *net = rn_net_new(3, (int[]){s[0], s[1], s[2]});
        rn_net_add_conv2d(net, s[3], s[4], s[5], s[6]);
        if (!s[7]) rn_net_remove_bias(net);
        snprintf(settings, sizeof settings, "\"layer\": \"conv2d\", \"kernel\": %d, \"stride\": %d, "
                 "\"padding\": %d, \"bias\": %d", s[4], s[5], s[6], s[7]);
        layer_case("conv2d", settings, net, s[8], RN_TRAIN, -1.0f, 1.0f);
    }
}

static void other_layer_cases(void)
{
    static const int pools[][5] = {{2, 2, 8, 8, 2}, {3, 2, 7, 9, 1}, {2, 1, 5, 4, 3}, {3, 3, 9, 6, 2}};
    static const int linears[][4] = {{1, 1, 1, 1}, {7, 5, 3, 1}, {33, 10, 4, 0}, {64, 17, 2, 1}};
    char settings[256];
    size_t i;
    int max;
    for (max = 0; max < 2; max++)
        for (i = 0; i < sizeof pools / sizeof pools[0]; i++) {
            const int *p = pools[i];
            rn_net *net = rn_net_new(3, (int[]){3, p[2], p[3]});
            if (max) rn_net_add_maxpool2d(net, p[0], p[1]);
            else rn_net_add_avgpool2d(net, p[0], p[1]);
            snprintf(settings, sizeof settings, "\"layer\": \"%s\", \"kernel\": %d, \"stride\": %d",
                     max ? "maxpool" : "avgpool", p[0], p[1]);
            layer_case("pooling", settings, net, p[4], RN_TRAIN, -1.0f, 1.0f);
        }
    for (i = 0; i < sizeof linears / sizeof linears[0]; i++) {
        const int *l = linears[i];
        rn_net *net = rn_net_new(1, (int[]){l[0]});
        rn_net_add_linear(net, l[1]);
        if (!l[3]) rn_net_remove_bias(net);
        snprintf(settings, sizeof settings, "\"layer\": \"linear\", \"bias\": %d", l[3]);
        layer_case("linear", settings, net, l[2], RN_TRAIN, -1.0f, 1.0f);
    }
    {   /* flatten into linear: the layout of the flattened features */
        rn_net *net = rn_net_new(3, (int[]){3, 4, 5});
        rn_net_add_flatten(net);
        rn_net_add_linear(net, 6);
        layer_case("linear", "\"layer\": \"flatten_linear\", \"bias\": 1", net, 2, RN_TRAIN,
                   -1.0f, 1.0f);
    }
    for (i = 0; i < 4; i++) { /* batch norm: 2-D and 4-D input, train and eval */
        rn_net *net = i < 2 ? rn_net_new(3, (int[]){3, 5, 4}) : rn_net_new(1, (int[]){6});
        rn_mode mode = i % 2 == 0 ? RN_TRAIN : RN_EVAL;
        rn_net_add_batchnorm_ex(net, 1e-3f, 0.2f);
        if (mode == RN_EVAL) {
            fill_uniform(&net->layers[0]->running_mean, -1.0f, 1.0f);
            fill_uniform(&net->layers[0]->running_var, 0.5f, 2.0f);
        }
        layer_case("batchnorm", "\"layer\": \"batchnorm\", \"eps\": 1e-3, \"momentum\": 0.2", net,
                   i < 2 ? 4 : 7, mode, -1.0f, 1.0f);
    }
    {   /* dropout in eval mode is the identity, in train mode 0 or x / (1 - p) */
        rn_net *net = rn_net_new(1, (int[]){50});
        rn_net_add_dropout(net, 0.3f);
        layer_case("dropout", "\"layer\": \"dropout\", \"p\": 0.3", net, 4, RN_TRAIN, 0, 0);
        net = rn_net_new(1, (int[]){50});
        rn_net_add_dropout(net, 0.3f);
        layer_case("dropout", "\"layer\": \"dropout\", \"p\": 0.3", net, 4, RN_EVAL, 0, 0);
    }
}

/* Every kind in both sharing modes, on images (channels = planes) and on
   feature vectors (channels = features), with random parameter values so
   that no AReLU line ties with the other. */
static void activation_cases(void)
{
    char settings[256];
    int kind, share, images;
    for (kind = 0; kind < RN_ACT_KIND_COUNT; kind++)
        for (share = 0; share < 2; share++)
            for (images = 0; images < 2; images++) {
                rn_act_desc desc;
                rn_net *net = images ? rn_net_new(3, (int[]){3, 4, 5}) : rn_net_new(1, (int[]){7});
                memset(&desc, 0, sizeof desc);
                desc.kind = (rn_act_kind)kind;
                desc.share = share ? RN_SHARE_CHANNEL : RN_SHARE_LAYER;
                desc.slope = 0.1f;
                rn_net_add_activation_ex(net, &desc);
                snprintf(settings, sizeof settings, "\"layer\": \"activation\", \"kind\": \"%s\", "
                         "\"share\": \"%s\", \"slope\": 0.1", rn_act_kind_name(desc.kind),
                         share ? "channel" : "layer");
                /* mixture weights well away from a zero sum */
                if (kind == RN_ACT_MIX_ADAPTIVE || kind == RN_ACT_MIX_FIXED)
                    layer_case("activation", settings, net, 3, RN_TRAIN, 0.5f, 1.5f);
                else
                    layer_case("activation", settings, net, 3, RN_TRAIN, -1.0f, 1.0f);
            }
}

/* ----- losses ----- */

static void loss_cases(void)
{
    int batch, k;
    for (batch = 1; batch <= 7; batch += 3) {
        rn_tensor logits, grad, target;
        int labels[7];
        float targets[7 * 4], loss = 0.0f;
        rn_tensor_new(&logits, 2, (int[]){batch, 4});
        rn_tensor_new(&grad, 2, (int[]){batch, 4});
        rn_tensor_new(&target, 2, (int[]){batch, 4});
        fill_uniform(&logits, -4.0f, 4.0f);
        fill_uniform(&target, -1.0f, 1.0f);
        for (k = 0; k < batch; k++) labels[k] = (int)rn_rng_below(&rng, 4);
        for (k = 0; k < batch * 4; k++) targets[k] = rn_rng_uniform(&rng);
        rn_loss_cross_entropy(&logits, labels, &loss, &grad);
        printf("{\"family\": \"loss\", \"loss\": \"cross_entropy\", \"labels\": [");
        for (k = 0; k < batch; k++) printf("%s%d", k ? ", " : "", labels[k]);
        printf("]");
        put_tensor("x", &logits);
        put_floats("value", &loss, 1);
        put_tensor("grad", &grad);
        printf("}\n");
        rn_loss_bce_logits(&logits, targets, &loss, &grad);
        printf("{\"family\": \"loss\", \"loss\": \"bce_logits\"");
        put_floats("targets", targets, (size_t)batch * 4);
        put_tensor("x", &logits);
        put_floats("value", &loss, 1);
        put_tensor("grad", &grad);
        printf("}\n");
        rn_loss_mse(&logits, &target, &loss, &grad);
        printf("{\"family\": \"loss\", \"loss\": \"mse\"");
        put_floats("targets", target.data, target.size);
        put_tensor("x", &logits);
        put_floats("value", &loss, 1);
        put_tensor("grad", &grad);
        printf("}\n");
        rn_tensor_free(&logits);
        rn_tensor_free(&grad);
        rn_tensor_free(&target);
    }
}

/* ----- optimizers: 20-step trajectories ----- */

enum { TRAJECTORY_STEPS = 20, FREEZE_UNTIL = 5 };

typedef struct optim_case {
    const char *name;
    rn_optim_desc desc;
    int freeze_biases;          /* frozen for the first FREEZE_UNTIL steps */
    float bias_lr, bias_decay;  /* bias_lr > 0: the biases are a group of their own */
    int schedule;               /* step decay by 0.1 at steps 5 and 12 */
    float weight_min, weight_max; /* min < max: a projection range on the weights */
} optim_case;

static void put_desc(const rn_optim_desc *d)
{
    static const char *const kinds[] = {"sgd", "adam", "adamw", "rprop"};
    printf(", \"kind\": \"%s\", \"lr\": %.9g, \"momentum\": %.9g, \"dampening\": %.9g, "
           "\"nesterov\": %d, \"weight_decay\": %.9g, \"betas\": [%.9g, %.9g], \"eps\": %.9g, "
           "\"etas\": [%.9g, %.9g], \"step_sizes\": [%.9g, %.9g]",
           kinds[d->kind], (double)d->lr, (double)d->momentum, (double)d->dampening, d->nesterov,
           (double)d->weight_decay, (double)d->beta1, (double)d->beta2, (double)d->eps,
           (double)d->eta_minus, (double)d->eta_plus, (double)d->step_min, (double)d->step_max);
}

/* linear(3 -> 4), tanh, linear(4 -> 2) fitted to fixed targets by MSE. */
static void trajectory_case(const optim_case *c)
{
    rn_net *net = rn_net_new(1, (int[]){3});
    rn_optim *opt;
    rn_tensor x, target;
    int step, milestones[2] = {5, 12};
    float loss = 0.0f;
    rn_net_add_linear(net, 4);
    rn_net_add_activation(net, RN_ACT_TANH);
    rn_net_add_linear(net, 2);
    rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, 17);
    opt = rn_optim_new(net, &c->desc);
    if (opt == NULL) {
        fprintf(stderr, "torch_driver: %s: %s\n", c->name, rn_last_error());
        exit(1);
    }
    if (c->bias_lr > 0.0f)
        rn_optim_set_group(opt, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), c->bias_lr, c->bias_decay);
    if (c->weight_min < c->weight_max)
        rn_net_set_range(net, RN_PARAMS_NAMED("weight"), c->weight_min, c->weight_max);
    rn_tensor_new(&x, 2, (int[]){6, 3});
    rn_tensor_new(&target, 2, (int[]){6, 2});
    fill_uniform(&x, -1.0f, 1.0f);
    fill_uniform(&target, -0.8f, 0.8f);
    printf("{\"family\": \"optimizer\", \"name\": \"%s\"", c->name);
    put_desc(&opt->desc);
    printf(", \"freeze_biases_until\": %d, \"bias_lr\": %.9g, \"bias_decay\": %.9g, "
           "\"schedule\": %d, \"weight_range\": [%.9g, %.9g]", c->freeze_biases ? FREEZE_UNTIL : 0,
           (double)c->bias_lr, (double)c->bias_decay, c->schedule, (double)c->weight_min,
           (double)c->weight_max);
    put_tensor("x", &x);
    put_tensor("target", &target);
    put_params("params", net, 0);
    printf(", \"trajectory\": [");
    for (step = 0; step < TRAJECTORY_STEPS; step++) {
        if (c->schedule) rn_optim_scale_lr(opt, rn_lr_step_decay(step, milestones, 2, 0.1f));
        rn_net_set_frozen(net, RN_PARAMS_OF_KIND(RN_PARAM_BIAS),
                          c->freeze_biases && step < FREEZE_UNTIL);
        rn_net_forward(net, &x, RN_TRAIN);
        rn_net_zero_grad(net);
        rn_loss_mse(rn_net_output(net), &target, &loss, rn_net_output_grad(net));
        rn_net_backward(net);
        if (rn_optim_step(opt) != RN_OK) {
            fprintf(stderr, "torch_driver: %s: %s\n", c->name, rn_last_error());
            exit(1);
        }
        printf("%s{\"loss\": %.9g", step ? ", " : "", (double)loss);
        put_params("params", net, 0);
        printf("}");
    }
    printf("]}\n");
    rn_tensor_free(&x);
    rn_tensor_free(&target);
    rn_optim_free(opt);
    rn_net_free(net);
}

static void optimizer_cases(void)
{
    static const optim_case cases[] = {
        {"sgd", {RN_SGD, .lr = 0.1f}, 0, 0, 0, 0, 0, 0},
        {"sgd momentum", {RN_SGD, .lr = 0.1f, .momentum = 0.9f}, 0, 0, 0, 0, 0, 0},
        {"sgd dampening decay", {RN_SGD, .lr = 0.05f, .momentum = 0.8f, .dampening = 0.3f,
                                 .weight_decay = 0.01f}, 0, 0, 0, 0, 0, 0},
        {"sgd nesterov", {RN_SGD, .lr = 0.05f, .momentum = 0.9f, .nesterov = 1,
                          .weight_decay = 0.001f}, 0, 0, 0, 0, 0, 0},
        {"adam", {RN_ADAM, .lr = 0.01f}, 0, 0, 0, 0, 0, 0},
        {"adam decay betas", {RN_ADAM, .lr = 0.02f, .beta1 = 0.8f, .beta2 = 0.99f, .eps = 1e-6f,
                              .weight_decay = 0.05f}, 0, 0, 0, 0, 0, 0},
        {"adamw", {RN_ADAMW, .lr = 0.01f, .weight_decay = 0.1f}, 0, 0, 0, 0, 0, 0},
        {"rprop", {RN_RPROP, .lr = 0.01f}, 0, 0, 0, 0, 0, 0},
        {"rprop etas steps", {RN_RPROP, .lr = 0.02f, .eta_minus = 0.3f, .eta_plus = 1.5f,
                              .step_min = 1e-4f, .step_max = 0.05f}, 0, 0, 0, 0, 0, 0},
        {"sgd dampening freeze", {RN_SGD, .lr = 0.1f, .momentum = 0.9f, .dampening = 0.5f}, 1, 0,
         0, 0, 0, 0},
        {"adam freeze", {RN_ADAM, .lr = 0.01f}, 1, 0, 0, 0, 0, 0},
        {"adamw freeze", {RN_ADAMW, .lr = 0.01f, .weight_decay = 0.1f}, 1, 0, 0, 0, 0, 0},
        {"rprop freeze", {RN_RPROP, .lr = 0.01f}, 1, 0, 0, 0, 0, 0},
        {"sgd groups", {RN_SGD, .lr = 0.1f, .momentum = 0.5f, .weight_decay = 0.01f}, 0, 0.3f, 0,
         0, 0, 0},
        {"adam groups", {RN_ADAM, .lr = 0.01f, .weight_decay = 0.01f}, 0, 0.05f, 0.1f, 0, 0, 0},
        {"sgd schedule", {RN_SGD, .lr = 0.2f, .momentum = 0.9f}, 0, 0, 0, 1, 0, 0},
        {"adam schedule groups", {RN_ADAM, .lr = 0.02f}, 0, 0.04f, 0, 1, 0, 0},
        {"sgd projection", {RN_SGD, .lr = 0.3f, .momentum = 0.9f}, 0, 0, 0, 0, -0.3f, 0.3f},
        {"adamw projection freeze", {RN_ADAMW, .lr = 0.05f, .weight_decay = 0.1f}, 1, 0, 0, 0,
         -0.25f, 0.25f},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) trajectory_case(&cases[i]);
}

/* ----- the ReLU_alpha study network: 50 SGD steps ----- */

/* relu_alpha_sweep's network (three 2x2 convolutions with ReLU_alpha, one
   linear layer) on random 28x28 images, cross-entropy plus an L1 penalty on
   every alpha, alphas kept in [0, 1]. */
static void study_case(void)
{
    enum { STEPS = 50, BATCH = 8 };
    const rn_act_desc relu_alpha = {.kind = RN_ACT_RELU_ALPHA};
    rn_net *net = study_net(&relu_alpha, 5);
    rn_optim *opt;
    rn_tensor x;
    int labels[BATCH], step, k;
    float loss = 0.0f;
    const float lambda = 0.01f;
    rn_net_set_range(net, RN_PARAMS_NAMED("alpha"), 0.0f, 1.0f);
    opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = 0.05f, .momentum = 0.9f});
    batch_tensor(&x, BATCH, net);
    fill_uniform(&x, 0.0f, 1.0f);
    for (k = 0; k < BATCH; k++) labels[k] = (int)rn_rng_below(&rng, 10);
    printf("{\"family\": \"study\", \"lr\": 0.05, \"momentum\": 0.9, \"lambda\": %.9g",
           (double)lambda);
    printf(", \"labels\": [");
    for (k = 0; k < BATCH; k++) printf("%s%d", k ? ", " : "", labels[k]);
    printf("]");
    put_tensor("x", &x);
    put_params("params", net, 0);
    printf(", \"losses\": [");
    for (step = 0; step < STEPS; step++) {
        double penalty;
        rn_net_forward(net, &x, RN_TRAIN);
        rn_net_zero_grad(net);
        rn_loss_cross_entropy(rn_net_output(net), labels, &loss, rn_net_output_grad(net));
        rn_net_backward(net);
        penalty = rn_net_penalty(net, RN_PARAMS_NAMED("alpha"), RN_PENALTY_L1, lambda);
        rn_optim_step(opt);
        printf("%s%.9g", step ? ", " : "", (double)loss + penalty);
    }
    printf("]");
    put_params("final", net, 0);
    printf("}\n");
    rn_tensor_free(&x);
    rn_optim_free(opt);
    rn_net_free(net);
}

/* ----- int8 quantisation ----- */

static void put_int8s(const char *name, const int8_t *values, size_t count)
{
    size_t i;
    printf(", \"%s\": [", name);
    for (i = 0; i < count; i++) printf("%s%d", i ? ", " : "", values[i]);
    printf("]");
}

/* A conv2d layer quantised on a calibration batch: the per-channel weight
   scales and int8 weights, and the input's scale, zero point and int8
   values, which torch's observers and quantize functions recompute. One
   channel is all zeros (the scale's floor) and one has a single large
   weight. */
static void quantize_case(int in_channels, int out_channels, int kernel, float low, float high)
{
    rn_net *net = rn_net_new(3, (int[]){in_channels, 5, 5});
    rn_tensor x, weight_shaped;
    rn_qnet *qnet;
    int8_t *q;
    size_t j, fan = (size_t)in_channels * kernel * kernel;
    rn_param *weight;
    rn_net_add_conv2d(net, out_channels, kernel, 1, 0);
    weight = rn_net_param(net, 0);
    fill_uniform(&weight->value, -1.0f, 1.0f);
    for (j = 0; j < fan; j++) weight->value.data[j] = 0.0f;
    weight->value.data[fan + 1] = 7.5f;
    batch_tensor(&x, 3, net);
    fill_uniform(&x, low, high);
    if (rn_net_quantize(net, &x, &qnet) != RN_OK || (q = malloc(x.size)) == NULL) {
        fprintf(stderr, "torch_driver: quantize: %s\n", rn_last_error());
        exit(1);
    }
    for (j = 0; j < x.size; j++) q[j] = rn_quantize_value(x.data[j], qnet->layers[0].in);
    printf("{\"family\": \"quantize\", \"layer\": \"conv2d\", \"kernel\": %d", kernel);
    weight_shaped = weight->value;
    put_tensor("weight", &weight_shaped);
    put_floats("weight_scales", qnet->layers[0].weight_scales, (size_t)out_channels);
    put_int8s("weight_int8", qnet->layers[0].weights, weight->value.size);
    put_tensor("x", &x);
    printf(", \"x_scale\": %.9g, \"x_zero_point\": %d", (double)qnet->layers[0].in.scale,
           (int)qnet->layers[0].in.zero_point);
    put_int8s("x_int8", q, x.size);
    printf("}\n");
    free(q);
    rn_qnet_free(qnet);
    rn_tensor_free(&x);
    rn_net_free(net);
}

static void quantize_cases(void)
{
    quantize_case(1, 4, 3, 0.0f, 1.0f);   /* an image's range: zero point -128 */
    quantize_case(3, 5, 2, -2.0f, 0.7f);  /* mostly negative */
    quantize_case(2, 3, 3, -0.3f, 3.0f);
    quantize_case(4, 6, 1, -5.0f, -1.0f); /* all negative: widened to 0, zero point 127 */
}

int main(void)
{
    rn_rng_seed(&rng, 2024, 7);
    conv_cases();
    other_layer_cases();
    activation_cases();
    loss_cases();
    optimizer_cases();
    study_case();
    quantize_cases();
    return 0;
}
