/* An inference-only program for a Cortex-M4 with no heap: the ReLU_alpha
   study's network, exported by export_relu_alpha into relu_alpha_model.h,
   classifies one 28x28 image from a static arena. `make firmware-size`
   builds it and reports its flash and RAM. */
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "relu_alpha_model.h"

static unsigned char arena_memory[RELU_ALPHA_ARENA_BYTES(1)];
volatile int predicted_class; /* what a debugger (or the next stage) reads */

int main(void)
{
    rn_arena arena;
    rn_net *net;
    rn_tensor input;
    const float *logits;
    float *image;
    int i, best = 0;
    rn_arena_init(&arena, arena_memory, sizeof arena_memory);
    if (relu_alpha_build(&arena, 1, &net) != RN_OK) return 1;
    image = rn_net_arena_input(net); /* the input lives in the arena's second buffer */
    if (image == NULL) return 1;
    for (i = 0; i < 28 * 28; i++) image[i] = (float)(i % 28) / 28.0f; /* stands in for a sensor */
    input = rn_tensor_view(image, 4, (int[]){1, 1, 28, 28});
    if (rn_net_forward(net, &input, RN_EVAL) != RN_OK) return 2;
    logits = rn_net_output(net)->data;
    for (i = 1; i < 10; i++) best = logits[i] > logits[best] ? i : best;
    predicted_class = best;
    return 0;
}
