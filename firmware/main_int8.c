/* The int8 counterpart of main.c for `make firmware-size`: the ReLU_alpha
   study's network quantised by export_relu_alpha (rn_net_quantize) and
   exported by rn_qnet_export_c into relu_alpha_int8_model.h classifies one
   28x28 image, with no heap and no float arithmetic on the way. The image
   is written straight into the network's input buffer, as the arena
   program writes it into the arena. */
#define RELUNET_NO_SIMD
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "relu_alpha_int8_model.h"

volatile int predicted_class; /* what a debugger (or the next stage) reads */

int main(void)
{
    int8_t *image = relu_alpha_qnet.buffers[1], logits[RELU_ALPHA_QNET_OUT_SIZE];
    int i, best = 0;
    if (rn_qnet_check(&relu_alpha_qnet, RELU_ALPHA_QNET_CRC32) != RN_OK) return 1;
    for (i = 0; i < RELU_ALPHA_QNET_IN_SIZE; i++) image[i] = (int8_t)(i % 28 * 9 - 128); /* a sensor */
    if (rn_qnet_forward(&relu_alpha_qnet, image, 1, logits) != RN_OK) return 2;
    for (i = 1; i < RELU_ALPHA_QNET_OUT_SIZE; i++) best = logits[i] > logits[best] ? i : best;
    predicted_class = best;
    return 0;
}
