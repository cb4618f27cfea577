/* study_net.h - the ReLU_alpha study's CNN, as several tests build it
   (include relunet.h first): conv(1->15, k2, s2), act, conv(15->15, k2,
   s2), act, conv(15->1, k2, s1), act, flatten, linear(36->10) on 28x28
   images, with rn_net_init's weights for seed. NULL when out of memory. */
#ifndef STUDY_NET_H
#define STUDY_NET_H

static rn_net *study_net(const rn_act_desc *act, uint64_t seed)
{
    rn_net *net = rn_net_new(3, (int[]){1, 28, 28});
    int status = net != NULL ? RN_OK : RN_ERR_MEMORY;
    if (status == RN_OK) status = rn_net_add_conv2d(net, 15, 2, 2, 0);
    if (status == RN_OK) status = rn_net_add_activation_ex(net, act);
    if (status == RN_OK) status = rn_net_add_conv2d(net, 15, 2, 2, 0);
    if (status == RN_OK) status = rn_net_add_activation_ex(net, act);
    if (status == RN_OK) status = rn_net_add_conv2d(net, 1, 2, 1, 0);
    if (status == RN_OK) status = rn_net_add_activation_ex(net, act);
    if (status == RN_OK) status = rn_net_add_flatten(net);
    if (status == RN_OK) status = rn_net_add_linear(net, 10);
    if (status == RN_OK) status = rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, seed);
    if (status == RN_OK) return net;
    rn_net_free(net);
    return NULL;
}

#endif
