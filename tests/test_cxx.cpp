/* test_cxx.cpp - relunet from C++: the headers compile as C++ and a C++
   program trains a network through the public API. The Makefile links this
   file twice, against the implementation compiled as C and as C++
   (tests/implementation.c), so both linkages are proven. */
#include "relunet.h"
#include "relunet_data.h"
#include "harness.h"

#include <cstdio>
#include <cstring>
#include <vector>

/* A 2-16-2 MLP with a learnable ReLU_alpha between, as a C++ user writes it:
   named shape arrays and descriptors instead of compound literals. */
static rn_net *moons_net()
{
    int sample[] = {2};
    rn_net *net = rn_net_new(1, sample);
    if (net == NULL) return NULL;
    rn_net_add_linear(net, 16);
    rn_net_add_activation(net, RN_ACT_RELU_ALPHA);
    rn_net_add_linear(net, 2);
    rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, 11);
    return net;
}

static float cross_entropy(rn_net *net, const rn_dataset &data)
{
    float loss = -1.0f;
    rn_net_forward(net, &data.inputs, RN_TRAIN);
    rn_net_zero_grad(net);
    rn_loss_cross_entropy(rn_net_output(net), data.labels, &loss, rn_net_output_grad(net));
    return loss;
}

static void test_trains_two_moons()
{
    rn_dataset moons;
    CHECK(rn_data_moons(256, 0.1, 1, 5, &moons) == RN_OK);
    rn_net *net = moons_net();
    CHECK(net != NULL);
    if (net == NULL) return;

    rn_optim_desc desc = {};
    desc.kind = RN_ADAM;
    desc.lr = 0.02f;
    rn_optim *opt = rn_optim_new(net, &desc);
    CHECK(opt != NULL);
    float first = cross_entropy(net, moons), last = first;
    for (int step = 0; step < 300 && opt != NULL; step++) {
        last = cross_entropy(net, moons);
        rn_net_backward(net);
        CHECK(rn_optim_step(opt) == RN_OK);
    }
    rn_net_forward(net, &moons.inputs, RN_EVAL);
    double accuracy = rn_accuracy(rn_net_output(net), moons.labels);
    CHECK(last < 0.5f * first);
    CHECK(accuracy > 0.9);
    if (!(accuracy > 0.9)) fprintf(stderr, "loss %g -> %g, accuracy %g\n", first, last, accuracy);

    rn_optim_free(opt);
    rn_net_free(net);
    rn_dataset_free(&moons);
}

/* Every selection macro, through the inline constructor C++ gets. */
static void test_selections()
{
    rn_net *net = moons_net();
    CHECK(net != NULL);
    if (net == NULL) return;
    CHECK(rn_net_select(net, RN_PARAMS_ALL, NULL, 0) == 5);
    CHECK(rn_net_select(net, RN_PARAMS_OF_KIND(RN_PARAM_BIAS), NULL, 0) == 2);
    CHECK(rn_net_select(net, RN_PARAMS_OF_LAYER(2), NULL, 0) == 2);
    rn_param *alpha = NULL;
    CHECK(rn_net_select(net, RN_PARAMS_NAMED("alpha"), &alpha, 1) == 1);
    CHECK(alpha != NULL && std::strcmp(alpha->name, "act1.alpha") == 0);

    /* L1 on the one alpha, which starts at 1: lambda * 1. */
    CHECK_NEAR(rn_net_penalty(net, RN_PARAMS_NAMED("alpha"), RN_PENALTY_L1, 0.5f), 0.5, 1e-6);
    rn_net_set_frozen(net, RN_PARAMS_OF_KIND(RN_PARAM_WEIGHT), 1);
    std::vector<rn_param *> weights(2);
    CHECK(rn_net_select(net, RN_PARAMS_OF_KIND(RN_PARAM_WEIGHT), weights.data(), 2) == 2);
    CHECK(weights[0]->frozen && weights[1]->frozen);
    rn_net_free(net);
}

/* A network saved and loaded from C++ gives the same outputs. */
static void test_model_round_trip()
{
    rn_net *net = moons_net(), *copy = NULL;
    CHECK(net != NULL);
    if (net == NULL) return;
    std::vector<unsigned char> bytes(1 << 16);
    size_t size = 0;
    CHECK(rn_net_save_memory(net, bytes.data(), bytes.size(), &size) == RN_OK);
    CHECK(rn_net_load_memory(bytes.data(), size, &copy) == RN_OK);
    if (copy != NULL) {
        int shape[] = {3, 2};
        rn_tensor x;
        CHECK(rn_tensor_new(&x, 2, shape) == RN_OK);
        for (int i = 0; i < 6; i++) x.data[i] = 0.25f * (float)i - 0.5f;
        rn_net_forward(net, &x, RN_EVAL);
        rn_net_forward(copy, &x, RN_EVAL);
        CHECK(std::memcmp(rn_net_output(net)->data, rn_net_output(copy)->data,
                          6 * sizeof(float)) == 0);
        rn_tensor_free(&x);
    }
    rn_net_free(copy);
    rn_net_free(net);
}

/* Errors reach C++ callers as status codes and messages, as in C. */
static void test_errors()
{
    int bad_shape[] = {2, 0};
    rn_tensor t;
    CHECK(rn_tensor_new(&t, 2, bad_shape) == RN_ERR_ARGUMENT);
    CHECK(std::strstr(rn_last_error(), "rn_tensor") != NULL);
    CHECK(std::strcmp(rn_status_string(RN_ERR_ARGUMENT), rn_status_string(RN_OK)) != 0);
}

/* The header's version macros agree with each other and with the linked
   implementation. */
static void test_version()
{
    char expected[32];
    std::snprintf(expected, sizeof expected, "%d.%d.%d", RELUNET_VERSION_MAJOR,
                  RELUNET_VERSION_MINOR, RELUNET_VERSION_PATCH);
    CHECK(std::strcmp(expected, RELUNET_VERSION_STRING) == 0);
    CHECK(std::strcmp(rn_version(), RELUNET_VERSION_STRING) == 0);
}

int main()
{
    RUN(test_trains_two_moons);
    RUN(test_selections);
    RUN(test_model_round_trip);
    RUN(test_errors);
    RUN(test_version);
    return finish();
}
