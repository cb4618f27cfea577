/* board_kernels - the int8 kernels that only a board runs, against the
   scalar loop they stand for (make test-firmware runs it on every MPS2
   board). With the DSP extension (Cortex-M4, M7) rn__qdot takes four taps
   per step with SXTB16 and SMLAD; here it must give the scalar loop's sum
   for every count from 0 to 67 (every remainder after the steps of four),
   from every alignment of the weights and the window, on random values
   and on the extremes (weights +-127, window values +-255). Exits 0 when
   every case matched. A board without the extension (Cortex-M3) says that
   the check does not apply, and exits 0 with nothing compared. */
#define RELUNET_NO_SIMD
#define RELUNET_IMPLEMENTATION
#include "relunet.h"

#include <stdio.h>

enum { MOST = 67, PADDING = 4 };

static int8_t weights[MOST + PADDING];
static int16_t window[MOST + PADDING];

/* Random values, or (extremes) the largest products of both signs. */
static void fill(rn_rng *rng, int extremes)
{
    int i;
    for (i = 0; i < MOST + PADDING; i++) {
        uint32_t bits = rn_rng_u32(rng);
        weights[i] = (int8_t)(extremes ? (bits & 1u ? 127 : -127) : (int)(bits % 255u) - 127);
        window[i] = (int16_t)(extremes ? (bits & 2u ? 255 : -255) : (int)(bits >> 8 & 511u) - 255);
    }
}

/* The number of cases that differ, after printing the first few. */
static int compare_dot_products(void)
{
    rn_rng rng;
    int count, w_offset, x_offset, extremes, cases = 0, wrong = 0;
    rn_rng_seed(&rng, 4, 4);
    for (extremes = 0; extremes <= 1; extremes++)
        for (count = 0; count <= MOST; count++)
            for (w_offset = 0; w_offset < PADDING; w_offset++)
                for (x_offset = 0; x_offset < PADDING; x_offset++) {
                    int32_t fast, slow;
                    fill(&rng, extremes);
                    fast = rn__qdot(weights + w_offset, window + x_offset, count);
                    slow = rn__qdot_scalar(weights + w_offset, window + x_offset, count, 0);
                    cases++;
                    if (fast != slow && wrong++ < 5)
                        printf("rn__qdot: count %d, offsets %d/%d: %ld, the scalar loop %ld\n", count,
                               w_offset, x_offset, (long)fast, (long)slow);
                }
    printf("rn__qdot: dsp: %d of %d cases equal the scalar loop\n", cases - wrong, cases);
    return wrong;
}

int main(void)
{
#if defined(__ARM_FEATURE_DSP)
    return compare_dot_products() == 0 ? 0 : 1;
#else
    (void)compare_dot_products; /* nothing to compare it with here */
    printf("rn__qdot: dsp: skipped, this core has no DSP extension (the scalar loop is the kernel)\n");
    return 0;
#endif
}
