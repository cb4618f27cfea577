/* fuzz_idx.c - libFuzzer target for the IDX reader and the gzip inflater.
 *
 * The input is split in two files: the first 2 bytes (little-endian) give
 * the length of the images file, the rest is the labels file. Either may be
 * gzip. The whole input is also handed to rn_gunzip on its own. */
#define RELUNET_IMPLEMENTATION
#include "relunet_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rn_dataset dataset;
    unsigned char *plain;
    size_t plain_size, images_size;
    if (rn_gunzip(data, size, "fuzz", &plain, &plain_size) == RN_OK) RN_FREE(plain);
    if (size < 2) return 0;
    images_size = (size_t)(data[0] | data[1] << 8);
    if (images_size > size - 2) images_size = size - 2;
    if (rn_data_idx_from_memory(data + 2, images_size, data + 2 + images_size,
                                size - 2 - images_size, 10, &dataset) == RN_OK)
        rn_dataset_free(&dataset);
    return 0;
}
