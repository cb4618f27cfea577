/* export_relu_alpha OUT_DIR [MODEL_FILE] - exports the ReLU_alpha study's
   network for firmware.

   The network is the lambda sweep's tiny CNN: conv(1->15, k2, s2), ReLU_alpha,
   conv(15->15, k2, s2), ReLU_alpha, conv(15->1, k2, s1), ReLU_alpha, flatten,
   linear(36->10), on 28x28 Fashion-MNIST images. Its weights come from
   MODEL_FILE (saved by rn_net_save after training) or, without one, from
   rn_net_init with seed 1: code size and memory do not depend on them.

   Writes OUT_DIR/relu_alpha_model.h (rn_net_export_c) and
   OUT_DIR/relu_alpha_reference.h: the bit patterns of every parameter, of
   four input images and of the logits this host computes for them, which
   tests/test_export.c and the board programs (make test-firmware) compare
   with what the exported network computes.

   It also writes bn_prelu_model.h and bn_prelu_reference.h for the network
   most users have: conv + batch norm + PReLU twice (shared, then per
   channel slopes), flatten, linear, with rn_net_init's weights (seed 2) and
   batch norm statistics far from their initial values. Its batch norms are
   folded on export, so its reference is the folded network's logits (what
   the board must reproduce bit for bit); tests/test_model_io.c checks the
   folded network against the unfolded one.

   Each network is also quantised to int8 (rn_net_quantize, calibrated on
   CALIBRATION random images) and written as name_int8_model.h
   (rn_qnet_export_c) with name_int8_reference.h: the int8 test images and
   the int8 outputs this host computes for them, which the board programs
   (firmware/board_classify_int8.c) must reproduce exactly. */
/* The reference logits must come from the arithmetic the heap-free
   inference runs: the scalar kernels (the SIMD ones need scratch memory). */
#define RELUNET_NO_SIMD
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "tests/study_net.h" /* the network, as the tests build it */

#include <ctype.h>
#include <stdio.h>

enum { BATCH = 4, CALIBRATION = 64 }; /* random pixels in [0, 1): the test images and
                                           the int8 calibration set */

static rn_net *make_bn_prelu_net(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, 28, 28});
    const rn_act_desc per_channel = {.kind = RN_ACT_PRELU, .share = RN_SHARE_CHANNEL};
    rn_rng rng;
    int status = net != NULL ? RN_OK : RN_ERR_MEMORY, i;
    size_t c;
    if (status == RN_OK) status = rn_net_add_conv2d(net, 8, 3, 2, 0);
    if (status == RN_OK) status = rn_net_add_batchnorm(net);
    if (status == RN_OK) status = rn_net_add_activation(net, RN_ACT_PRELU);
    if (status == RN_OK) status = rn_net_add_conv2d(net, 8, 3, 2, 0);
    if (status == RN_OK) status = rn_net_add_batchnorm(net);
    if (status == RN_OK) status = rn_net_add_activation_ex(net, &per_channel);
    if (status == RN_OK) status = rn_net_add_flatten(net);
    if (status == RN_OK) status = rn_net_add_linear(net, 10);
    if (status == RN_OK) status = rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, 2);
    if (status != RN_OK) {
        rn_net_free(net);
        return NULL;
    }
    rn_rng_seed(&rng, 2, 2);
    for (i = 0; i < net->n_layers; i++) {
        rn_layer *norm = net->layers[i];
        if (norm->type != RN_LAYER_BATCHNORM) continue;
        for (c = 0; c < norm->running_mean.size; c++) {
            norm->params[0].value.data[c] = 0.5f + rn_rng_uniform(&rng);
            norm->params[1].value.data[c] = rn_rng_uniform(&rng) - 0.5f;
            norm->running_mean.data[c] = rn_rng_uniform(&rng) - 0.5f;
            norm->running_var.data[c] = 0.05f + 0.2f * rn_rng_uniform(&rng);
        }
    }
    return net;
}

static void write_bits(FILE *file, const char *name, const float *values, size_t count)
{
    size_t i;
    fprintf(file, "static const uint32_t %s[%lu] = {", name, (unsigned long)count);
    for (i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        fprintf(file, "%s0x%08lXu%s", i % 6 == 0 ? "\n    " : " ", (unsigned long)bits,
                i + 1 < count ? "," : "");
    }
    fprintf(file, "\n};\n\n");
}

/* name_reference.h: net's parameters, the test images and net's logits for
   them, and the generic names firmware/board_classify.c uses. */
static int write_reference(rn_net *net, const char *path, const char *name)
{
    FILE *file;
    rn_tensor images;
    rn_rng rng;
    char upper[32], label[64];
    size_t j;
    int i, failed;
    for (j = 0; j <= strlen(name) && j < sizeof upper; j++)
        upper[j] = (char)toupper((unsigned char)name[j]);
    if (rn_tensor_new(&images, 4, (int[]){BATCH, 1, 28, 28}) != RN_OK) return 1;
    rn_rng_seed(&rng, 28, 28);
    for (j = 0; j < images.size; j++) images.data[j] = rn_rng_uniform(&rng);
    file = rn_net_forward(net, &images, RN_EVAL) == RN_OK ? fopen(path, "w") : NULL;
    if (file == NULL) {
        rn_tensor_free(&images);
        return 1;
    }
    fprintf(file, "/* %s_reference.h - written by export_relu_alpha with the model. */\n"
                  "#define %s_REFERENCE_BATCH %d\n\n", name, upper, BATCH);
    for (i = 0; i < rn_net_param_count(net); i++) {
        snprintf(label, sizeof label, "%s_reference_param%d", name, i);
        write_bits(file, label, rn_net_param(net, i)->value.data, rn_net_param(net, i)->value.size);
    }
    snprintf(label, sizeof label, "%s_reference_input", name);
    write_bits(file, label, images.data, images.size);
    snprintf(label, sizeof label, "%s_reference_logits", name);
    write_bits(file, label, rn_net_output(net)->data, rn_net_output(net)->size);
    fprintf(file, "static const uint32_t *const %s_reference_params[] = {", name);
    for (i = 0; i < rn_net_param_count(net); i++)
        fprintf(file, "\n    %s_reference_param%d,", name, i);
    fprintf(file, "\n};\n\n/* The names firmware/board_classify.c uses. */\n"
                  "#define BOARD_MODEL_NAME \"%s\"\n#define BOARD_MODEL_BUILD %s_build\n"
                  "#define BOARD_MODEL_ARENA_BYTES %s_ARENA_BYTES\n"
                  "#define BOARD_REFERENCE_BATCH %s_REFERENCE_BATCH\n"
                  "#define board_reference_input %s_reference_input\n"
                  "#define board_reference_logits %s_reference_logits\n",
            name, name, upper, upper, name, name);
    rn_tensor_free(&images);
    failed = ferror(file);
    return fclose(file) != 0 || failed;
}

static void write_int8s(FILE *file, const char *name, const int8_t *values, size_t count)
{
    size_t i;
    fprintf(file, "static const int8_t %s[%lu] = {", name, (unsigned long)count);
    for (i = 0; i < count; i++)
        fprintf(file, "%s%d%s", i % 16 == 0 ? "\n    " : " ", values[i], i + 1 < count ? "," : "");
    fprintf(file, "\n};\n\n");
}

/* name_int8_reference.h: the test images quantised for qnet, qnet's int8
   outputs for them, and the generic names board_classify_int8.c uses. */
static int write_int8_reference(rn_qnet *qnet, const char *path, const char *name)
{
    static int8_t input[BATCH * 28 * 28], output[BATCH * 10];
    FILE *file;
    rn_rng rng;
    char upper[32], label[64];
    size_t j;
    int failed;
    for (j = 0; j <= strlen(name) && j < sizeof upper; j++)
        upper[j] = (char)toupper((unsigned char)name[j]);
    rn_rng_seed(&rng, 28, 28); /* the float reference's images */
    for (j = 0; j < sizeof input; j++)
        input[j] = rn_quantize_value(rn_rng_uniform(&rng), qnet->layers[0].in);
    if (qnet->out_size * BATCH > sizeof output ||
        rn_qnet_forward(qnet, input, BATCH, output) != RN_OK || (file = fopen(path, "w")) == NULL)
        return 1;
    fprintf(file, "/* %s_int8_reference.h - written by export_relu_alpha with the model. */\n"
                  "#define %s_INT8_REFERENCE_BATCH %d\n\n", name, upper, BATCH);
    snprintf(label, sizeof label, "%s_int8_reference_input", name);
    write_int8s(file, label, input, sizeof input);
    snprintf(label, sizeof label, "%s_int8_reference_output", name);
    write_int8s(file, label, output, qnet->out_size * BATCH);
    fprintf(file, "/* The names firmware/board_classify_int8.c uses. */\n"
                  "#define BOARD_QMODEL_NAME \"%s int8\"\n#define BOARD_QNET %s_qnet\n"
                  "#define BOARD_QNET_CRC32 %s_QNET_CRC32\n"
                  "#define BOARD_QREFERENCE_BATCH %s_INT8_REFERENCE_BATCH\n"
                  "#define board_qreference_input %s_int8_reference_input\n"
                  "#define board_qreference_output %s_int8_reference_output\n",
            name, name, upper, upper, name, name);
    failed = ferror(file);
    return fclose(file) != 0 || failed;
}

/* DIR/name_int8_model.h and DIR/name_int8_reference.h: net quantised,
   calibrated on random images (what a deployment's calibration set would
   be; the figures that matter here are the board's agreement with them). */
static int export_int8_model(const rn_net *net, const char *dir, const char *name)
{
    char path[1024];
    rn_tensor calibration;
    rn_qnet *qnet = NULL;
    rn_rng rng;
    size_t j;
    int failed = 1;
    if (rn_tensor_new(&calibration, 4, (int[]){CALIBRATION, 1, 28, 28}) != RN_OK) return 1;
    rn_rng_seed(&rng, 3, 3);
    for (j = 0; j < calibration.size; j++) calibration.data[j] = rn_rng_uniform(&rng);
    snprintf(path, sizeof path, "%s/%s_int8_model.h", dir, name);
    if (rn_net_quantize(net, &calibration, &qnet) == RN_OK &&
        rn_qnet_export_c(qnet, path, name) == RN_OK) {
        snprintf(path, sizeof path, "%s/%s_int8_reference.h", dir, name);
        failed = write_int8_reference(qnet, path, name);
    }
    if (failed) fprintf(stderr, "export_relu_alpha: %s int8: %s\n", name, rn_last_error());
    rn_qnet_free(qnet);
    rn_tensor_free(&calibration);
    return failed;
}

/* DIR/name_model.h and DIR/name_reference.h, the reference computed by the
   network the header holds: net with its batch norms folded. */
static int export_model(const rn_net *net, const char *dir, const char *name)
{
    char path[1024];
    rn_net *folded = NULL;
    int failed;
    snprintf(path, sizeof path, "%s/%s_model.h", dir, name);
    if (rn_net_export_c(net, path, name) != RN_OK || rn_net_fold_batchnorm(net, &folded) != RN_OK) {
        fprintf(stderr, "export_relu_alpha: %s\n", rn_last_error());
        return 1;
    }
    snprintf(path, sizeof path, "%s/%s_reference.h", dir, name);
    failed = write_reference(folded, path, name);
    if (failed) fprintf(stderr, "export_relu_alpha: cannot write %s: %s\n", path, rn_last_error());
    rn_net_free(folded);
    return failed;
}

int main(int argc, char **argv)
{
    rn_net *net = NULL, *bn_prelu;
    int failed;
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: export_relu_alpha OUT_DIR [MODEL_FILE]\n");
        return 2;
    }
    if (argc == 3 && rn_net_load(argv[2], &net) != RN_OK) {
        fprintf(stderr, "export_relu_alpha: %s\n", rn_last_error());
        return 1;
    }
    if (net == NULL) net = study_net(&(rn_act_desc){.kind = RN_ACT_RELU_ALPHA}, 1);
    bn_prelu = make_bn_prelu_net();
    if (net == NULL || bn_prelu == NULL) {
        fprintf(stderr, "export_relu_alpha: %s\n", rn_last_error());
        failed = 1;
    } else {
        failed = export_model(net, argv[1], "relu_alpha") || export_model(bn_prelu, argv[1], "bn_prelu") ||
                 export_int8_model(net, argv[1], "relu_alpha") ||
                 export_int8_model(bn_prelu, argv[1], "bn_prelu");
    }
    rn_net_free(net);
    rn_net_free(bn_prelu);
    return failed;
}
