/* libFuzzer target for the model and optimizer-state loaders. Each input is
   tried twice: as it is (the header and CRC-32 checks must hold), and with
   its body size and CRC recomputed, so that mutations reach the parser
   behind the checksum. A loaded network must also survive a forward pass
   and saving. Build and run with `make fuzz`. */
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "reseal.h"

#include <stdlib.h>
#include <string.h>

/* A loaded network must be whole: run it on one zero sample, save it. */
static void exercise(rn_net *net)
{
    rn_tensor x;
    int shape[4], i;
    size_t size;
    shape[0] = 1;
    for (i = 0; i < net->in_ndim; i++) shape[i + 1] = net->in_shape[i];
    /* Valid but huge layers would only measure the machine's memory. */
    if (net->n_layers > 0 && rn__dims_product(net->in_ndim, net->in_shape) < 100000 &&
        rn_net_arena_bytes(net, 1) < 4000000u && /* its layer outputs, under a million floats */
        rn_tensor_new(&x, net->in_ndim + 1, shape) == RN_OK) {
        rn_net_forward(net, &x, RN_EVAL);
        rn_tensor_free(&x);
    }
    if (rn_net_save_memory(net, NULL, 0, &size) != RN_OK) abort();
}

static void load(const unsigned char *bytes, size_t size)
{
    rn_net *net = NULL;
    if (rn_net_load_memory(bytes, size, &net) == RN_OK) {
        exercise(net);
        rn_net_free(net);
    } else if (net != NULL) {
        abort(); /* a failed load must not hand out a network */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy;
    load(data, size);
    if (size < 16) return 0;
    copy = (unsigned char *)malloc(size);
    memcpy(copy, data, size);
    reseal(copy, size);
    load(copy, size);
    free(copy);
    return 0;
}
