/* make_seeds.c - writes the small generated seed corpora for the fuzz
 * targets: make_seeds DIR creates DIR/idx, DIR/cifar and DIR/image. */
#define RELUNET_IMPLEMENTATION
#include "relunet_data.h"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "stb_image_write.h"

static void write_file(const char *dir, const char *name, const void *data, size_t size)
{
    char path[1024];
    FILE *file;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    file = fopen(path, "wb");
    if (file == NULL) {
        perror(path);
        exit(1);
    }
    fwrite(data, 1, size, file);
    fclose(file);
}

static size_t put_be32(unsigned char *p, uint32_t value)
{
    p[0] = (unsigned char)(value >> 24), p[1] = (unsigned char)(value >> 16);
    p[2] = (unsigned char)(value >> 8), p[3] = (unsigned char)value;
    return 4;
}

/* Images (2 x 3 x 3) then labels, with the 2-byte split the target reads. */
static size_t make_idx_pair(unsigned char *out)
{
    size_t n = 2, k;
    out[n++] = 0, out[n++] = 0, out[n++] = 8, out[n++] = 3;
    n += put_be32(out + n, 2), n += put_be32(out + n, 3), n += put_be32(out + n, 3);
    for (k = 0; k < 18; k++) out[n++] = (unsigned char)(k * 14);
    out[0] = (unsigned char)(n - 2), out[1] = 0;
    out[n++] = 0, out[n++] = 0, out[n++] = 8, out[n++] = 1;
    n += put_be32(out + n, 2);
    out[n++] = 3, out[n++] = 7;
    return n;
}

/* The same pair with the images file gzip-compressed (FNAME and FHCRC set). */
static size_t make_gzip_pair(const unsigned char *pair, size_t pair_size, unsigned char *out)
{
    size_t images = pair[0], n = 2;
    int zlib_size;
    uint32_t crc;
    unsigned char *zlib =
        stbi_zlib_compress((unsigned char *)pair + 2, (int)images, &zlib_size, 8);
    static const unsigned char head[10] = {0x1f, 0x8b, 8, 8 | 2, 0, 0, 0, 0, 0, 3};
    memcpy(out + n, head, 10), n += 10;
    memcpy(out + n, "a.idx", 6), n += 6;
    crc = rn_crc32(0, out + 2, n - 2);
    out[n++] = (unsigned char)crc, out[n++] = (unsigned char)(crc >> 8);
    memcpy(out + n, zlib + 2, (size_t)zlib_size - 6), n += (size_t)zlib_size - 6;
    crc = rn_crc32(0, pair + 2, images);
    out[n++] = (unsigned char)crc, out[n++] = (unsigned char)(crc >> 8);
    out[n++] = (unsigned char)(crc >> 16), out[n++] = (unsigned char)(crc >> 24);
    out[n++] = (unsigned char)images, out[n++] = 0, out[n++] = 0, out[n++] = 0;
    out[0] = (unsigned char)(n - 2), out[1] = 0;
    memcpy(out + n, pair + 2 + images, pair_size - 2 - images), n += pair_size - 2 - images;
    free(zlib);
    return n;
}

static void collect(void *context, void *data, int size)
{
    FILE *file = (FILE *)context;
    fwrite(data, 1, (size_t)size, file);
}

static void write_image(const char *dir, const char *name, int mode, int format)
{
    unsigned char pixels[6 * 4 * 3];
    char path[1024];
    FILE *file;
    int k;
    for (k = 0; k < 72; k++) pixels[k] = (unsigned char)(k * 29);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    file = fopen(path, "wb");
    if (file == NULL) {
        perror(path);
        exit(1);
    }
    fputc(mode, file);
    if (format == 0) stbi_write_png_to_func(collect, file, 6, 4, 3, pixels, 18);
    if (format == 1) stbi_write_jpg_to_func(collect, file, 6, 4, 3, pixels, 90);
    if (format == 2) stbi_write_bmp_to_func(collect, file, 6, 4, 3, pixels);
    if (format == 3) stbi_write_png_to_func(collect, file, 6, 4, 1, pixels, 6);
    fclose(file);
}

int main(int argc, char **argv)
{
    static const char meta[] = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\n"
                               "truck\n";
    unsigned char pair[128], gz[256], cifar[2 * 3073];
    char dir[1024];
    size_t n, k;
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR (DIR/idx, DIR/cifar, DIR/image must exist)\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s/idx", argv[1]);
    n = make_idx_pair(pair);
    write_file(dir, "pair", pair, n);
    write_file(dir, "pair_gz", gz, make_gzip_pair(pair, n, gz));
    snprintf(dir, sizeof dir, "%s/cifar", argv[1]);
    for (k = 0; k < sizeof cifar; k++) cifar[k] = (unsigned char)(k % 3073 == 0 ? k / 3073 : k);
    write_file(dir, "two_records", cifar, sizeof cifar);
    write_file(dir, "meta", meta, sizeof meta - 1);
    snprintf(dir, sizeof dir, "%s/image", argv[1]);
    write_image(dir, "png_rgb", 1, 0);
    write_image(dir, "jpg_gray_resized", 2, 1);
    write_image(dir, "bmp_rgb_resized", 3, 2);
    write_image(dir, "png_gray", 0, 3);
    return 0;
}
