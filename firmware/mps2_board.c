/* mps2_board.c - reset and exceptions for the board programs on QEMU's MPS2
   boards (see mps2.ld for the memory map), and the instruction counter of
   mps2_board.h. Linked with -nostartfiles: this is the whole startup. */
#include "mps2_board.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern int main(void);
extern void initialise_monitor_handles(void); /* newlib's rdimon: semihosting stdio */
extern char __data_start, __data_end, __data_load, __bss_start__, __bss_end__, __stack_top;

void mps2_reset(void);

/* A fault (bad address, undefined instruction, lockup) ends the run with a
   status no board program returns. */
static void mps2_fault(void) { _exit(99); }

/* The core loads the stack pointer from entry 0 and jumps to entry 1; the
   other system exceptions all end the run. */
__attribute__((section(".vectors"), used)) static void (*const mps2_vectors[16])(void) = {
    (void (*)(void))&__stack_top, mps2_reset, mps2_fault, mps2_fault, mps2_fault, mps2_fault,
    mps2_fault, mps2_fault, mps2_fault, mps2_fault, mps2_fault, mps2_fault, mps2_fault,
    mps2_fault, mps2_fault, mps2_fault};

void mps2_reset(void)
{
#if defined(__ARM_FP)
    /* Full access to the FPU (coprocessors 10 and 11 in CPACR) before any
       floating-point instruction runs. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    memcpy(&__data_start, &__data_load, (size_t)(&__data_end - &__data_start));
    memset(&__bss_start__, 0, (size_t)(&__bss_end__ - &__bss_start__));
#ifdef MPS2_NO_SEMIHOSTING
    /* A program with no output (make firmware-size): it ends where
       newlib's nosys _exit parks the core, and exit's flushing and atexit
       machinery (malloc and free among it) is not linked. */
    _exit(main());
#else
    initialise_monitor_handles();
    exit(main());
#endif
}

/* CMSDK APB timer 0: CTRL, VALUE, RELOAD. */
#define MPS2_TIMER0 ((volatile uint32_t *)0x40000000u)

void mps2_counter_start(void)
{
    MPS2_TIMER0[2] = 0xFFFFFFFFu;
    MPS2_TIMER0[1] = 0xFFFFFFFFu;
    MPS2_TIMER0[0] = 1u; /* enable, no interrupt, internal clock */
}

uint32_t mps2_counter_read(void) { return MPS2_TIMER0[1]; }

unsigned long mps2_instructions(uint32_t ticks)
{
    const unsigned long ns_per_instruction = 1ul << MPS2_ICOUNT_SHIFT;
    return (unsigned long)(((uint64_t)ticks * MPS2_NS_PER_TICK + ns_per_instruction / 2) /
                           ns_per_instruction);
}

uint32_t mps2_counter_overhead(void)
{
    uint32_t start = mps2_counter_read();
    return start - mps2_counter_read();
}

int mps2_counter_is_exact(uint32_t overhead)
{
    enum { ITERATIONS = 1000 };
    unsigned long counted;
    uint32_t start;
    int left = ITERATIONS;
    start = mps2_counter_read();
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+l"(left) : : "cc");
    counted = mps2_instructions(start - mps2_counter_read() - overhead);
    printf("counter: a loop of %d instructions counts %lu\n", 2 * ITERATIONS, counted);
    /* Within 2: each reading is rounded to a whole tick (1.6 instructions
       each), and where the reads fall in the timer's period varies with the
       code around them. */
    return counted + 2 >= 2 * ITERATIONS && counted <= 2 * ITERATIONS + 2;
}
