/* fuzz_cifar.c - libFuzzer target for the CIFAR-10 batch reader and the
 * batches.meta.txt parser (both read the whole input). */
#define RELUNET_IMPLEMENTATION
#include "relunet_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rn_dataset dataset;
    if (rn_data_cifar10_from_memory(data, size, &dataset) == RN_OK) rn_dataset_free(&dataset);
    memset(&dataset, 0, sizeof dataset);
    rn__cifar_class_names((const char *)data, size, "fuzz", &dataset);
    rn_dataset_free(&dataset);
    return 0;
}
