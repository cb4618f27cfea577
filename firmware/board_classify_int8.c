/* board_classify_int8 - an exported int8 network on an emulated Cortex-M
   board (make test-firmware runs it on QEMU's MPS2 AN385, AN386 and AN500
   with the int8 ReLU_alpha network and the int8 conv + batch norm + PReLU
   one).

   The network is BOARD_QMODEL_HEADER (rn_qnet_export_c: constant arrays,
   static buffers, no heap). It is checked first (rn_qnet_check: shapes,
   ranges and the CRC-32 of its values), then classifies every image of
   BOARD_QREFERENCE_HEADER one at a time, and its int8 outputs must be
   exactly the ones the desktop computed. It prints the instructions each
   inference took (mps2_board.h's counter under -icount) and exits with 0
   when everything matched, 1 when an output differed or the counter is
   off, and with rn_qnet_check's status (RN_ERR_FORMAT) when the exported
   network is refused (a damaged header must be). */
#define RELUNET_NO_SIMD /* no float kernels are needed, nor their tables */
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#ifndef BOARD_QMODEL_HEADER
#define BOARD_QMODEL_HEADER "relu_alpha_int8_model.h"
#define BOARD_QREFERENCE_HEADER "relu_alpha_int8_reference.h"
#endif
#include BOARD_QMODEL_HEADER
#include BOARD_QREFERENCE_HEADER /* defines the BOARD_Q and board_q names below */
#include "mps2_board.h"

#include <stdio.h>

enum { CLASSES = 10, PIXELS = 28 * 28 };

static int argmax(const int8_t *values, int count)
{
    int i, best = 0;
    for (i = 1; i < count; i++) best = values[i] > values[best] ? i : best;
    return best;
}

/* Classifies image n; returns 1 when its outputs are the desktop's. */
static int classify(int n, uint32_t overhead, unsigned long *instructions)
{
    const int8_t *expected = board_qreference_output + n * CLASSES;
    int8_t output[CLASSES];
    uint32_t start;
    int i, same = 1;
    start = mps2_counter_read();
    rn_qnet_forward(&BOARD_QNET, board_qreference_input + n * PIXELS, 1, output);
    *instructions = mps2_instructions(start - mps2_counter_read() - overhead);
    for (i = 0; i < CLASSES; i++)
        if (output[i] != expected[i]) {
            printf("image %d: output %d is %d, the desktop's %d\n", n, i, output[i], expected[i]);
            same = 0;
        }
    printf("image %d: class %d, %lu instructions, outputs %s\n", n, argmax(output, CLASSES),
           *instructions, same ? "exact" : "DIFFER");
    return same;
}

int main(void)
{
    unsigned long instructions, fewest = (unsigned long)-1, most = 0;
    uint32_t overhead;
    int status, n, exact = 0;
    mps2_counter_start();
    overhead = mps2_counter_overhead();
    printf("model: %s\n", BOARD_QMODEL_NAME);
    status = rn_qnet_check(&BOARD_QNET, BOARD_QNET_CRC32);
    if (status != RN_OK) {
        printf("model refused: status %d (%s): %s\n", status, rn_status_string(status),
               rn_last_error());
        return status;
    }
    if (BOARD_QNET.in_size != PIXELS || BOARD_QNET.out_size != CLASSES) {
        printf("model takes %lu values to %lu, not %d to %d\n", (unsigned long)BOARD_QNET.in_size,
               (unsigned long)BOARD_QNET.out_size, PIXELS, CLASSES);
        return 1;
    }
    if (!mps2_counter_is_exact(overhead)) return 1;
    for (n = 0; n < BOARD_QREFERENCE_BATCH; n++) {
        exact += classify(n, overhead, &instructions);
        fewest = instructions < fewest ? instructions : fewest;
        most = instructions > most ? instructions : most;
    }
    printf("%d of %d images exact; instructions per inference: %lu to %lu\n", exact,
           BOARD_QREFERENCE_BATCH, fewest, most);
    return exact == BOARD_QREFERENCE_BATCH ? 0 : 1;
}
