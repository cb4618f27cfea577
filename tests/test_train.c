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

/* ---- training helpers --------------------------------------------------- */

static int same_params(rn_net *a, rn_net *b)
{
    int i, same = rn_net_param_count(a) == rn_net_param_count(b);
    for (i = 0; same && i < rn_net_param_count(a); i++) {
        rn_param *x = rn_net_param(a, i), *y = rn_net_param(b, i);
        same = memcmp(x->value.data, y->value.data, x->value.size * sizeof(float)) == 0;
    }
    return same;
}

static void test_tensor_clone(void)
{
    rn_tensor a, b, view;
    float values[6] = {1, 2, 3, 4, 5, 6};
    rn_tensor_new(&a, 2, (int[]){2, 3});
    memcpy(a.data, values, sizeof values);
    CHECK(rn_tensor_clone(&b, &a) == RN_OK);
    CHECK(b.ndim == 2 && b.shape[0] == 2 && b.shape[1] == 3 && b.capacity >= 6);
    CHECK(b.data != a.data && memcmp(b.data, values, sizeof values) == 0);
    b.data[0] = 9;
    CHECK(a.data[0] == 1); /* independent */
    rn_tensor_free(&b);
    view = rn_tensor_view(values, 1, (int[]){6});
    CHECK(rn_tensor_clone(&b, &view) == RN_OK && b.capacity > 0 && b.data != values);
    CHECK(memcmp(b.data, values, sizeof values) == 0);
    rn_tensor_free(&b);
    memset(&view, 0, sizeof view);
    CHECK(rn_tensor_clone(&b, &view) == RN_ERR_ARGUMENT);
    CHECK(rn_tensor_clone(NULL, &a) == RN_ERR_ARGUMENT);
    rn_tensor_free(&a);
}

/* What the callbacks saw. */
typedef struct epoch_log {
    int prepared, stepped, penalised, stop_after;
    int indices_in_order, count;
    double loss_sum;
} epoch_log;

static int log_prepare(void *context, rn_net *net, rn_batch *batch)
{
    epoch_log *log = (epoch_log *)context;
    (void)net;
    log->indices_in_order &= batch->index == log->prepared;
    log->count = batch->count;
    log->prepared++;
    return RN_OK;
}

static int add_penalty(void *context, rn_net *net, rn_batch *batch)
{
    (void)batch;
    ((epoch_log *)context)->penalised++;
    rn_net_penalty(net, RN_PARAMS_OF_KIND(RN_PARAM_WEIGHT), RN_PENALTY_L2, 1e-3f);
    return RN_OK;
}

static int log_step(void *context, rn_net *net, rn_batch *batch)
{
    epoch_log *log = (epoch_log *)context;
    (void)net;
    log->stepped++;
    log->loss_sum += batch->loss * batch->inputs->shape[0];
    return log->stop_after > 0 && log->stepped == log->stop_after ? RN_ERR_UNSUPPORTED : RN_OK;
}

/* The epoch helper does exactly what the hand-written loop does: the same
   items in the same order and batches (a short last one), the penalty
   between backward and step, bit-identical weights and the same loss. */
static void test_train_epoch_is_the_loop(void)
{
    enum { N = 200, B = 32 };
    rn_tensor images, batch;
    int labels[N], order[N], batch_labels[B], i, first;
    rn_net *by_hand = make_net(), *helper = make_net();
    rn_optim_desc sgd = {.kind = RN_SGD, .lr = 0.05f, .momentum = 0.9f};
    rn_optim *opt_hand = rn_optim_new(by_hand, &sgd), *opt_helper = rn_optim_new(helper, &sgd);
    epoch_log log = {0, 0, 0, 0, 1, 0, 0.0};
    rn_epoch_desc desc = {B, order, 0, log_prepare, add_penalty, log_step, &log};
    rn_epoch_stats stats;
    double hand_loss = 0.0, hand_correct = 0.0;
    rn_rng rng;
    make_bars(&images, labels, N, 4);
    rn_rng_seed(&rng, 3, 0);
    for (i = 0; i < N; i++) order[i] = i;
    for (i = N - 1; i > 0; i--) { /* a shuffle */
        int j = (int)rn_rng_below(&rng, (uint32_t)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    rn_net_init(by_hand, RN_INIT_HE_NORMAL, 0.0f, 2);
    rn_net_init(helper, RN_INIT_HE_NORMAL, 0.0f, 2);
    rn_tensor_new(&batch, 4, (int[]){B, 1, SIDE, SIDE});
    for (first = 0; first < N; first += B) {
        int size = N - first < B ? N - first : B, k;
        rn_tensor view = rn_tensor_slice(&batch, 0, size);
        float loss;
        for (k = 0; k < size; k++) {
            memcpy(batch.data + k * SIDE * SIDE, images.data + order[first + k] * SIDE * SIDE,
                   SIDE * SIDE * sizeof(float));
            batch_labels[k] = labels[order[first + k]];
        }
        CHECK(rn_net_forward(by_hand, &view, RN_TRAIN) == RN_OK);
        rn_net_zero_grad(by_hand);
        CHECK(rn_loss_cross_entropy(rn_net_output(by_hand), batch_labels, &loss,
                                    rn_net_output_grad(by_hand)) == RN_OK);
        CHECK(rn_net_backward(by_hand) == RN_OK);
        rn_net_penalty(by_hand, RN_PARAMS_OF_KIND(RN_PARAM_WEIGHT), RN_PENALTY_L2, 1e-3f);
        CHECK(rn_optim_step(opt_hand) == RN_OK);
        hand_loss += (double)loss * size;
        hand_correct += rn_accuracy(rn_net_output(by_hand), batch_labels) * size;
    }
    CHECK(rn_net_train_epoch(helper, opt_helper, &images, labels, &desc, &stats) == RN_OK);
    CHECK(same_params(by_hand, helper));
    CHECK(stats.loss == hand_loss / N);
    CHECK_NEAR(stats.accuracy, hand_correct / N, 1e-12);
    CHECK(stats.batches == 7 && log.count == 7 && log.indices_in_order);
    CHECK(log.prepared == 7 && log.penalised == 7 && log.stepped == 7);
    CHECK_NEAR(log.loss_sum / N, stats.loss, 1e-12);
    CHECK(stats.images_per_second > 0.0);
    /* A callback's error ends the epoch after that batch's step. */
    memset(&log, 0, sizeof log);
    log.stop_after = 2;
    CHECK(rn_net_train_epoch(helper, opt_helper, &images, labels, &desc, &stats) ==
          RN_ERR_UNSUPPORTED);
    CHECK(log.stepped == 2 && log.prepared == 2);
    rn_tensor_free(&batch);
    rn_tensor_free(&images);
    rn_optim_free(opt_hand);
    rn_optim_free(opt_helper);
    rn_net_free(by_hand);
    rn_net_free(helper);
}

/* Bad arguments are errors that name the problem, and nothing moves. */
static void test_train_epoch_refuses_bad_input(void)
{
    enum { N = 40 };
    rn_tensor images, wrong;
    int labels[N], order[N], i;
    rn_net *net = make_net(), *untouched = make_net();
    rn_optim *opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_ADAM});
    rn_epoch_desc desc = {8, NULL, 0, NULL, NULL, NULL, NULL};
    make_bars(&images, labels, N, 6);
    rn_tensor_new(&wrong, 4, (int[]){N, 1, SIDE, SIDE + 1});
    for (i = 0; i < N; i++) order[i] = i;
    order[5] = N; /* not an item */
    CHECK(rn_net_train_epoch(net, NULL, &images, labels, &desc, NULL) == RN_ERR_ARGUMENT);
    CHECK(rn_net_train_epoch(net, opt, &wrong, labels, &desc, NULL) == RN_ERR_SHAPE);
    desc.order = order;
    CHECK(rn_net_train_epoch(net, opt, &images, labels, &desc, NULL) == RN_ERR_ARGUMENT);
    CHECK(strstr(rn_last_error(), "order[5]") != NULL);
    desc.order = NULL;
    desc.count = N + 1;
    CHECK(rn_net_train_epoch(net, opt, &images, labels, &desc, NULL) == RN_ERR_ARGUMENT);
    desc.count = 0;
    desc.batch_size = 0;
    CHECK(rn_net_train_epoch(net, opt, &images, labels, &desc, NULL) == RN_ERR_ARGUMENT);
    desc.batch_size = 8;
    labels[3] = 7; /* a class the network does not have */
    CHECK(rn_net_train_epoch(net, opt, &images, labels, &desc, NULL) != RN_OK);
    CHECK(same_params(net, untouched));
    CHECK(rn_net_evaluate(net, &images, labels, 8, 0, NULL, &(rn_eval_stats){0, 0, 0}) ==
          RN_ERR_ARGUMENT);
    CHECK(rn_net_predict(net, &wrong, 8, order, NULL) == RN_ERR_SHAPE);
    rn_tensor_free(&images);
    rn_tensor_free(&wrong);
    rn_optim_free(opt);
    rn_net_free(net);
    rn_net_free(untouched);
}

/* A net whose train and eval modes differ (batch norm, dropout). */
static rn_net *make_bn_net(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, SIDE, SIDE});
    rn_net_add_conv2d(net, 4, 3, 1, 1);
    rn_net_add_batchnorm(net);
    rn_net_add_activation(net, RN_ACT_PRELU);
    rn_net_add_maxpool2d(net, 2, 2);
    rn_net_add_flatten(net);
    rn_net_add_dropout(net, 0.5f);
    rn_net_add_linear(net, 3);
    rn_net_init(net, RN_INIT_HE_NORMAL, 0.0f, 8);
    return net;
}

/* Evaluation in batches equals the metrics of one whole-set pass in eval
   mode; prediction gives its argmax and softmax. */
static void test_evaluate_and_predict(void)
{
    enum { N = 37, K = 3 };
    rn_tensor images, whole;
    int labels[N], confusion[K * K], expected[K * K], classes[N], i, j, batch;
    float probabilities[N * K], whole_loss;
    rn_net *net = make_bn_net();
    rn_optim *opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = 0.01f});
    rn_eval_stats stats;
    make_bars(&images, labels, N, 7);
    for (i = 0; i < N; i++) labels[i] = (labels[i] + i) % K;
    /* one epoch moves the running statistics away from their start */
    CHECK(rn_net_train_epoch(net, opt, &images, labels,
                             &(rn_epoch_desc){8, NULL, 0, NULL, NULL, NULL, NULL}, NULL) == RN_OK);
    CHECK(rn_net_forward(net, &images, RN_EVAL) == RN_OK);
    CHECK(rn_tensor_clone(&whole, rn_net_output(net)) == RN_OK);
    CHECK(rn_loss_cross_entropy(&whole, labels, &whole_loss, NULL) == RN_OK);
    memset(expected, 0, sizeof expected);
    CHECK(rn_confusion_add(expected, K, &whole, labels) == RN_OK);
    for (batch = 1; batch <= N + 3; batch += 6) {
        memset(confusion, 0x55, sizeof confusion); /* overwritten, not added to */
        CHECK(rn_net_evaluate(net, &images, labels, batch, 2, confusion, &stats) == RN_OK);
        CHECK_NEAR(stats.loss, whole_loss, 1e-5);
        CHECK_NEAR(stats.accuracy, rn_accuracy(&whole, labels), 1e-12);
        CHECK_NEAR(stats.topk_accuracy, 1.0 - rn_topk_error(&whole, labels, 2), 1e-12);
        CHECK(memcmp(confusion, expected, sizeof expected) == 0);
        CHECK(rn_net_predict(net, &images, batch, classes, probabilities) == RN_OK);
        for (i = 0; i < N; i++) {
            double sum = 0.0;
            int best = 0;
            for (j = 0; j < K; j++) {
                sum += probabilities[i * K + j];
                if (whole.data[i * K + j] > whole.data[i * K + best]) best = j;
            }
            CHECK(classes[i] == best);
            CHECK_NEAR(sum, 1.0, 1e-6);
            CHECK(probabilities[i * K + best] >= probabilities[i * K + (best + 1) % K]);
        }
    }
    CHECK(rn_net_predict(net, &images, 5, NULL, probabilities) == RN_OK);
    /* cross-entropy is minus the log of the label's probability */
    {
        double sum = 0.0;
        for (i = 0; i < N; i++) sum -= log(probabilities[i * K + labels[i]]);
        CHECK_NEAR(sum / N, whole_loss, 1e-5);
    }
    rn_tensor_free(&whole);
    rn_tensor_free(&images);
    rn_optim_free(opt);
    rn_net_free(net);
}

int main(void)
{
    RUN(test_learns_bars_deterministically);
    RUN(test_thread_count_does_not_change_weights);
    RUN(test_tensor_clone);
    RUN(test_train_epoch_is_the_loop);
    RUN(test_train_epoch_refuses_bad_input);
    RUN(test_evaluate_and_predict);
    return finish();
}
