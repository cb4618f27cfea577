/* reseal.h - for tests that damage relunet files on purpose.
 *
 * reseal() recomputes a file's body size and CRC-32 after its bytes were
 * changed or cut (size >= 16), so that the damage gets past the checksum and
 * reaches the parser. Include after relunet.h. */
#ifndef RELUNET_TEST_RESEAL_H
#define RELUNET_TEST_RESEAL_H

static void reseal(unsigned char *bytes, size_t size)
{
    uint32_t body = (uint32_t)(size - 16), crc;
    int i;
    for (i = 0; i < 4; i++) bytes[8 + i] = (unsigned char)(body >> (8 * i));
    crc = rn_crc32(0, bytes, size - 4);
    for (i = 0; i < 4; i++) bytes[size - 4 + i] = (unsigned char)(crc >> (8 * i));
}

#endif
