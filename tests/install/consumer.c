/* consumer.c - a program that takes relunet from its build system: both
   headers, the implementation here, stb_image and libm found for it. It
   trains nothing; it proves the headers, the version and the data reader's
   dependencies are where the package said. */
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "relunet_data.h"

#include <string.h>

int main(void)
{
    rn_dataset moons;
    rn_net *net;
    int sample[1] = {2};
    if (strcmp(rn_version(), RELUNET_VERSION_STRING) != 0) return 1;
    if (rn_data_moons(16, 0.1, 1, 1, &moons) != RN_OK) return 1;
    net = rn_net_new(1, sample);
    if (net == NULL || rn_net_add_linear(net, 2) != RN_OK) return 1;
    rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, 1);
    if (rn_net_forward(net, &moons.inputs, RN_EVAL) != RN_OK) return 1;
    printf("relunet %s: %d outputs\n", rn_version(), (int)rn_net_output(net)->size);
    rn_net_free(net);
    rn_dataset_free(&moons);
    return 0;
}
