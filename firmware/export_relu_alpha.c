/* export_relu_alpha OUT_DIR [MODEL_FILE] - exports the ReLU_alpha study's
   network for firmware.

   The network is the lambda sweep's tiny CNN: conv(1->15, k2, s2), ReLU_alpha,
   conv(15->15, k2, s2), ReLU_alpha, conv(15->1, k2, s1), ReLU_alpha, flatten,
   linear(36->10), on 28x28 Fashion-MNIST images. Its weights come from
   MODEL_FILE (saved by rn_net_save after training) or, without one, from
   rn_net_init with seed 1: code size and memory do not depend on them.

   Writes OUT_DIR/relu_alpha_model.h (rn_net_export_c) and
   OUT_DIR/relu_alpha_reference.h: the bit patterns of every parameter, of
   two input images and of the logits this host computes for them, which
   tests/test_export.c compares with what the exported network computes. */
/* The reference logits must come from the arithmetic the heap-free
   inference runs: the scalar kernels (the SIMD ones need scratch memory). */
#define RELUNET_NO_SIMD
#define RELUNET_IMPLEMENTATION
#include "relunet.h"

#include <stdio.h>

enum { BATCH = 4 }; /* the fixed test images: random pixels in [0, 1) */

static rn_net *make_study_net(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, 28, 28});
    int status = net != NULL ? RN_OK : RN_ERR_MEMORY;
    if (status == RN_OK) status = rn_net_add_conv2d(net, 15, 2, 2, 0);
    if (status == RN_OK) status = rn_net_add_activation(net, RN_ACT_RELU_ALPHA);
    if (status == RN_OK) status = rn_net_add_conv2d(net, 15, 2, 2, 0);
    if (status == RN_OK) status = rn_net_add_activation(net, RN_ACT_RELU_ALPHA);
    if (status == RN_OK) status = rn_net_add_conv2d(net, 1, 2, 1, 0);
    if (status == RN_OK) status = rn_net_add_activation(net, RN_ACT_RELU_ALPHA);
    if (status == RN_OK) status = rn_net_add_flatten(net);
    if (status == RN_OK) status = rn_net_add_linear(net, 10);
    if (status == RN_OK) status = rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, 1);
    if (status == RN_OK) return net;
    rn_net_free(net);
    return NULL;
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

static int write_reference(rn_net *net, const char *path)
{
    FILE *file = fopen(path, "w");
    rn_tensor images;
    rn_rng rng;
    size_t j;
    int i, failed;
    if (file == NULL || rn_tensor_new(&images, 4, (int[]){BATCH, 1, 28, 28}) != RN_OK) return 1;
    rn_rng_seed(&rng, 28, 28);
    for (j = 0; j < images.size; j++) images.data[j] = rn_rng_uniform(&rng);
    if (rn_net_forward(net, &images, RN_EVAL) != RN_OK) return 1;
    fprintf(file, "/* relu_alpha_reference.h - written by export_relu_alpha with the model. */\n"
                  "#define RELU_ALPHA_REFERENCE_BATCH %d\n\n", BATCH);
    for (i = 0; i < rn_net_param_count(net); i++) {
        char name[48];
        snprintf(name, sizeof name, "relu_alpha_reference_param%d", i);
        write_bits(file, name, rn_net_param(net, i)->value.data, rn_net_param(net, i)->value.size);
    }
    write_bits(file, "relu_alpha_reference_input", images.data, images.size);
    write_bits(file, "relu_alpha_reference_logits", rn_net_output(net)->data,
               rn_net_output(net)->size);
    fprintf(file, "static const uint32_t *const relu_alpha_reference_params[] = {");
    for (i = 0; i < rn_net_param_count(net); i++)
        fprintf(file, "\n    relu_alpha_reference_param%d,", i);
    fprintf(file, "\n};\n");
    rn_tensor_free(&images);
    failed = ferror(file);
    return fclose(file) != 0 || failed;
}

int main(int argc, char **argv)
{
    char path[1024];
    rn_net *net = NULL;
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: export_relu_alpha OUT_DIR [MODEL_FILE]\n");
        return 2;
    }
    if (argc == 3 && rn_net_load(argv[2], &net) != RN_OK) {
        fprintf(stderr, "export_relu_alpha: %s\n", rn_last_error());
        return 1;
    }
    if (net == NULL) net = make_study_net();
    snprintf(path, sizeof path, "%s/relu_alpha_model.h", argv[1]);
    if (net == NULL || rn_net_export_c(net, path, "relu_alpha") != RN_OK) {
        fprintf(stderr, "export_relu_alpha: %s\n", rn_last_error());
        return 1;
    }
    snprintf(path, sizeof path, "%s/relu_alpha_reference.h", argv[1]);
    if (write_reference(net, path) != 0) {
        fprintf(stderr, "export_relu_alpha: cannot write %s: %s\n", path, rn_last_error());
        return 1;
    }
    rn_net_free(net);
    return 0;
}
