/* A new user's first program, with the training helpers: Fashion-MNIST, a
   conv + batch norm + PReLU net, one epoch on 5,000 images, save, load, the
   same predictions from the loaded copy, export for a microcontroller.
       cc -O2 -I/usr/include/stb tests/user_program.c -o user_program -lm
       ./user_program [DIR]      (DIR: as --data; default $RELUNET_DATA)  */
#define RELUNET_IMPLEMENTATION
#include "relunet_data.h"
#include <string.h>

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, rn_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    rn_dataset all, train, test;
    rn_net *net = rn_net_new(3, (int[]){1, 28, 28}), *loaded = NULL;
    rn_optim *opt;
    rn_epoch_stats epoch;
    rn_eval_stats eval;
    static int order[5000], before[10000], after[10000];
    rn_rng rng;

    if (rn_data_fashion_mnist(argc > 1 ? argv[1] : NULL, 1, &all) != RN_OK) return fail("data");
    if (rn_dataset_subsample(&all, 5000, 1, 1, &train) != RN_OK) return fail("subsample");
    rn_dataset_free(&all);
    if (rn_data_fashion_mnist(argc > 1 ? argv[1] : NULL, 0, &test) != RN_OK) return fail("data");

    rn_net_add_conv2d(net, 16, 3, 1, 1);
    rn_net_add_batchnorm(net);
    rn_net_add_activation(net, RN_ACT_PRELU);
    rn_net_add_maxpool2d(net, 2, 2);
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 10);
    rn_net_init(net, RN_INIT_HE_NORMAL, 0.25f, 1);
    opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_ADAM, .lr = 1e-3f});

    rn_rng_seed(&rng, 1, 0);
    rn_data_permutation(order, 5000, &rng);
    if (rn_net_train_epoch(net, opt, &train.inputs, train.labels,
                           &(rn_epoch_desc){.batch_size = 64, .order = order}, &epoch) != RN_OK)
        return fail("training");
    if (rn_net_evaluate(net, &test.inputs, test.labels, 256, 1, NULL, &eval) != RN_OK)
        return fail("evaluation");
    printf("train loss %.4f (%.0f images/s), test accuracy %.4f\n", epoch.loss,
           epoch.images_per_second, eval.accuracy);

    if (rn_net_save(net, "model.rnet") != RN_OK || rn_net_load("model.rnet", &loaded) != RN_OK)
        return fail("save and load");
    if (rn_net_predict(net, &test.inputs, 256, before, NULL) != RN_OK ||
        rn_net_predict(loaded, &test.inputs, 256, after, NULL) != RN_OK)
        fail("predict");
    printf("loaded model: %s predictions\n",
           memcmp(before, after, sizeof before) == 0 ? "the same" : "DIFFERENT");
    if (rn_net_export_c(loaded, "model.h", "model") != RN_OK) fail("export");

    rn_net_free(loaded);
    rn_optim_free(opt);
    rn_net_free(net);
    rn_dataset_free(&train);
    rn_dataset_free(&test);
    return memcmp(before, after, sizeof before) != 0;
}
