/* board_classify - an exported network on an emulated Cortex-M board (make
   test-firmware runs it on QEMU's MPS2 AN385, AN386 and AN500 with the
   ReLU_alpha network and the conv + batch norm + PReLU one).

   It builds the network from BOARD_MODEL_HEADER (default
   relu_alpha_model.h) in a static arena, classifies every image of
   BOARD_REFERENCE_HEADER one at a time, and checks that the logits are bit
   for bit the ones the desktop computed. It prints the
   instructions each inference took, counted by mps2_board.h's timer under
   -icount, and exits with 0 when everything matched, 1 when a logit
   differed or the counter is off, and with the builder's status (RN_ERR_*)
   when the exported model is refused (a damaged header must be). */
#define RELUNET_NO_SIMD /* scalar kernels, as the desktop's reference ran */
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#ifndef BOARD_MODEL_HEADER
#define BOARD_MODEL_HEADER "relu_alpha_model.h"
#define BOARD_REFERENCE_HEADER "relu_alpha_reference.h"
#endif
#include BOARD_MODEL_HEADER
#include BOARD_REFERENCE_HEADER /* defines the BOARD_ and board_ names below */
#include "mps2_board.h"

#include <stdio.h>

enum { CLASSES = 10, PIXELS = 28 * 28 };

static unsigned char arena_memory[BOARD_MODEL_ARENA_BYTES(1)];

static int argmax(const float *values, int count)
{
    int i, best = 0;
    for (i = 1; i < count; i++) best = values[i] > values[best] ? i : best;
    return best;
}

/* Classifies image n, written into the arena's input buffer as a sensor
   would; returns 1 when its logits are the desktop's. */
static int classify(rn_net *net, int n, uint32_t overhead, unsigned long *instructions)
{
    const uint32_t *expected = board_reference_logits + n * CLASSES;
    float *image = rn_net_arena_input(net);
    rn_tensor input = rn_tensor_view(image, 4, (int[]){1, 1, 28, 28});
    const float *logits;
    uint32_t start, bits;
    int status, i, same = 1;
    memcpy(image, board_reference_input + n * PIXELS, PIXELS * sizeof(float));
    start = mps2_counter_read();
    status = rn_net_forward(net, &input, RN_EVAL);
    *instructions = mps2_instructions(start - mps2_counter_read() - overhead);
    if (status != RN_OK) {
        printf("image %d: rn_net_forward: %s\n", n, rn_last_error());
        return 0;
    }
    logits = rn_net_output(net)->data;
    for (i = 0; i < CLASSES; i++) {
        memcpy(&bits, &logits[i], sizeof bits);
        if (bits != expected[i]) {
            printf("image %d: logit %d is 0x%08lX, the desktop's 0x%08lX\n", n, i,
                   (unsigned long)bits, (unsigned long)expected[i]);
            same = 0;
        }
    }
    printf("image %d: class %d, %lu instructions, logits %s\n", n, argmax(logits, CLASSES),
           *instructions, same ? "bit-exact" : "DIFFER");
    return same;
}

int main(void)
{
    rn_arena arena;
    rn_net *net;
    unsigned long instructions, fewest = (unsigned long)-1, most = 0;
    uint32_t overhead;
    int status, n, exact = 0;
    mps2_counter_start();
    overhead = mps2_counter_overhead();
    rn_arena_init(&arena, arena_memory, sizeof arena_memory);
    printf("model: %s\n", BOARD_MODEL_NAME);
    status = BOARD_MODEL_BUILD(&arena, 1, &net);
    if (status != RN_OK) {
        printf("model refused: status %d (%s): %s\n", status, rn_status_string(status),
               rn_last_error());
        return status;
    }
    if (!mps2_counter_is_exact(overhead)) return 1;
    for (n = 0; n < BOARD_REFERENCE_BATCH; n++) {
        exact += classify(net, n, overhead, &instructions);
        fewest = instructions < fewest ? instructions : fewest;
        most = instructions > most ? instructions : most;
    }
    printf("%d of %d images bit-exact; instructions per inference: %lu to %lu\n", exact,
           BOARD_REFERENCE_BATCH, fewest, most);
    return exact == BOARD_REFERENCE_BATCH ? 0 : 1;
}
