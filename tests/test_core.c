/* Status messages, random numbers, tensors, network construction, metrics,
   and bad input: every wrong call gets an error status, never a crash. */
#include "relunet.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* Reference output of the PCG32 demo program (pcg32_srandom(42, 54)). */
static void test_rng_matches_pcg32_reference(void)
{
    static const uint32_t expected[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                         0x83d2f293, 0xbfa4784b, 0xcbed606e};
    rn_rng rng;
    int i;
    rn_rng_seed(&rng, 42, 54);
    for (i = 0; i < 6; i++) CHECK(rn_rng_u32(&rng) == expected[i]);
}

static void test_rng_distributions(void)
{
    rn_rng rng;
    double sum = 0, sum_squares = 0, uniform_sum = 0;
    int counts[7] = {0}, i, n = 200000;
    rn_rng_seed(&rng, 1, 0);
    for (i = 0; i < n; i++) {
        double z = rn_rng_normal(&rng);
        float u = rn_rng_uniform(&rng);
        sum += z;
        sum_squares += z * z;
        uniform_sum += u;
        CHECK(u >= 0.0f && u < 1.0f);
        counts[rn_rng_below(&rng, 7)]++;
    }
    CHECK(fabs(sum / n) < 0.01);
    CHECK(fabs(sum_squares / n - 1.0) < 0.02);
    CHECK(fabs(uniform_sum / n - 0.5) < 0.005);
    for (i = 0; i < 7; i++) CHECK(abs(counts[i] - n / 7) < n / 7 / 20);
}

static void test_tensor_basics(void)
{
    rn_tensor t, copy, view;
    char text[64];
    CHECK(rn_tensor_new(&t, 4, (int[]){2, 3, 4, 5}) == RN_OK);
    CHECK(t.size == 120 && t.capacity == 120 && t.data[119] == 0.0f);
    CHECK((uintptr_t)t.data % 64 == 0);
    rn_tensor_shape_string(&t, text, sizeof text);
    CHECK(strcmp(text, "[2, 3, 4, 5]") == 0);
    rn_tensor_fill(&t, 1.5f);
    view = rn_tensor_slice(&t, 1, 1);
    CHECK(view.size == 60 && view.capacity == 0 && view.data == t.data + 60);
    view.data[0] = 7.0f;
    CHECK(t.data[60] == 7.0f);
    CHECK(rn_tensor_slice(&t, 1, 2).data == NULL);
    CHECK(rn_tensor_slice(&t, -1, 1).data == NULL);
    CHECK(rn_tensor_slice(&t, 0, 0).data == NULL);
    CHECK(strstr(rn_last_error(), "rn_tensor_slice") != NULL);
    CHECK(rn_tensor_reshape(&t, 2, (int[]){12, 10}) == RN_OK);
    CHECK(t.shape[1] == 10 && t.shape[2] == 0);
    CHECK(rn_tensor_new(&copy, 1, (int[]){120}) == RN_OK);
    CHECK(rn_tensor_copy(&copy, &t) == RN_OK && copy.data[60] == 7.0f);
    CHECK(rn_tensor_resize(&copy, 2, (int[]){2, 3}) == RN_OK && copy.capacity == 120);
    CHECK(rn_tensor_resize(&copy, 1, (int[]){500}) == RN_OK && copy.capacity == 500);
    rn_tensor_free(&t);
    rn_tensor_free(&copy);
    CHECK(t.data == NULL && t.size == 0);
    rn_tensor_free(&t); /* freeing twice is harmless */
}

static void test_tensor_errors(void)
{
    rn_tensor t, small;
    float storage[4];
    CHECK(rn_tensor_new(&t, 2, (int[]){3, 0}) == RN_ERR_ARGUMENT);
    CHECK(strstr(rn_last_error(), "dimension 1 is 0") != NULL);
    CHECK(rn_tensor_new(&t, 0, (int[]){1}) == RN_ERR_ARGUMENT);
    CHECK(rn_tensor_new(&t, 5, (int[]){1, 1, 1, 1, 1}) == RN_ERR_ARGUMENT);
    CHECK(rn_tensor_new(&t, 2, NULL) == RN_ERR_ARGUMENT);
    CHECK(rn_tensor_new(NULL, 1, (int[]){1}) == RN_ERR_ARGUMENT);
    CHECK(rn_tensor_new(&t, 4, (int[]){1 << 28, 1 << 28, 1 << 28, 1 << 28}) == RN_ERR_ARGUMENT);
    CHECK(rn_tensor_new(&t, 1, (int[]){-5}) == RN_ERR_ARGUMENT);
    rn_tensor_new(&t, 1, (int[]){3});
    rn_tensor_new(&small, 1, (int[]){2});
    CHECK(rn_tensor_copy(&small, &t) == RN_ERR_SHAPE);
    CHECK(rn_tensor_reshape(&t, 1, (int[]){4}) == RN_ERR_SHAPE);
    rn_tensor_free(&small);
    small = rn_tensor_view(storage, 1, (int[]){4});
    CHECK(rn_tensor_resize(&small, 1, (int[]){8}) == RN_ERR_ARGUMENT);
    rn_tensor_free(&t);
}

static void test_status_strings(void)
{
    CHECK(strcmp(rn_status_string(RN_OK), "ok") == 0);
    CHECK(strcmp(rn_status_string(RN_ERR_SHAPE), "shape mismatch") == 0);
    CHECK(strcmp(rn_status_string(12345), "unknown status") == 0);
    CHECK(rn_set_error(RN_ERR_IO, "reading %s", "x.bin") == RN_ERR_IO);
    CHECK(strcmp(rn_last_error(), "reading x.bin") == 0);
}

static void test_network_shapes_and_names(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, 28, 28});
    rn_param *selected[8];
    char *text = NULL;
    size_t length = 0;
    FILE *out;
    CHECK(rn_net_add_conv2d(net, 15, 2, 2, 0) == RN_OK);
    CHECK(rn_net_add_activation(net, RN_ACT_RELU) == RN_OK);
    CHECK(rn_net_add_conv2d(net, 15, 2, 2, 0) == RN_OK);
    CHECK(rn_net_add_conv2d(net, 1, 2, 1, 0) == RN_OK);
    CHECK(rn_net_add_flatten(net) == RN_OK);
    CHECK(net->layers[4]->out_shape[0] == 36);
    CHECK(rn_net_add_linear(net, 10) == RN_OK);
    CHECK(strcmp(net->layers[3]->name, "conv3") == 0);
    selected[0] = rn_net_param(net, 0);
    selected[1] = rn_net_param(net, 7);
    CHECK(selected[0] != NULL && strcmp(selected[0]->name, "conv1.weight") == 0);
    CHECK(selected[1] != NULL && strcmp(selected[1]->name, "linear1.bias") == 0);
    CHECK(rn_net_param(net, 8) == NULL);
    CHECK(rn_net_param_count(net) == 8);
    CHECK(rn_net_select(net, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), selected, 8) == 4);
    CHECK(rn_net_select(net, RN_PARAMS_OF_LAYER(2), selected, 8) == 2);
    CHECK(strcmp(selected[0]->name, "conv2.weight") == 0);
    CHECK(rn_net_select(net, RN_PARAMS_NAMED("weight"), NULL, 0) == 4);
    out = tmpfile();
    if (out != NULL) {
        rn_net_summary(net, out);
        length = (size_t)ftell(out);
        rewind(out);
        text = (char *)calloc(length + 1, 1);
        if (fread(text, 1, length, out) != length) text[0] = '\0';
        fclose(out);
        CHECK(strstr(text, "[15, 14, 14]") != NULL);
        CHECK(strstr(text, "total parameters: 1421") != NULL); /* 75 + 915 + 61 + 370 */
        free(text);
    }
    rn_net_free(net);
}

static void test_network_shape_errors_leave_network_unchanged(void)
{
    rn_net *net = rn_net_new(1, (int[]){5});
    rn_net *image = rn_net_new(3, (int[]){1, 4, 4});
    CHECK(rn_net_new(0, (int[]){1}) == NULL);
    CHECK(rn_net_new(2, (int[]){0, 3}) == NULL);
    CHECK(rn_net_add_conv2d(net, 2, 3, 1, 0) == RN_ERR_SHAPE);
    CHECK(strstr(rn_last_error(), "(C, H, W)") != NULL);
    CHECK(rn_net_add_maxpool2d(net, 2, 2) == RN_ERR_SHAPE);
    CHECK(net->n_layers == 0);
    CHECK(rn_net_add_conv2d(image, 2, 5, 1, 0) == RN_ERR_SHAPE);
    CHECK(rn_net_add_conv2d(image, 0, 3, 1, 0) == RN_ERR_ARGUMENT);
    CHECK(rn_net_add_conv2d(image, 2, 3, 0, 0) == RN_ERR_ARGUMENT);
    CHECK(rn_net_add_conv2d(image, 2, 3, 1, -1) == RN_ERR_ARGUMENT);
    CHECK(rn_net_add_linear(image, 0) == RN_ERR_ARGUMENT);
    CHECK(rn_net_add_activation(image, (rn_act_kind)-1) == RN_ERR_ARGUMENT);
    CHECK(rn_net_add_activation_ex(image, NULL) == RN_ERR_ARGUMENT);
    CHECK(image->n_layers == 0);
    CHECK(rn_net_add_conv2d(NULL, 2, 3, 1, 0) == RN_ERR_ARGUMENT);
    CHECK(rn_net_remove_bias(image) == RN_ERR_ARGUMENT);
    CHECK(rn_net_forward(image, NULL, RN_TRAIN) == RN_ERR_ARGUMENT);
    rn_net_free(net);
    rn_net_free(image);
    rn_net_free(NULL);
}

static void test_forward_backward_errors(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, 4, 4});
    rn_tensor wrong, right;
    int labels[2] = {0, 1};
    float loss;
    rn_net_add_conv2d(net, 2, 3, 1, 1);
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 2);
    rn_tensor_new(&wrong, 4, (int[]){2, 2, 4, 4});
    rn_tensor_new(&right, 4, (int[]){2, 1, 4, 4});
    CHECK(rn_net_backward(net) == RN_ERR_ARGUMENT);
    CHECK(rn_net_forward(net, &wrong, RN_TRAIN) == RN_ERR_SHAPE);
    CHECK(strstr(rn_last_error(), "[2, 2, 4, 4]") != NULL);
    CHECK(strstr(rn_last_error(), "expected [2, 1, 4, 4]") != NULL);
    CHECK(rn_net_backward(net) == RN_ERR_ARGUMENT); /* the failed forward left nothing to use */
    CHECK(rn_net_forward(net, &right, RN_TRAIN) == RN_OK);
    rn_net_output(net)->data[1] = NAN;
    CHECK(rn_loss_cross_entropy(rn_net_output(net), labels, &loss, rn_net_output_grad(net)) ==
          RN_ERR_NUMERIC);
    rn_net_output(net)->data[1] = 0.0f;
    labels[1] = 2;
    CHECK(rn_loss_cross_entropy(rn_net_output(net), labels, &loss, NULL) == RN_ERR_ARGUMENT);
    CHECK(rn_loss_cross_entropy(rn_net_output(net), NULL, &loss, NULL) == RN_ERR_ARGUMENT);
    CHECK(rn_loss_cross_entropy(NULL, labels, &loss, NULL) == RN_ERR_ARGUMENT);
    CHECK(rn_loss_mse(rn_net_output(net), &wrong, &loss, NULL) == RN_ERR_SHAPE);
    CHECK(rn_loss_bce_logits(rn_net_output(net), NULL, &loss, NULL) == RN_ERR_ARGUMENT);
    CHECK(rn_loss_cross_entropy(rn_net_output(net), labels, &loss, &wrong) == RN_ERR_SHAPE);
    CHECK(rn_layer_forward(NULL, &right, &wrong, RN_EVAL) == RN_ERR_ARGUMENT);
    CHECK(rn_layer_backward(net->layers[0], &right, &right, &right, NULL) == RN_ERR_SHAPE);
    rn_tensor_free(&wrong);
    rn_tensor_free(&right);
    rn_net_free(net);
}

/* Loss targets: NaN is an error, BCE targets lie in [0, 1]. */
static void test_loss_targets_checked(void)
{
    rn_tensor logits, target;
    float loss = 0.0f;
    rn_tensor_new(&logits, 2, (int[]){2, 1});
    rn_tensor_new(&target, 2, (int[]){2, 1});
    rn_tensor_fill(&logits, 0.5f);
    CHECK(rn_loss_bce_logits(&logits, (float[]){1.0f, NAN}, &loss, NULL) == RN_ERR_NUMERIC);
    CHECK(strstr(rn_last_error(), "target 1 is nan") != NULL);
    CHECK(rn_loss_bce_logits(&logits, (float[]){1.5f, 0.0f}, &loss, NULL) == RN_ERR_ARGUMENT);
    CHECK(strstr(rn_last_error(), "target 0 is 1.5") != NULL);
    CHECK(rn_loss_bce_logits(&logits, (float[]){-0.25f, 0.0f}, &loss, NULL) == RN_ERR_ARGUMENT);
    CHECK(rn_loss_bce_logits(&logits, (float[]){1.0f, 0.0f}, &loss, NULL) == RN_OK);
    target.data[0] = 2.0f, target.data[1] = NAN;
    CHECK(rn_loss_mse(&logits, &target, &loss, NULL) == RN_ERR_NUMERIC);
    CHECK(strstr(rn_last_error(), "rn_loss_mse: target 1 is nan") != NULL);
    target.data[1] = -3.0f;
    CHECK(rn_loss_mse(&logits, &target, &loss, NULL) == RN_OK && isfinite(loss));
    rn_tensor_free(&logits);
    rn_tensor_free(&target);
}

/* Each message names the function that was called and what was wrong. */
static void test_error_messages_say_what(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, 8, 8});
    rn_tensor t;
    float storage[64];
    rn_tensor empty_batch = rn_tensor_view(storage, 4, (int[]){0, 1, 8, 8});
    rn_tensor one_image;
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 2);
    rn_set_error(RN_OK, "nothing yet");
    CHECK(rn_net_param(net, -1) == NULL);
    CHECK(strstr(rn_last_error(), "rn_net_param: index -1 is outside [0, 2)") != NULL);
    CHECK(rn_net_param(net, 2) == NULL);
    CHECK(strstr(rn_last_error(), "index 2") != NULL);
    CHECK(rn_net_param(NULL, 0) == NULL && strstr(rn_last_error(), "NULL") != NULL);
    CHECK(rn_net_new(3, NULL) == NULL);
    CHECK(strstr(rn_last_error(), "rn_net_new: the shape is NULL") != NULL);
    CHECK(rn_tensor_new(&t, 1, NULL) == RN_ERR_ARGUMENT);
    CHECK(strstr(rn_last_error(), "rn_tensor_new: the shape is NULL") != NULL);
    CHECK(rn_net_forward(net, &empty_batch, RN_EVAL) == RN_ERR_SHAPE);
    CHECK(strstr(rn_last_error(), "a batch of 0 samples") != NULL);
    CHECK(rn_net_layer_output(net, 2) == NULL);
    CHECK(strstr(rn_last_error(), "rn_net_layer_output: layer 2 of 2") != NULL);
    CHECK(rn_net_layer_output(net, -1) == NULL && rn_net_layer_output(NULL, 0) == NULL);
    memset(storage, 0, sizeof storage);
    one_image = rn_tensor_view(storage, 4, (int[]){1, 1, 8, 8});
    CHECK(rn_net_forward(net, &one_image, RN_EVAL) == RN_OK);
    CHECK(rn_net_layer_output(net, 1) == rn_net_output(net));
    CHECK(rn_net_layer_output(net, 0)->shape[1] == 64); /* flattened */
    rn_net_free(net);
}

/* Input gradients through the whole network match layer-by-layer chaining. */
static void test_input_gradient(void)
{
    rn_net *net = rn_net_new(1, (int[]){3});
    rn_tensor x;
    float loss;
    int labels[1] = {1};
    rn_net_add_linear(net, 2);
    rn_tensor_new(&x, 2, (int[]){1, 3});
    x.data[0] = 1.0f;
    net->want_input_grad = 1;
    rn_net_forward(net, &x, RN_TRAIN);
    rn_loss_cross_entropy(rn_net_output(net), labels, &loss, rn_net_output_grad(net));
    CHECK(rn_net_backward(net) == RN_OK);
    { /* dL/dx = W^T dL/dy */
        const float *w = rn_net_param(net, 0)->value.data, *dy = rn_net_output_grad(net)->data;
        int i;
        for (i = 0; i < 3; i++)
            CHECK_NEAR(rn_net_input_grad(net)->data[i], w[i] * dy[0] + w[3 + i] * dy[1], 1e-6);
    }
    rn_tensor_free(&x);
    rn_net_free(net);
}

static void test_metrics(void)
{
    /* 4 samples, 3 classes: predictions 0, 2, 1, 2 */
    float values[12] = {3, 1, 0, 0, 1, 2, 0, 5, 1, 1, 2, 4};
    rn_tensor logits = rn_tensor_view(values, 2, (int[]){4, 3});
    int labels[4] = {0, 2, 2, 1}, matrix[9] = {0};
    CHECK_NEAR(rn_accuracy(&logits, labels), 0.5, 1e-12);
    CHECK_NEAR(rn_topk_error(&logits, labels, 2), 0.0, 1e-12); /* sample 3: label 1 is 2nd */
    CHECK_NEAR(rn_topk_error(&logits, labels, 1), 0.5, 1e-12);
    CHECK(rn_confusion_add(matrix, 3, &logits, labels) == RN_OK);
    CHECK(matrix[0] == 1 && matrix[1 * 3 + 2] == 1 && matrix[2 * 3 + 1] == 1 && matrix[2 * 3 + 2] == 1);
    /* precision: class 0 1/1, class 1 0/1, class 2 1/2 -> 0.5; recall: 1, 0, 1/2 */
    CHECK_NEAR(rn_macro_precision(matrix, 3), 0.5, 1e-12);
    CHECK_NEAR(rn_macro_recall(matrix, 3), 0.5, 1e-12);
    CHECK(rn_confusion_add(matrix, 4, &logits, labels) == RN_ERR_SHAPE);
    labels[0] = 3;
    CHECK(rn_confusion_add(matrix, 3, &logits, labels) == RN_ERR_ARGUMENT);
    CHECK(isnan(rn_accuracy(NULL, labels)));
}

static void test_initialisers(void)
{
    /* Empirical deviation of 64x256 weights against each scheme's formula. */
    static const rn_init inits[] = {RN_INIT_TORCH_DEFAULT, RN_INIT_HE_NORMAL, RN_INIT_HE_UNIFORM,
                                    RN_INIT_XAVIER_NORMAL, RN_INIT_XAVIER_UNIFORM};
    double expected[5];
    size_t i, j;
    expected[0] = 1.0 / sqrt(3.0 * 256);           /* U(+-1/sqrt(fan_in)) */
    expected[1] = sqrt(2.0 / (1.0 + 0.25 * 0.25) / 256); /* He with PReLU slope 0.25 */
    expected[2] = expected[1];
    expected[3] = sqrt(2.0 / (256 + 64));
    expected[4] = expected[3];
    for (i = 0; i < 5; i++) {
        rn_net *net = rn_net_new(1, (int[]){256});
        rn_param *weight, *bias;
        double squares = 0.0;
        rn_net_add_linear(net, 64);
        CHECK(rn_net_init(net, inits[i], 0.25f, 3) == RN_OK);
        weight = rn_net_param(net, 0);
        bias = rn_net_param(net, 1);
        for (j = 0; j < weight->value.size; j++) squares += weight->value.data[j] * weight->value.data[j];
        CHECK_NEAR(sqrt(squares / weight->value.size), expected[i], 0.03);
        CHECK((bias->value.data[0] == 0.0f) == (inits[i] != RN_INIT_TORCH_DEFAULT));
        rn_net_free(net);
    }
}

int main(void)
{
    RUN(test_rng_matches_pcg32_reference);
    RUN(test_rng_distributions);
    RUN(test_tensor_basics);
    RUN(test_tensor_errors);
    RUN(test_status_strings);
    RUN(test_network_shapes_and_names);
    RUN(test_network_shape_errors_leave_network_unchanged);
    RUN(test_forward_backward_errors);
    RUN(test_loss_targets_checked);
    RUN(test_error_messages_say_what);
    RUN(test_input_gradient);
    RUN(test_metrics);
    RUN(test_initialisers);
    return finish();
}
