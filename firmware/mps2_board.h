/* mps2_board.h - what the board programs need from QEMU's MPS2 boards: a
   reset handler (mps2_board.c) that starts main with semihosting for stdout
   and the exit status, and an instruction counter.

   Counting instructions: under `qemu-system-arm -icount shift=6` every
   instruction advances the virtual clock by 2^6 = 64 ns, and the CMSDK APB
   timer 0 (0x40000000) counts down at the 25 MHz system clock, one tick per
   40 ns. So each instruction is 1.6 ticks and an interval of t ticks holds
   round(t * 40 / 64) instructions, exactly and the same on every run. */
#ifndef MPS2_BOARD_H
#define MPS2_BOARD_H

#include <stdint.h>

#ifndef MPS2_ICOUNT_SHIFT
#define MPS2_ICOUNT_SHIFT 6 /* must match the -icount shift the board runs with */
#endif
#define MPS2_NS_PER_TICK 40u

/* Starts timer 0 counting down from 2^32 - 1 (about 2.7 billion
   instructions before it wraps). */
void mps2_counter_start(void);
/* The timer's value now: subtract a later reading from an earlier one. */
uint32_t mps2_counter_read(void);
/* Instructions in an interval of ticks timer ticks. */
unsigned long mps2_instructions(uint32_t ticks);
/* Ticks of an empty interval: what every measurement subtracts. */
uint32_t mps2_counter_overhead(void);
/* 1 when the counter sees a loop of a known length as that many
   instructions, to within 2 (two per iteration), and prints what it saw;
   0 means QEMU
   is not running with -icount shift=MPS2_ICOUNT_SHIFT, and no count would
   mean anything. */
int mps2_counter_is_exact(uint32_t overhead);

#endif
