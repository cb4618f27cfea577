/* test_rai.c - relaxed activation identity training: the loss against a
 * reference computed here in double from its definition, finite-difference
 * gradients with respect to W, b and every Z, the start from a forward pass,
 * re-syncing, training, and the argument checks. */
#include "relunet.h"
#include "harness.h"
#include "gradcheck.h"

#include <string.h>

#define TOLERANCE 2e-3
#define N 6

/* Everything the reference loss needs: the network, the data, and the
   auxiliaries as the rn_rai holds them. */
typedef struct rai_case {
    rn_net *net;
    rn_rai *rai;
    rn_tensor x;
    float targets[N * 3];
    int labels[N];
    int use_labels;
    float hidden_weights[8];
} rai_case;

/* mean((Z - Zhat)^2) over all elements, in double. */
static double mean_squared_difference(const rn_tensor *z, const rn_tensor *prediction)
{
    double sum = 0.0;
    size_t i;
    for (i = 0; i < z->size; i++) {
        double d = (double)z->data[i] - prediction->data[i];
        sum += d * d;
    }
    return sum / (double)z->size;
}

/* L_y on the logits Z_L: mean BCE with logits over all elements, or mean
   softmax cross-entropy over the examples. */
static double output_loss(const rai_case *c, const rn_tensor *logits)
{
    int n = logits->shape[0], classes = logits->shape[1], i, j;
    double sum = 0.0;
    for (i = 0; i < n; i++) {
        const float *row = logits->data + (size_t)i * classes;
        double normaliser = 0.0;
        for (j = 0; j < classes; j++) {
            double z = row[j], p = 1.0 / (1.0 + exp(-z)), t = c->targets[i * classes + j];
            if (!c->use_labels) sum -= t * log(p) + (1.0 - t) * log(1.0 - p);
            normaliser += exp(z);
        }
        if (c->use_labels) sum += log(normaliser) - row[c->labels[i]];
    }
    return c->use_labels ? sum / n : sum / ((double)n * classes);
}

/* The RAI loss from its definition: each linear layer t predicts Zhat_t from
   Z_{t-1} (x for the first) through the layers since the previous linear
   layer; L = L_y(Z_L) + sum_t w_t mean((Z_t - Zhat_t)^2). */
static double reference_loss(void *context)
{
    rai_case *c = (rai_case *)context;
    rn_tensor scratch[2];
    const rn_tensor *input = &c->x;
    double hidden = 0.0, loss;
    int i, t = 0;
    memset(scratch, 0, sizeof scratch);
    for (i = 0; i < c->net->n_layers; i++) {
        rn_tensor *output = &scratch[i % 2];
        rn_layer_forward(c->net->layers[i], input, output, RN_TRAIN);
        input = output;
        if (c->net->layers[i]->type != RN_LAYER_LINEAR) continue;
        input = &rn_rai_aux(c->rai, t)->value;
        hidden += c->hidden_weights[t] * mean_squared_difference(input, output);
        t++;
    }
    loss = output_loss(c, input) + hidden;
    rn_tensor_free(&scratch[0]);
    rn_tensor_free(&scratch[1]);
    return loss;
}

enum { BCE_NET, CROSS_ENTROPY_NET };

/* BCE_NET: 3 -> linear 4 -> tanh -> linear 5 -> sigmoid -> linear 3, soft
   targets. CROSS_ENTROPY_NET: 3 -> tanh -> linear 5 -> relu -> linear 4 ->
   relu -> relu -> linear 3, class labels: segments of several layers, one
   before the first linear layer. Hidden weights differ per layer. */
static void make_case(rai_case *c, int kind, const rn_rai_desc *base)
{
    rn_rai_desc desc;
    rn_rng rng;
    int i;
    memset(c, 0, sizeof *c);
    c->use_labels = kind == CROSS_ENTROPY_NET;
    c->net = rn_net_new(1, (int[]){3});
    if (kind == BCE_NET) {
        rn_net_add_linear(c->net, 4);
        rn_net_add_activation(c->net, RN_ACT_TANH);
        rn_net_add_linear(c->net, 5);
        rn_net_add_activation(c->net, RN_ACT_SIGMOID);
        rn_net_add_linear(c->net, 3);
    } else {
        rn_net_add_activation(c->net, RN_ACT_TANH);
        rn_net_add_linear(c->net, 5);
        rn_net_add_activation(c->net, RN_ACT_RELU);
        rn_net_add_linear(c->net, 4);
        rn_net_add_activation(c->net, RN_ACT_RELU);
        rn_net_add_activation(c->net, RN_ACT_RELU);
        rn_net_add_linear(c->net, 3);
    }
    rn_net_init(c->net, RN_INIT_TORCH_DEFAULT, 0.0f, 5);
    rn_tensor_new(&c->x, 2, (int[]){N, 3});
    rn_rng_seed(&rng, 3, kind);
    for (i = 0; i < N * 3; i++) {
        c->x.data[i] = rn_rng_normal(&rng);
        c->targets[i] = rn_rng_uniform(&rng);
    }
    for (i = 0; i < N; i++) c->labels[i] = (int)rn_rng_below(&rng, 3);
    for (i = 0; i < 8; i++) c->hidden_weights[i] = 0.5f + 0.75f * (float)i;
    memset(&desc, 0, sizeof desc);
    if (base != NULL) desc = *base;
    desc.hidden_weights = c->hidden_weights;
    c->rai = rn_rai_new(c->net, &c->x, c->use_labels ? NULL : c->targets,
                        c->use_labels ? c->labels : NULL, &desc);
    CHECK(c->rai != NULL);
}

static void free_case(rai_case *c)
{
    rn_rai_free(c->rai);
    rn_net_free(c->net);
    rn_tensor_free(&c->x);
}

/* Moves every Z off the forward pass (so each L_h^t > 0) and at least 0.05
   from 0, further than a finite-difference step from ReLU's kink. */
static void perturb_aux(rai_case *c, uint64_t seed)
{
    rn_param *z;
    rn_rng rng;
    int t;
    size_t i;
    rn_rng_seed(&rng, seed, 1);
    for (t = 0; (z = rn_rai_aux(c->rai, t)) != NULL; t++)
        for (i = 0; i < z->value.size; i++) {
            float v = z->value.data[i] + 0.3f * rn_rng_normal(&rng);
            z->value.data[i] = fabsf(v) >= 0.05f ? v : v >= 0.0f ? 0.05f : -0.05f;
        }
}

/* Worst gradient error over every network parameter and every Z. */
static double worst_gradient_error(rai_case *c)
{
    rn_param *param;
    double worst = 0.0;
    int i;
    for (i = 0; (param = rn_net_param(c->net, i)) != NULL; i++) {
        double error = gradcheck_vector(param->value.data, param->grad.data, param->value.size,
                                        reference_loss, c);
        if (error > worst) worst = error;
    }
    for (i = 0; (param = rn_rai_aux(c->rai, i)) != NULL; i++) {
        double error = gradcheck_vector(param->value.data, param->grad.data, param->value.size,
                                        reference_loss, c);
        if (error > worst) worst = error;
    }
    return worst;
}

static void check_loss_and_gradients(int kind)
{
    rai_case c;
    rn_rai_losses losses;
    make_case(&c, kind, NULL);
    if (c.rai == NULL) return;
    perturb_aux(&c, 17 + kind);
    CHECK(rn_rai_loss(c.rai, &losses) == RN_OK);
    CHECK(losses.hidden > 0.01);
    CHECK_NEAR(losses.total, reference_loss(&c), 1e-5);
    CHECK_NEAR(losses.total, losses.output + losses.hidden, 1e-12);
    CHECK(worst_gradient_error(&c) < TOLERANCE);
    free_case(&c);
}

static void test_gradients_bce(void) { check_loss_and_gradients(BCE_NET); }
static void test_gradients_cross_entropy(void) { check_loss_and_gradients(CROSS_ENTROPY_NET); }

/* Z starts as a forward pass: every L_h is exactly 0, L_y is the ordinary
   loss of the network's output, and each Z_t is linear layer t's output. */
static void test_starts_from_forward_pass(void)
{
    rai_case c;
    rn_rai_losses losses;
    float forward_loss;
    int t, i;
    make_case(&c, BCE_NET, NULL);
    if (c.rai == NULL) return;
    CHECK(rn_rai_loss(c.rai, &losses) == RN_OK);
    CHECK(losses.hidden == 0.0);
    CHECK(rn_net_forward(c.net, &c.x, RN_EVAL) == RN_OK);
    rn_loss_bce_logits(rn_net_output(c.net), c.targets, &forward_loss, NULL);
    CHECK_NEAR(losses.output, forward_loss, 1e-6);
    for (t = 0, i = 0; i < c.net->n_layers; i++) {
        if (c.net->layers[i]->type != RN_LAYER_LINEAR) continue;
        CHECK(memcmp(rn_rai_aux(c.rai, t)->value.data, c.net->outputs[i].data,
                     c.net->outputs[i].size * sizeof(float)) == 0);
        t++;
    }
    CHECK(t == 3 && rn_rai_aux(c.rai, 3) == NULL);
    free_case(&c);
}

/* Auxiliaries are named after their layer, have their own kind, and can get
   their own learning rate: with lr 0 for them, a step moves only W and b. */
static void test_aux_params_and_groups(void)
{
    rai_case c;
    rn_rai_desc desc;
    rn_param *z;
    float z_before, w_before;
    memset(&desc, 0, sizeof desc);
    desc.optim.kind = RN_SGD;
    desc.optim.lr = 0.5f;
    make_case(&c, BCE_NET, &desc);
    if (c.rai == NULL) return;
    z = rn_rai_aux(c.rai, 1);
    CHECK(strcmp(z->name, "linear2.z") == 0);
    CHECK(z->kind == RN_PARAM_AUXILIARY && z->layer == 2);
    CHECK(z->value.shape[0] == N && z->value.shape[1] == 5);
    perturb_aux(&c, 5);
    rn_optim_set_group(rn_rai_optim(c.rai), RN_PARAMS_OF_KIND(RN_PARAM_AUXILIARY), 0.0f, 0.0f);
    z_before = z->value.data[0];
    w_before = rn_net_param(c.net, 0)->value.data[0];
    CHECK(rn_rai_step(c.rai, NULL) == RN_OK);
    CHECK(z->value.data[0] == z_before);
    CHECK(rn_net_param(c.net, 0)->value.data[0] != w_before);
    free_case(&c);
}

/* resync_every 2: after one step the layers disagree with Z, after the
   second Z is a fresh forward pass again. */
static void test_resync(void)
{
    rai_case c;
    rn_rai_desc desc;
    rn_rai_losses losses;
    memset(&desc, 0, sizeof desc);
    desc.optim.kind = RN_RPROP;
    desc.optim.lr = 0.05f;
    desc.resync_every = 2;
    make_case(&c, BCE_NET, &desc);
    if (c.rai == NULL) return;
    CHECK(rn_rai_step(c.rai, &losses) == RN_OK);
    CHECK(losses.hidden == 0.0);
    CHECK(rn_rai_loss(c.rai, &losses) == RN_OK);
    CHECK(losses.hidden > 0.0);
    CHECK(rn_rai_step(c.rai, NULL) == RN_OK);
    CHECK(rn_rai_loss(c.rai, &losses) == RN_OK);
    CHECK(losses.hidden == 0.0);
    free_case(&c);
}

/* RAI with Rprop learns XOR of the coordinates' signs: Z_L separates every
   point, and the ordinary forward pass, which never sees Z, classifies at
   least 90% of them. It need not get them all: each layer's small remaining
   disagreement with its Z (here up to 0.09 at the first layer) is amplified
   by the layers after it. */
static void test_trains_xor(void)
{
    enum { POINTS = 40 };
    rn_net *net = rn_net_new(1, (int[]){2});
    rn_rai_desc desc;
    rn_rai_losses first, last;
    rn_rai *rai;
    rn_tensor x;
    rn_rng rng;
    float targets[POINTS];
    int i, step, correct = 0;
    rn_net_add_linear(net, 16);
    rn_net_add_activation(net, RN_ACT_TANH);
    rn_net_add_linear(net, 16);
    rn_net_add_activation(net, RN_ACT_TANH);
    rn_net_add_linear(net, 1);
    rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, 1);
    rn_tensor_new(&x, 2, (int[]){POINTS, 2});
    rn_rng_seed(&rng, 9, 0);
    for (i = 0; i < POINTS; i++) {
        float a = (0.2f + 0.8f * rn_rng_uniform(&rng)) * (i % 2 ? 1.0f : -1.0f);
        float b = (0.2f + 0.8f * rn_rng_uniform(&rng)) * (i % 4 < 2 ? 1.0f : -1.0f);
        x.data[2 * i] = a;
        x.data[2 * i + 1] = b;
        targets[i] = (a > 0.0f) != (b > 0.0f) ? 1.0f : 0.0f;
    }
    memset(&desc, 0, sizeof desc);
    desc.optim.kind = RN_RPROP;
    desc.optim.lr = 0.01f;
    rai = rn_rai_new(net, &x, targets, NULL, &desc);
    CHECK(rai != NULL);
    for (step = 0; rai != NULL && step < 500; step++)
        CHECK(rn_rai_step(rai, step == 0 ? &first : &last) == RN_OK);
    CHECK(last.total < 0.05 * first.total);
    /* rn_rai_loss overwrote the cached forward pass: backward must refuse */
    CHECK(rn_net_backward(net) != RN_OK);
    CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
    for (i = 0; i < POINTS; i++) correct += (rn_net_output(net)->data[i] > 0.0f) == (targets[i] > 0.5f);
    CHECK(correct >= POINTS * 9 / 10);
    for (i = 0, correct = 0; i < POINTS; i++)
        correct += (rn_rai_aux(rai, 2)->value.data[i] > 0.0f) == (targets[i] > 0.5f);
    CHECK(correct == POINTS);
    rn_rai_free(rai);
    rn_tensor_free(&x);
    rn_net_free(net);
}

/* Each bad argument gets NULL and a message naming what was wrong. */
static void test_rejects_bad_arguments(void)
{
    rn_net *net = rn_net_new(1, (int[]){2}), *conv = rn_net_new(3, (int[]){1, 4, 4});
    rn_net *ends_in_activation = rn_net_new(1, (int[]){2});
    rn_tensor x, wrong_x, image;
    rn_rai_desc desc;
    float targets[8] = {0, 1, 0, 1, 1, 0, 1, 0}; /* 4 examples x 2 outputs */
    int labels[4] = {0, 1, 0, 5};
    rn_net_add_linear(net, 3);
    rn_net_add_activation(net, RN_ACT_RELU);
    rn_net_add_linear(net, 2);
    rn_net_add_conv2d(conv, 2, 3, 1, 1);
    rn_net_add_flatten(conv);
    rn_net_add_linear(conv, 1);
    rn_net_add_linear(ends_in_activation, 1);
    rn_net_add_activation(ends_in_activation, RN_ACT_SIGMOID);
    rn_tensor_new(&x, 2, (int[]){4, 2});
    rn_tensor_new(&wrong_x, 2, (int[]){4, 3});
    rn_tensor_new(&image, 4, (int[]){4, 1, 4, 4});
    memset(&desc, 0, sizeof desc);
    CHECK(rn_rai_new(NULL, &x, targets, NULL, NULL) == NULL);
    CHECK(rn_rai_new(conv, &image, targets, NULL, NULL) == NULL);
    CHECK(strstr(rn_last_error(), "conv1") != NULL);
    CHECK(rn_rai_new(ends_in_activation, &x, targets, NULL, NULL) == NULL);
    CHECK(strstr(rn_last_error(), "linear") != NULL);
    CHECK(rn_rai_new(net, &wrong_x, targets, NULL, NULL) == NULL);
    CHECK(rn_rai_new(net, &x, targets, labels, NULL) == NULL);
    CHECK(rn_rai_new(net, &x, NULL, NULL, NULL) == NULL);
    CHECK(rn_rai_new(net, &x, NULL, labels, NULL) == NULL);
    CHECK(strstr(rn_last_error(), "label 5") != NULL);
    desc.resync_every = -1;
    CHECK(rn_rai_new(net, &x, targets, NULL, &desc) == NULL);
    desc.resync_every = 0;
    desc.optim.kind = (rn_optim_kind)99;
    CHECK(rn_rai_new(net, &x, targets, NULL, &desc) == NULL);
    CHECK(rn_rai_loss(NULL, NULL) == RN_ERR_ARGUMENT && rn_rai_step(NULL, NULL) != RN_OK);
    CHECK(rn_rai_aux(NULL, 0) == NULL && rn_rai_optim(NULL) == NULL);
    rn_rai_free(NULL);
    rn_tensor_free(&x);
    rn_tensor_free(&wrong_x);
    rn_tensor_free(&image);
    rn_net_free(net);
    rn_net_free(conv);
    rn_net_free(ends_in_activation);
}

int main(void)
{
    (void)gradcheck_layer; /* gradcheck.h's layer helpers are not needed here */
    (void)gradcheck_fill_away_from_kinks;
    RUN(test_starts_from_forward_pass);
    RUN(test_gradients_bce);
    RUN(test_gradients_cross_entropy);
    RUN(test_aux_params_and_groups);
    RUN(test_resync);
    RUN(test_trains_xor);
    RUN(test_rejects_bad_arguments);
    return finish();
}
