/* fuzz_image.c - libFuzzer target for the image loader (stb_image's PNG,
 * JPEG and BMP decoders behind relunet's size checks) and the resize. The
 * first byte picks gray or RGB and whether to resize to 7 x 5. */
#define RELUNET_IMPLEMENTATION
#include "relunet_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rn_tensor image;
    int channels, resize;
    if (size < 1) return 0;
    channels = data[0] & 1 ? 3 : 1;
    resize = (data[0] & 2) != 0;
    memset(&image, 0, sizeof image);
    rn_image_from_memory(data + 1, size - 1, channels, resize ? 7 : 0, resize ? 5 : 0, &image);
    rn_tensor_free(&image);
    return 0;
}
