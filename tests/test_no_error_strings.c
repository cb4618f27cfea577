/* relunet.h built as firmware builds it, with RELUNET_NO_ERROR_STRINGS:
   errors still return their status and rn_last_error() names it, and the
   names and shapes that no longer go through snprintf read as before. */
#define RELUNET_NO_ERROR_STRINGS
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "harness.h"

#include <string.h>

static void test_errors_name_their_status(void)
{
    rn_net *net = rn_net_new(1, (int[]){0});
    CHECK(net == NULL);
    CHECK(strcmp(rn_last_error(), rn_status_string(RN_ERR_ARGUMENT)) == 0);
    net = rn_net_new(1, (int[]){4});
    CHECK(net != NULL);
    CHECK(rn_net_add_conv2d(net, 2, 3, 1, 0) == RN_ERR_SHAPE);
    CHECK(strcmp(rn_last_error(), "shape mismatch") == 0);
    rn_net_free(net);
    /* the program's own errors too: it includes the implementation */
    CHECK(rn_set_error(RN_ERR_IO, "%s: cannot read", "data.bin") == RN_ERR_IO);
    CHECK(strcmp(rn_last_error(), "input/output error") == 0);
}

static void test_names_and_shapes_without_printf(void)
{
    rn_net *net = rn_net_new(3, (int[]){1, 8, 8});
    rn_tensor t;
    char shape[32];
    int i, ok = net != NULL;
    for (i = 0; ok && i < 12; i++) ok = rn_net_add_activation(net, RN_ACT_PRELU) == RN_OK;
    CHECK(ok);
    if (!ok) return;
    CHECK(strcmp(net->layers[0]->name, "act1") == 0);
    CHECK(strcmp(net->layers[11]->name, "act12") == 0);
    CHECK(strcmp(rn_net_param(net, 11)->name, "act12.slope") == 0);
    CHECK(rn_tensor_new(&t, 3, (int[]){2, 30, 400}) == RN_OK);
    rn_tensor_shape_string(&t, shape, sizeof shape);
    CHECK(strcmp(shape, "[2, 30, 400]") == 0);
    rn_tensor_shape_string(&t, shape, 6); /* cut, and still terminated */
    CHECK(strcmp(shape, "[2, 3") == 0);
    rn_tensor_free(&t);
    rn_net_free(net);
}

int main(void)
{
    RUN(test_errors_name_their_status);
    RUN(test_names_and_shapes_without_printf);
    return finish();
}
