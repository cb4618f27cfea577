/* Writes seed model files for fuzz_model into the directory given. */
#define RELUNET_IMPLEMENTATION
#include "relunet.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    char path[1024];
    rn_net *net;
    int kind;
    if (argc != 2) {
        fprintf(stderr, "usage: make_model_seeds DIR\n");
        return 2;
    }
    for (kind = 0; kind < RN_ACT_KIND_COUNT; kind++) {
        net = rn_net_new(3, (int[]){2, 6, 6});
        rn_net_add_conv2d(net, 3, 3, 1, 1);
        rn_net_add_activation_ex(net, &(rn_act_desc){.kind = (rn_act_kind)kind,
                                                    .share = (rn_share)(kind % 2)});
        rn_net_add_maxpool2d(net, 2, 2);
        rn_net_add_avgpool2d(net, 1, 1);
        rn_net_add_flatten(net);
        rn_net_add_linear(net, 4);
        if (kind % 3 == 0) rn_net_remove_bias(net);
        snprintf(path, sizeof path, "%s/model_%d.rnet", argv[1], kind);
        if (rn_net_save(net, path) != RN_OK) {
            fprintf(stderr, "%s\n", rn_last_error());
            return 1;
        }
        rn_net_free(net);
    }
    return 0;
}
