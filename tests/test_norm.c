/* Batch normalisation, dropout and the step-decay learning-rate schedule. */
#include "relunet.h"
#include "harness.h"
#include "gradcheck.h"

#include <string.h>

#define TOLERANCE 2e-3

/* A batch of the network's sample shape, spread away from kinks, with
   some channels shifted and stretched so that batch norm has work to do. */
static void batch_for(const rn_net *net, int batch, rn_tensor *x, uint64_t seed)
{
    int shape[RN_MAX_DIMS];
    size_t i;
    shape[0] = batch;
    memcpy(shape + 1, net->in_shape, (size_t)net->in_ndim * sizeof(int));
    rn_tensor_new(x, net->in_ndim + 1, shape);
    gradcheck_fill_away_from_kinks(x, seed);
    for (i = 0; i < x->size; i++) x->data[i] = x->data[i] * (float)(1 + i % 3) + (float)(i % 5);
}

/* Non-default scale and shift, so their gradients are checked at a general point. */
static void set_norm_params(rn_layer *layer)
{
    size_t c;
    for (c = 0; c < layer->params[0].value.size; c++) {
        layer->params[0].value.data[c] = 0.5f + 0.25f * (float)c;
        layer->params[1].value.data[c] = 0.1f * (float)c - 0.2f;
    }
}

static void test_batchnorm_gradients(void)
{
    rn_net *image = rn_net_new(3, (int[]){3, 4, 5});
    rn_net *vector = rn_net_new(1, (int[]){6});
    rn_tensor x;
    double error;
    CHECK(rn_net_add_batchnorm(image) == RN_OK);
    CHECK(rn_net_add_batchnorm(vector) == RN_OK);
    set_norm_params(image->layers[0]);
    set_norm_params(vector->layers[0]);

    batch_for(image, 2, &x, 1);
    error = gradcheck_layer(image->layers[0], &x, 1);
    if (!(error >= 0 && error < TOLERANCE)) fprintf(stderr, "image batch norm: %g\n", error);
    CHECK(error >= 0 && error < TOLERANCE);
    rn_tensor_free(&x);

    batch_for(vector, 5, &x, 2);
    error = gradcheck_layer(vector->layers[0], &x, 2);
    if (!(error >= 0 && error < TOLERANCE)) fprintf(stderr, "vector batch norm: %g\n", error);
    CHECK(error >= 0 && error < TOLERANCE);
    rn_tensor_free(&x);
    rn_net_free(image);
    rn_net_free(vector);
}

/* In training every channel of the output has the shift as its mean and
   the scale as its (biased) standard deviation, up to eps. */
static void test_batchnorm_normalises(void)
{
    rn_net *net = rn_net_new(3, (int[]){2, 3, 3});
    const rn_tensor *y;
    rn_tensor x;
    int c, n, i;
    CHECK(rn_net_add_batchnorm_ex(net, 1e-7f, 0.1f) == RN_OK);
    set_norm_params(net->layers[0]);
    batch_for(net, 4, &x, 3);
    CHECK(rn_net_forward(net, &x, RN_TRAIN) == RN_OK);
    y = rn_net_output(net);
    for (c = 0; c < 2; c++) {
        double sum = 0.0, squares = 0.0, mean;
        for (n = 0; n < 4; n++)
            for (i = 0; i < 9; i++) sum += y->data[(n * 2 + c) * 9 + i];
        mean = sum / 36.0;
        for (n = 0; n < 4; n++)
            for (i = 0; i < 9; i++) {
                double d = y->data[(n * 2 + c) * 9 + i] - mean;
                squares += d * d;
            }
        CHECK_NEAR(mean, net->layers[0]->params[1].value.data[c], 1e-5);
        CHECK_NEAR(sqrt(squares / 36.0), net->layers[0]->params[0].value.data[c], 1e-4);
    }
    rn_tensor_free(&x);
    rn_net_free(net);
}

/* Running statistics after two training batches against the same sums
   done by hand, then an eval forward against the formula. */
static void test_batchnorm_running_statistics(void)
{
    float values[2][6] = {{1, 2, 3, 4, 5, 6}, {-1, 0.5f, 2, 8, -3, 4}};
    rn_net *net = rn_net_new(1, (int[]){2});
    rn_layer *layer;
    rn_tensor x;
    float expected_mean[2] = {0, 0}, expected_var[2] = {1, 1}, momentum = 0.25f;
    int b, c, n;
    CHECK(rn_net_add_batchnorm_ex(net, 1e-3f, momentum) == RN_OK);
    layer = net->layers[0];
    CHECK(strcmp(layer->params[0].name, "norm1.scale") == 0);
    CHECK(layer->params[0].kind == RN_PARAM_NORM && layer->params[1].kind == RN_PARAM_NORM);
    for (b = 0; b < 2; b++) {
        x = rn_tensor_view(values[b], 2, (int[]){3, 2}); /* 3 samples, 2 features */
        CHECK(rn_net_forward(net, &x, RN_TRAIN) == RN_OK);
        for (c = 0; c < 2; c++) {
            double mean = 0.0, var = 0.0;
            for (n = 0; n < 3; n++) mean += values[b][n * 2 + c] / 3.0;
            for (n = 0; n < 3; n++) var += pow(values[b][n * 2 + c] - mean, 2) / 2.0;
            expected_mean[c] = (1 - momentum) * expected_mean[c] + momentum * (float)mean;
            expected_var[c] = (1 - momentum) * expected_var[c] + momentum * (float)var;
            CHECK_NEAR(layer->running_mean.data[c], expected_mean[c], 1e-6);
            CHECK_NEAR(layer->running_var.data[c], expected_var[c], 1e-6);
        }
    }
    set_norm_params(layer);
    CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
    for (n = 0; n < 3; n++)
        for (c = 0; c < 2; c++) {
            double expected = (values[1][n * 2 + c] - expected_mean[c]) /
                                  sqrt(expected_var[c] + 1e-3) * layer->params[0].value.data[c] +
                              layer->params[1].value.data[c];
            CHECK_NEAR(rn_net_output(net)->data[n * 2 + c], expected, 1e-5);
        }
    /* eval does not move the running statistics */
    CHECK_NEAR(layer->running_mean.data[0], expected_mean[0], 1e-7);
    /* re-initialising resets them */
    CHECK(rn_net_init(net, RN_INIT_HE_NORMAL, 0.0f, 1) == RN_OK);
    CHECK(layer->running_mean.data[1] == 0.0f && layer->running_var.data[1] == 1.0f);
    CHECK(layer->params[0].value.data[1] == 1.0f && layer->params[1].value.data[1] == 0.0f);
    rn_net_free(net);
}

/* In eval mode batch norm is an affine map per channel: its gradients are
   checked by hand (gradcheck_layer always runs in training mode). */
static void test_batchnorm_eval_backward(void)
{
    rn_net *net = rn_net_new(3, (int[]){2, 2, 2});
    rn_layer *layer;
    rn_tensor x, dy, dx;
    float gain[2];
    size_t i;
    int c;
    memset(&dx, 0, sizeof dx);
    CHECK(rn_net_add_batchnorm(net) == RN_OK);
    layer = net->layers[0];
    batch_for(net, 3, &x, 4);
    CHECK(rn_net_forward(net, &x, RN_TRAIN) == RN_OK); /* moves the running statistics */
    set_norm_params(layer);
    CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
    rn_tensor_new(&dy, x.ndim, x.shape);
    for (i = 0; i < dy.size; i++) dy.data[i] = (float)i * 0.1f - 1.0f;
    rn_net_zero_grad(net);
    CHECK(rn_layer_backward(layer, &x, rn_net_output(net), &dy, &dx) == RN_OK);
    for (c = 0; c < 2; c++)
        gain[c] = layer->params[0].value.data[c] / sqrtf(layer->running_var.data[c] + layer->eps);
    for (i = 0; i < dx.size; i++) CHECK_NEAR(dx.data[i], dy.data[i] * gain[i / 4 % 2], 1e-6);
    rn_tensor_free(&x);
    rn_tensor_free(&dy);
    rn_tensor_free(&dx);
    rn_net_free(net);
}

static void test_batchnorm_arguments(void)
{
    rn_net *net = rn_net_new(1, (int[]){3});
    rn_tensor x;
    float one_sample[3] = {1, 2, 3};
    CHECK(rn_net_add_batchnorm_ex(net, 0.0f, 0.1f) == RN_ERR_ARGUMENT);
    CHECK(rn_net_add_batchnorm_ex(net, 1e-5f, 1.5f) == RN_ERR_ARGUMENT);
    CHECK(net->n_layers == 0);
    CHECK(rn_net_add_batchnorm(net) == RN_OK);
    x = rn_tensor_view(one_sample, 2, (int[]){1, 3});
    CHECK(rn_net_forward(net, &x, RN_TRAIN) == RN_ERR_SHAPE); /* one value per feature */
    CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
    rn_net_free(net);
}

/* ----- dropout ----- */

static rn_net *dropout_net(int features, float p, uint64_t seed)
{
    rn_net *net = rn_net_new(1, &features);
    rn_net_add_dropout(net, p);
    rn_net_init(net, RN_INIT_HE_NORMAL, 0.0f, seed);
    return net;
}

/* A batch of ones: the output is the mask itself. */
static rn_tensor ones(int batch, int features)
{
    rn_tensor x;
    rn_tensor_new(&x, 2, (int[]){batch, features});
    rn_tensor_fill(&x, 1.0f);
    return x;
}

static void test_dropout_rate_and_scaling(void)
{
    rn_net *net = dropout_net(1000, 0.3f, 5);
    rn_tensor x = ones(100, 1000);
    size_t i, dropped = 0, wrong_scale = 0;
    CHECK(rn_net_forward(net, &x, RN_TRAIN) == RN_OK);
    for (i = 0; i < x.size; i++) {
        float v = rn_net_output(net)->data[i];
        if (v == 0.0f) dropped++;
        else if (v != 1.0f / 0.7f) wrong_scale++;
    }
    /* 100 000 draws: the standard deviation of the rate is 0.0015 */
    CHECK(fabs((double)dropped / (double)x.size - 0.3) < 0.006);
    CHECK(wrong_scale == 0);
    CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK);
    for (i = 0; i < x.size; i++) wrong_scale += rn_net_output(net)->data[i] != 1.0f;
    CHECK(wrong_scale == 0);
    rn_tensor_free(&x);
    rn_net_free(net);
}

static int same_output(rn_net *a, rn_net *b)
{
    return rn_net_output(a)->size == rn_net_output(b)->size &&
           memcmp(rn_net_output(a)->data, rn_net_output(b)->data,
                  rn_net_output(a)->size * sizeof(float)) == 0;
}

static void test_dropout_seeding(void)
{
    rn_net *a = dropout_net(50, 0.5f, 11), *b = dropout_net(50, 0.5f, 11);
    rn_net *c = dropout_net(50, 0.5f, 12);
    rn_tensor x = ones(4, 50), first;
    memset(&first, 0, sizeof first);
    rn_net_forward(a, &x, RN_TRAIN);
    rn_net_forward(b, &x, RN_TRAIN);
    rn_net_forward(c, &x, RN_TRAIN);
    CHECK(same_output(a, b));
    CHECK(!same_output(a, c));
    rn_tensor_resize(&first, 2, x.shape);
    rn_tensor_copy(&first, rn_net_output(a));
    rn_net_forward(a, &x, RN_TRAIN); /* a new mask per batch */
    CHECK(memcmp(first.data, rn_net_output(a)->data, x.size * sizeof(float)) != 0);
    rn_net_init(a, RN_INIT_HE_NORMAL, 0.0f, 11); /* the seed restarts the stream */
    rn_net_forward(a, &x, RN_TRAIN);
    CHECK(memcmp(first.data, rn_net_output(a)->data, x.size * sizeof(float)) == 0);
    rn_tensor_free(&first);
    rn_tensor_free(&x);
    rn_net_free(a);
    rn_net_free(b);
    rn_net_free(c);
}

/* Dropout draws no numbers from the init stream: the layers after it get
   the same weights as without it. */
static void test_dropout_keeps_weights(void)
{
    rn_net *plain = rn_net_new(1, (int[]){4}), *dropped = rn_net_new(1, (int[]){4});
    rn_net_add_linear(plain, 3);
    rn_net_add_linear(plain, 2);
    rn_net_add_linear(dropped, 3);
    rn_net_add_dropout(dropped, 0.5f);
    rn_net_add_linear(dropped, 2);
    rn_net_init(plain, RN_INIT_HE_NORMAL, 0.0f, 3);
    rn_net_init(dropped, RN_INIT_HE_NORMAL, 0.0f, 3);
    CHECK(memcmp(plain->layers[1]->params[0].value.data, dropped->layers[2]->params[0].value.data,
                 6 * sizeof(float)) == 0);
    rn_net_free(plain);
    rn_net_free(dropped);
}

static void test_dropout_backward(void)
{
    rn_net *net = dropout_net(20, 0.4f, 9);
    rn_tensor x = ones(3, 20), *dy;
    size_t i, mismatches = 0;
    for (i = 0; i < x.size; i++) x.data[i] = 0.5f + (float)i;
    net->want_input_grad = 1;
    rn_net_forward(net, &x, RN_TRAIN);
    dy = rn_net_output_grad(net);
    for (i = 0; i < dy->size; i++) dy->data[i] = 2.0f - (float)i * 0.01f;
    CHECK(rn_net_backward(net) == RN_OK);
    /* y = mask x and dx = mask dy, with the mask of that forward pass */
    for (i = 0; i < x.size; i++) {
        float mask = rn_net_output(net)->data[i] / x.data[i];
        mismatches += fabsf(rn_net_input_grad(net)->data[i] - mask * dy->data[i]) > 1e-5f;
    }
    CHECK(mismatches == 0);
    rn_net_forward(net, &x, RN_EVAL); /* eval backward passes dy through */
    for (i = 0; i < dy->size; i++) dy->data[i] = (float)i;
    CHECK(rn_net_backward(net) == RN_OK);
    CHECK(memcmp(rn_net_input_grad(net)->data, dy->data, dy->size * sizeof(float)) == 0);
    rn_tensor_free(&x);
    rn_net_free(net);
}

static void test_dropout_arguments(void)
{
    rn_net *net = rn_net_new(1, (int[]){3});
    CHECK(rn_net_add_dropout(net, 1.0f) == RN_ERR_ARGUMENT);
    CHECK(rn_net_add_dropout(net, -0.1f) == RN_ERR_ARGUMENT);
    CHECK(rn_net_add_dropout(net, NAN) == RN_ERR_ARGUMENT);
    CHECK(net->n_layers == 0);
    CHECK(rn_net_add_dropout(net, 0.0f) == RN_OK);
    CHECK(strcmp(net->layers[0]->name, "dropout1") == 0);
    rn_net_free(net);
}

/* ----- learning-rate schedule ----- */

static void test_step_decay(void)
{
    int milestones[3] = {3, 5, 5}, epoch;
    float expected[7] = {1, 1, 1, 0.1f, 1, 0.01f, 1}, lr = 1.0f;
    for (epoch = 0; epoch < 7; epoch++)
        CHECK_NEAR(rn_lr_step_decay(epoch, milestones, 3, 0.1f), expected[epoch], 1e-7);
    for (epoch = 0; epoch < 7; epoch++) lr *= rn_lr_step_decay(epoch, milestones, 2, 0.5f);
    CHECK_NEAR(lr, 0.25f, 1e-7);
    CHECK(rn_lr_step_decay(3, NULL, 0, 0.1f) == 1.0f);
}

/* The schedule through rn_optim_scale_lr: a parameter with gradient 1 moves
   by the learning rate of each epoch. */
static void test_step_decay_with_optimizer(void)
{
    rn_net *net = rn_net_new(1, (int[]){1});
    rn_optim *opt;
    rn_param *weight;
    float before, steps[4];
    int epoch, milestone = 2;
    rn_net_add_linear(net, 1);
    opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = 0.5f});
    weight = rn_net_param(net, 0);
    for (epoch = 0; epoch < 4; epoch++) {
        rn_optim_scale_lr(opt, rn_lr_step_decay(epoch, &milestone, 1, 0.1f));
        rn_net_zero_grad(net);
        rn_tensor_fill(&weight->grad, 1.0f);
        before = weight->value.data[0];
        rn_optim_step(opt);
        steps[epoch] = before - weight->value.data[0];
    }
    CHECK_NEAR(steps[0], 0.5f, 1e-6);
    CHECK_NEAR(steps[1], 0.5f, 1e-6);
    CHECK_NEAR(steps[2], 0.05f, 1e-5);
    CHECK_NEAR(steps[3], 0.05f, 1e-5);
    rn_optim_free(opt);
    rn_net_free(net);
}

/* A whole small net with batch norm and dropout trains: the loss falls. */
static void test_training_with_norm_and_dropout(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, 6, 6});
    rn_optim *opt;
    rn_tensor x;
    int labels[16], n, step;
    float first = 0.0f, last = 0.0f;
    rn_net_add_conv2d(net, 4, 3, 1, 1);
    rn_net_add_batchnorm(net);
    rn_net_add_activation(net, RN_ACT_RELU);
    rn_net_add_flatten(net);
    rn_net_add_dropout(net, 0.1f);
    rn_net_add_linear(net, 2);
    rn_net_init(net, RN_INIT_HE_NORMAL, 0.0f, 1);
    opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = 0.1f, .momentum = 0.9f});
    batch_for(net, 16, &x, 8);
    for (n = 0; n < 16; n++) labels[n] = x.data[n * 36 + 14] > x.data[n * 36 + 21];
    for (step = 0; step < 30; step++) {
        float loss;
        rn_net_forward(net, &x, RN_TRAIN);
        rn_net_zero_grad(net);
        rn_loss_cross_entropy(rn_net_output(net), labels, &loss, rn_net_output_grad(net));
        CHECK(rn_net_backward(net) == RN_OK);
        rn_optim_step(opt);
        if (step == 0) first = loss;
        last = loss;
    }
    CHECK(last < 0.5f * first);
    rn_tensor_free(&x);
    rn_optim_free(opt);
    rn_net_free(net);
}

int main(void)
{
    RUN(test_batchnorm_gradients);
    RUN(test_batchnorm_normalises);
    RUN(test_batchnorm_running_statistics);
    RUN(test_batchnorm_eval_backward);
    RUN(test_batchnorm_arguments);
    RUN(test_dropout_rate_and_scaling);
    RUN(test_dropout_seeding);
    RUN(test_dropout_keeps_weights);
    RUN(test_dropout_backward);
    RUN(test_dropout_arguments);
    RUN(test_step_decay);
    RUN(test_step_decay_with_optimizer);
    RUN(test_training_with_norm_and_dropout);
    return finish();
}
