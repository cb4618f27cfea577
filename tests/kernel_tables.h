/* kernel_tables.h - the kernel tables of this build that the CPU runs,
 * for the tests that check every one (include after relunet.h with
 * RELUNET_IMPLEMENTATION, whose internals they reach).
 */
#ifndef RELUNET_TESTS_KERNEL_TABLES_H
#define RELUNET_TESTS_KERNEL_TABLES_H

/* The tables of this build the CPU can run, the scalar reference first. */
static int usable_tables(const rn__kernel_table **tables)
{
    int i, count = 0;
    for (i = 0; i < RN__TABLE_COUNT; i++)
        if (rn__cpu_has(rn__kernel_tables[i].isa)) tables[count++] = &rn__kernel_tables[i];
    return count;
}

#endif
