/* End to end: a small CNN learns a generated two-class image problem, and
   the same seed gives bit-identical weights. */
#include "relunet.h"
#include "harness.h"

#include <string.h>

enum { SIDE = 12, TRAIN = 512, TEST = 256, BATCH = 32, EPOCHS = 4 };

/* Class 0: a horizontal bar, class 1: a vertical bar, each 2 pixels wide at a
   random place, on Gaussian noise of deviation 0.4. */
static void make_bars(rn_tensor *images, int *labels, int count, uint64_t seed)
{
    rn_rng rng;
    int n, i, j;
    rn_tensor_new(images, 4, (int[]){count, 1, SIDE, SIDE});
    rn_rng_seed(&rng, seed, 1);
    for (n = 0; n < count; n++) {
        float *image = images->data + (size_t)n * SIDE * SIDE;
        int at = (int)rn_rng_below(&rng, SIDE - 1);
        labels[n] = (int)rn_rng_below(&rng, 2);
        for (i = 0; i < SIDE; i++)
            for (j = 0; j < SIDE; j++) {
                int on = labels[n] ? (j == at || j == at + 1) : (i == at || i == at + 1);
                image[i * SIDE + j] = (float)on + 0.4f * rn_rng_normal(&rng);
            }
    }
}

static rn_net *make_net(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, SIDE, SIDE});
    rn_net_add_conv2d(net, 6, 3, 1, 1);
    rn_net_add_activation(net, RN_ACT_RELU);
    rn_net_add_maxpool2d(net, 2, 2);
    rn_net_add_conv2d(net, 8, 3, 1, 1);
    rn_net_add_activation(net, RN_ACT_RELU);
    rn_net_add_avgpool2d(net, 2, 2);
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 2);
    return net;
}

/* Trains with SGD + momentum; returns the test accuracy. */
static double train(rn_net *net, uint64_t seed)
{
    rn_tensor train_images, test_images;
    int train_labels[TRAIN], test_labels[TEST], epoch, first;
    rn_optim *opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = 0.05f,
                                                       .momentum = 0.9f});
    double accuracy;
    make_bars(&train_images, train_labels, TRAIN, 1);
    make_bars(&test_images, test_labels, TEST, 2);
    rn_net_init(net, RN_INIT_HE_NORMAL, 0.0f, seed);
    for (epoch = 0; epoch < EPOCHS; epoch++)
        for (first = 0; first < TRAIN; first += BATCH) {
            rn_tensor batch = rn_tensor_slice(&train_images, first, BATCH);
            float loss;
            CHECK(rn_net_forward(net, &batch, RN_TRAIN) == RN_OK);
            rn_net_zero_grad(net);
            CHECK(rn_loss_cross_entropy(rn_net_output(net), train_labels + first, &loss,
                                        rn_net_output_grad(net)) == RN_OK);
            CHECK(rn_net_backward(net) == RN_OK);
            CHECK(rn_optim_step(opt) == RN_OK);
        }
    CHECK(rn_net_forward(net, &test_images, RN_EVAL) == RN_OK);
    accuracy = rn_accuracy(rn_net_output(net), test_labels);
    rn_optim_free(opt);
    rn_tensor_free(&train_images);
    rn_tensor_free(&test_images);
    return accuracy;
}

static void test_learns_bars_deterministically(void)
{
    rn_net *first = make_net(), *second = make_net();
    double accuracy = train(first, 5);
    int i, count = rn_net_param_count(first);
    printf("test accuracy on bars: %.4f\n", accuracy);
    CHECK(accuracy >= 0.95);
    CHECK(train(second, 5) == accuracy);
    for (i = 0; i < count; i++) {
        rn_param *a = rn_net_param(first, i), *b = rn_net_param(second, i);
        CHECK(memcmp(a->value.data, b->value.data, a->value.size * sizeof(float)) == 0);
    }
    rn_net_free(first);
    rn_net_free(second);
}

/* Full-batch steps are large enough for the kernels to split work between
   threads (small ones run on one): the weights must not depend on how many.
   Meaningful in the OpenMP build, which CI runs; elsewhere there is one. */
static void test_thread_count_does_not_change_weights(void)
{
    rn_tensor images;
    int labels[TRAIN], threads, step, i, count;
    rn_net *nets[2];
    make_bars(&images, labels, TRAIN, 3);
    for (threads = 1; threads <= 2; threads++) {
        rn_net *net = nets[threads - 1] = make_net();
        rn_optim *opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_ADAM});
        CHECK(rn_set_threads(threads) == RN_OK);
        rn_net_init(net, RN_INIT_HE_NORMAL, 0.0f, 9);
        for (step = 0; step < 3; step++) {
            float loss;
            CHECK(rn_net_forward(net, &images, RN_TRAIN) == RN_OK);
            rn_net_zero_grad(net);
            CHECK(rn_loss_cross_entropy(rn_net_output(net), labels, &loss,
                                        rn_net_output_grad(net)) == RN_OK);
            CHECK(rn_net_backward(net) == RN_OK);
            CHECK(rn_optim_step(opt) == RN_OK);
        }
        rn_optim_free(opt);
    }
    rn_set_threads(0);
    count = rn_net_param_count(nets[0]);
    for (i = 0; i < count; i++) {
        rn_param *a = rn_net_param(nets[0], i), *b = rn_net_param(nets[1], i);
        CHECK(memcmp(a->value.data, b->value.data, a->value.size * sizeof(float)) == 0);
    }
    rn_net_free(nets[0]);
    rn_net_free(nets[1]);
    rn_tensor_free(&images);
}

int main(void)
{
    RUN(test_learns_bars_deterministically);
    RUN(test_thread_count_does_not_change_weights);
    return finish();
}
