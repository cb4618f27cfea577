/* test_data.c - relunet_data.h: every reader on fixtures this test writes
 * itself (IDX raw and gzip, CIFAR-10 records, PNG/JPEG/BMP images), their
 * corrupted variants, the dataset operations, and two moons against
 * scikit-learn's numbers. The real Fashion-MNIST and CIFAR-10 are checked
 * when present, and reported as skipped otherwise.
 *
 * RELUNET_MOONS_REFERENCE=file (written by tests/moons_reference.py) adds a
 * point-by-point comparison with the installed scikit-learn. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, rmdir */
#define RELUNET_IMPLEMENTATION
#include "relunet_data.h"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "stb_image_write.h"
#include "harness.h"
#include "platform.h"

/* ---- fixtures ------------------------------------------------------------ */

typedef struct bytes {
    unsigned char *data;
    size_t size;
} bytes;

static void bytes_append(bytes *b, const void *data, size_t size)
{
    unsigned char *grown = (unsigned char *)realloc(b->data, b->size + size + 1);
    if (grown == NULL) abort();
    if (size > 0) memcpy(grown + b->size, data, size);
    b->data = grown;
    b->size += size;
}

static void bytes_append_le32(bytes *b, uint32_t value)
{
    unsigned char p[4] = {(unsigned char)value, (unsigned char)(value >> 8),
                          (unsigned char)(value >> 16), (unsigned char)(value >> 24)};
    bytes_append(b, p, 4);
}

static void bytes_append_be32(bytes *b, uint32_t value)
{
    unsigned char p[4] = {(unsigned char)(value >> 24), (unsigned char)(value >> 16),
                          (unsigned char)(value >> 8), (unsigned char)value};
    bytes_append(b, p, 4);
}

/* An unsigned-byte IDX file: magic, dims, then payload. */
static bytes make_idx(int ndim, const uint32_t *dims, const unsigned char *payload, size_t size)
{
    bytes b = {NULL, 0};
    int i;
    bytes_append_be32(&b, 0x00000800u | (uint32_t)ndim);
    for (i = 0; i < ndim; i++) bytes_append_be32(&b, dims[i]);
    bytes_append(&b, payload, size);
    return b;
}

enum { GZ_FHCRC = 2, GZ_FEXTRA = 4, GZ_FNAME = 8, GZ_FCOMMENT = 16 };

/* A gzip member around plain, with the optional header fields in flags:
   stb_image_write's zlib stream minus its 2-byte header and Adler-32. */
static bytes make_gzip(const unsigned char *plain, size_t size, unsigned flags)
{
    static const unsigned char extra[6] = {4, 0, 'A', 'B', 1, 0};
    bytes b = {NULL, 0};
    unsigned char head[10] = {0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 0, 3};
    int zlib_size;
    unsigned char *zlib = stbi_zlib_compress((unsigned char *)plain, (int)size, &zlib_size, 8);
    head[3] = (unsigned char)flags;
    bytes_append(&b, head, 10);
    if (flags & GZ_FEXTRA) bytes_append(&b, extra, sizeof extra);
    if (flags & GZ_FNAME) bytes_append(&b, "images.idx", 11);
    if (flags & GZ_FCOMMENT) bytes_append(&b, "made by test_data", 18);
    if (flags & GZ_FHCRC) {
        uint32_t crc = rn_crc32(0, b.data, b.size);
        unsigned char p[2] = {(unsigned char)crc, (unsigned char)(crc >> 8)};
        bytes_append(&b, p, 2);
    }
    if (size > 0) bytes_append(&b, zlib + 2, (size_t)zlib_size - 6);
    else bytes_append(&b, "\3\0", 2); /* stb_image_write emits no block at all for empty input */
    bytes_append_le32(&b, rn_crc32(0, plain, size));
    bytes_append_le32(&b, (uint32_t)size);
    free(zlib);
    return b;
}

/* 3 images of 2 x 4 with distinct bytes, and their labels. */
#define IDX_N 3
#define IDX_H 2
#define IDX_W 4
static unsigned char idx_pixels[IDX_N * IDX_H * IDX_W];
static const unsigned char idx_labels[IDX_N] = {9, 0, 4};

static bytes make_idx_images(void)
{
    static const uint32_t dims[3] = {IDX_N, IDX_H, IDX_W};
    size_t i;
    for (i = 0; i < sizeof idx_pixels; i++) idx_pixels[i] = (unsigned char)(i * 37 + 11);
    return make_idx(3, dims, idx_pixels, sizeof idx_pixels);
}

static bytes make_idx_labels(void)
{
    static const uint32_t dims[1] = {IDX_N};
    return make_idx(1, dims, idx_labels, IDX_N);
}

/* CIFAR records: label, then R, G, B planes, each pixel byte a function of
   (record, position) so any layout mix-up shows. */
static unsigned char cifar_byte(int record, int k) { return (unsigned char)(k * 7 + record * 13); }

static bytes make_cifar(int count, int first_label)
{
    bytes b = {NULL, 0};
    int r, k;
    for (r = 0; r < count; r++) {
        unsigned char record[3073];
        record[0] = (unsigned char)((first_label + r) % 10);
        for (k = 0; k < 3072; k++) record[1 + k] = cifar_byte(r, k);
        bytes_append(&b, record, sizeof record);
    }
    return b;
}

/* ---- temporary files ---------------------------------------------------- */

static char temp_dir[128];
static char temp_paths[64][512];
static int temp_count;

static const char *temp_path(const char *name)
{
    snprintf(temp_paths[temp_count], sizeof temp_paths[0], "%s/%s", temp_dir, name);
    return temp_paths[temp_count++];
}

static const char *temp_mkdir(const char *name)
{
    const char *path = temp_path(name);
    temp_mkdir_one(path);
    return path;
}

static const char *temp_write(const char *name, const void *data, size_t size)
{
    const char *path = temp_path(name);
    FILE *file = fopen(path, "wb");
    if (file == NULL) abort();
    fwrite(data, 1, size, file);
    fclose(file);
    return path;
}

/* Removes everything in reverse order of creation: files before their dirs. */
static void temp_cleanup(void)
{
    while (temp_count > 0) {
        const char *path = temp_paths[--temp_count];
        if (remove(path) != 0) temp_rmdir(path);
    }
    temp_rmdir(temp_dir);
}

/* A failed read must report an error and leave the output empty. */
static int failed_cleanly(int status, const rn_dataset *out)
{
    return status != RN_OK && out->inputs.data == NULL && out->labels == NULL &&
           out->class_names == NULL;
}

/* ---- CRC-32 and gzip ----------------------------------------------------- */

static void test_crc32(void)
{
    const char *text = "123456789";
    CHECK(rn_crc32(0, text, 9) == 0xCBF43926u); /* the check value of CRC-32/ISO-HDLC */
    CHECK(rn_crc32(rn_crc32(0, text, 4), text + 4, 5) == 0xCBF43926u);
    CHECK(rn_crc32(0, NULL, 0) == 0);
}

static void test_gunzip_header_fields(void)
{
    static const unsigned flag_sets[6] = {0, GZ_FEXTRA, GZ_FNAME, GZ_FCOMMENT, GZ_FHCRC,
                                          GZ_FEXTRA | GZ_FNAME | GZ_FCOMMENT | GZ_FHCRC};
    unsigned char plain[5000];
    size_t i;
    for (i = 0; i < sizeof plain; i++) plain[i] = (unsigned char)((i * i) >> 3);
    for (i = 0; i < 6; i++) {
        bytes gz = make_gzip(plain, sizeof plain, flag_sets[i]);
        unsigned char *out = NULL;
        size_t out_size = 0;
        CHECK(rn_gunzip(gz.data, gz.size, "fixture.gz", &out, &out_size) == RN_OK);
        CHECK(out_size == sizeof plain && out != NULL && memcmp(out, plain, sizeof plain) == 0);
        RN_FREE(out);
        free(gz.data);
    }
    {   /* an empty member */
        bytes gz = make_gzip(plain, 0, GZ_FNAME);
        unsigned char *out = NULL;
        size_t out_size = 1;
        CHECK(rn_gunzip(gz.data, gz.size, "empty.gz", &out, &out_size) == RN_OK);
        CHECK(out_size == 0);
        RN_FREE(out);
        free(gz.data);
    }
}

static int gunzip_fails(const unsigned char *data, size_t size)
{
    unsigned char *out = (unsigned char *)&out; /* must come back NULL */
    size_t out_size = 7;
    int status = rn_gunzip(data, size, "bad.gz", &out, &out_size);
    return status == RN_ERR_FORMAT && out == NULL && out_size == 0;
}

static void test_gunzip_corrupt(void)
{
    unsigned char plain[300];
    bytes gz;
    size_t i, flips_caught = 0, flips = 0;
    for (i = 0; i < sizeof plain; i++) plain[i] = (unsigned char)(i % 17 + i / 50);
    gz = make_gzip(plain, sizeof plain, GZ_FEXTRA | GZ_FNAME | GZ_FCOMMENT | GZ_FHCRC);
    for (i = 0; i < gz.size; i++) CHECK(gunzip_fails(gz.data, i)); /* every truncation */
    gz.data[gz.size - 8] ^= 1; /* CRC-32 */
    CHECK(gunzip_fails(gz.data, gz.size));
    gz.data[gz.size - 8] ^= 1;
    gz.data[gz.size - 4] ^= 1; /* ISIZE */
    CHECK(gunzip_fails(gz.data, gz.size));
    gz.data[gz.size - 4] ^= 1;
    gz.data[gz.size - 1] = 0xff; /* ISIZE of 4 GB */
    CHECK(gunzip_fails(gz.data, gz.size));
    gz.data[gz.size - 1] = 0;
    gz.data[12] ^= 0x40; /* inside the extra field: the header CRC catches it */
    CHECK(gunzip_fails(gz.data, gz.size));
    gz.data[12] ^= 0x40;
    gz.data[3] |= 0x20; /* a reserved flag */
    CHECK(gunzip_fails(gz.data, gz.size));
    gz.data[3] &= 0x1f;
    gz.data[2] = 7; /* not deflate */
    CHECK(gunzip_fails(gz.data, gz.size));
    gz.data[2] = 8;
    /* Every single-bit flip in the deflate data fails or decodes unchanged. */
    for (i = 10 + 6 + 11 + 18 + 2; i < gz.size - 8; i++) {
        unsigned char *out = NULL;
        size_t out_size = 0;
        int status;
        gz.data[i] ^= 0x10;
        status = rn_gunzip(gz.data, gz.size, "flipped.gz", &out, &out_size);
        flips++;
        if (status != RN_OK) flips_caught++;
        else CHECK(out_size == sizeof plain && memcmp(out, plain, sizeof plain) == 0);
        RN_FREE(out);
        gz.data[i] ^= 0x10;
    }
    CHECK(flips_caught > flips / 2);
    free(gz.data);
}

/* ---- IDX ----------------------------------------------------------------- */

static void check_idx_fixture(const rn_dataset *data)
{
    int i;
    CHECK(data->inputs.ndim == 4 && data->inputs.shape[0] == IDX_N && data->inputs.shape[1] == 1 &&
          data->inputs.shape[2] == IDX_H && data->inputs.shape[3] == IDX_W);
    CHECK(data->n_classes == 10);
    for (i = 0; i < (int)sizeof idx_pixels; i++)
        if (data->inputs.data[i] != idx_pixels[i] / 255.0f) break;
    CHECK(i == (int)sizeof idx_pixels);
    for (i = 0; i < IDX_N; i++) CHECK(data->labels[i] == idx_labels[i]);
}

static void test_idx_raw_and_gzip(void)
{
    bytes images = make_idx_images(), labels = make_idx_labels();
    bytes images_gz = make_gzip(images.data, images.size, GZ_FNAME);
    bytes labels_gz = make_gzip(labels.data, labels.size, GZ_FEXTRA | GZ_FHCRC);
    const bytes *image_files[2] = {&images, &images_gz}, *label_files[2] = {&labels, &labels_gz};
    int i, j;
    for (i = 0; i < 2; i++)
        for (j = 0; j < 2; j++) {
            rn_dataset data;
            int status = rn_data_idx_from_memory(image_files[i]->data, image_files[i]->size,
                                                 label_files[j]->data, label_files[j]->size, 10,
                                                 &data);
            CHECK(status == RN_OK);
            if (status != RN_OK) continue;
            check_idx_fixture(&data);
            CHECK(data.class_names == NULL);
            rn_dataset_free(&data);
        }
    free(images.data);
    free(labels.data);
    free(images_gz.data);
    free(labels_gz.data);
}

static int idx_fails(const bytes *images, const bytes *labels, int n_classes)
{
    rn_dataset data;
    int status = rn_data_idx_from_memory(images->data, images->size, labels->data, labels->size,
                                         n_classes, &data);
    int failed = failed_cleanly(status, &data);
    rn_dataset_free(&data);
    return failed;
}

static void test_idx_corrupt(void)
{
    bytes images = make_idx_images(), labels = make_idx_labels();
    bytes images_gz = make_gzip(images.data, images.size, GZ_FNAME | GZ_FHCRC);
    size_t i;
    for (i = 0; i < images.size; i++) {
        bytes truncated = {images.data, i};
        CHECK(idx_fails(&truncated, &labels, 10));
    }
    for (i = 0; i < labels.size; i++) {
        bytes truncated = {labels.data, i};
        CHECK(idx_fails(&images, &truncated, 10));
    }
    for (i = 0; i < images_gz.size; i++) {
        bytes truncated = {images_gz.data, i};
        CHECK(idx_fails(&truncated, &labels, 10));
    }
    CHECK(idx_fails(&labels, &images, 10)); /* the files swapped: wrong magic */
    images.data[2] = 0x0d;                  /* float data: unsupported type */
    CHECK(idx_fails(&images, &labels, 10));
    images.data[2] = 0x08;
    CHECK(idx_fails(&images, &labels, 9)); /* label 9 is out of range */
    CHECK(!idx_fails(&images, &labels, 10));
    {   /* huge dimensions: rejected before any allocation */
        static const uint32_t huge_count[3] = {0x80000000u, 28, 28};
        static const uint32_t huge_side[3] = {1, 100000, 2};
        static const uint32_t zero[3] = {0, 28, 28};
        const uint32_t *headers[3] = {huge_count, huge_side, zero};
        for (i = 0; i < 3; i++) {
            bytes bad = make_idx(3, headers[i], idx_pixels, sizeof idx_pixels);
            CHECK(idx_fails(&bad, &labels, 10));
            free(bad.data);
        }
    }
    {   /* counts that disagree, and a trailing byte */
        static const uint32_t two[1] = {2};
        bytes short_labels = make_idx(1, two, idx_labels, 2);
        CHECK(idx_fails(&images, &short_labels, 10));
        bytes_append(&images, "x", 1);
        CHECK(idx_fails(&images, &labels, 10));
        free(short_labels.data);
    }
    free(images.data);
    free(labels.data);
    free(images_gz.data);
}

static void test_idx_files_and_fashion_mnist(void)
{
    bytes images = make_idx_images(), labels = make_idx_labels();
    bytes images_gz = make_gzip(images.data, images.size, 0);
    const char *dir = temp_mkdir("fashion");
    const char *images_path = temp_write("fashion/train-images-idx3-ubyte.gz", images_gz.data,
                                         images_gz.size);
    const char *labels_path = temp_write("fashion/train-labels-idx1-ubyte", labels.data,
                                         labels.size);
    rn_dataset data;
    CHECK(rn_data_idx_load(images_path, labels_path, 10, &data) == RN_OK);
    check_idx_fixture(&data);
    rn_dataset_free(&data);
    CHECK(rn_data_fashion_mnist(dir, 1, &data) == RN_OK);
    check_idx_fixture(&data);
    CHECK(data.class_names != NULL && strcmp(data.class_names[0], "T-shirt/top") == 0 &&
          strcmp(data.class_names[9], "Ankle boot") == 0);
    rn_dataset_free(&data);
    /* The test set is absent: the error says where it looked and what to do. */
    CHECK(failed_cleanly(rn_data_fashion_mnist(dir, 0, &data), &data));
    CHECK(strstr(rn_last_error(), "t10k-images-idx3-ubyte") != NULL);
    CHECK(strstr(rn_last_error(), dir) != NULL);
    CHECK(strstr(rn_last_error(), "apt-get install dataset-fashion-mnist") != NULL);
    CHECK(failed_cleanly(rn_data_idx_load(images_path, "/nonexistent/labels", 10, &data), &data));
    CHECK(strstr(rn_last_error(), "/nonexistent/labels") != NULL);
    free(images.data);
    free(labels.data);
    free(images_gz.data);
}

/* D2: --data DIR and $RELUNET_DATA follow one rule (the dataset's folder or
   its parent), and a location that holds no dataset is an error naming it,
   even where the system's copy would have been found. */
static void test_data_locations(void)
{
    bytes images = make_idx_images(), labels = make_idx_labels();
    const char *root = temp_mkdir("root"), *inner = temp_mkdir("root/fashion-mnist");
    const char *saved = getenv("RELUNET_DATA");
    char saved_copy[RN__PATH_SIZE] = "";
    const char *places[2];
    rn_dataset data;
    int i;
    if (saved != NULL) snprintf(saved_copy, sizeof saved_copy, "%s", saved);
    temp_write("root/fashion-mnist/train-images-idx3-ubyte", images.data, images.size);
    temp_write("root/fashion-mnist/train-labels-idx1-ubyte", labels.data, labels.size);
    places[0] = root;
    places[1] = inner;
    for (i = 0; i < 2; i++) {
        CHECK(rn_data_fashion_mnist(places[i], 1, &data) == RN_OK);
        check_idx_fixture(&data);
        rn_dataset_free(&data);
        test_setenv("RELUNET_DATA", places[i]);
        CHECK(rn_data_fashion_mnist(NULL, 1, &data) == RN_OK);
        check_idx_fixture(&data);
        rn_dataset_free(&data);
    }
    test_setenv("RELUNET_DATA", "/nonexistent/data");
    CHECK(failed_cleanly(rn_data_fashion_mnist(NULL, 1, &data), &data));
    CHECK(strstr(rn_last_error(), "/nonexistent/data/fashion-mnist") != NULL &&
          strstr(rn_last_error(), "$RELUNET_DATA") != NULL);
    CHECK(failed_cleanly(rn_data_cifar10(NULL, 1, &data), &data));
    CHECK(strstr(rn_last_error(), "/nonexistent/data/cifar-10-batches-bin") != NULL);
    CHECK(failed_cleanly(rn_data_fashion_mnist("/nonexistent/given", 1, &data), &data));
    CHECK(strstr(rn_last_error(), "/nonexistent/given") != NULL &&
          strstr(rn_last_error(), "the directory given") != NULL);
    if (saved != NULL) test_setenv("RELUNET_DATA", saved_copy);
    else test_unsetenv("RELUNET_DATA");
    free(images.data);
    free(labels.data);
}

/* ---- augmentation ---------------------------------------------------------- */

/* The crop written the other way round: pad with zeros, cut an H x W window
   at (padding + dy, padding + dx), mirror it. */
static float reference_crop(const float *image, int height, int width, int padding, int dy,
                            int dx, int mirror, int y, int x)
{
    int padded_y = padding + dy + y, padded_x = padding + dx + (mirror ? width - 1 - x : x);
    int from_y = padded_y - padding, from_x = padded_x - padding;
    if (from_y < 0 || from_y >= height || from_x < 0 || from_x >= width) return 0.0f;
    return image[from_y * width + from_x];
}

static void test_augment_crop_flip(void)
{
    enum { N = 400, C = 2, H = 5, W = 6, P = 2 };
    rn_tensor images, again;
    rn_rng rng, replay;
    int n, c, y, x, same = 1, flips = 0, seen_dx[2 * P + 1] = {0}, changed = 0;
    rn_tensor_new(&images, 4, (int[]){N, C, H, W});
    for (n = 0; n < (int)images.size; n++) images.data[n] = 1.0f + (float)(n % 97);
    rn_tensor_clone(&again, &images);
    rn_rng_seed(&rng, 11, 0);
    replay = rng;
    CHECK(rn_data_augment_crop_flip(&images, P, 1, &rng) == RN_OK);
    for (n = 0; n < N; n++) {
        int dy = (int)rn_rng_below(&replay, 2 * P + 1) - P;
        int dx = (int)rn_rng_below(&replay, 2 * P + 1) - P;
        int mirror = (int)(rn_rng_u32(&replay) >> 31);
        flips += mirror;
        seen_dx[dx + P]++;
        for (c = 0; c < C; c++)
            for (y = 0; y < H; y++)
                for (x = 0; x < W; x++) {
                    const float *original = again.data + ((size_t)n * C + c) * H * W;
                    float got = images.data[(((size_t)n * C + c) * H + y) * W + x];
                    same &= got == reference_crop(original, H, W, P, dy, dx, mirror, y, x);
                }
    }
    CHECK(same);
    CHECK(flips > N / 2 - 60 && flips < N / 2 + 60);
    for (x = 0; x <= 2 * P; x++) CHECK(seen_dx[x] > N / (2 * P + 1) / 2);
    /* The same seed gives the same images; padding 0 without flip changes nothing. */
    rn_rng_seed(&rng, 11, 0);
    CHECK(rn_data_augment_crop_flip(&again, P, 1, &rng) == RN_OK);
    CHECK(memcmp(again.data, images.data, images.size * sizeof(float)) == 0);
    rn_tensor_free(&again);
    rn_tensor_clone(&again, &images);
    CHECK(rn_data_augment_crop_flip(&images, 0, 0, &rng) == RN_OK);
    CHECK(memcmp(again.data, images.data, images.size * sizeof(float)) == 0);
    CHECK(rn_data_augment_crop_flip(&images, 0, 1, &rng) == RN_OK); /* flips only */
    for (n = 0; n < N; n++)
        changed += memcmp(images.data + (size_t)n * C * H * W, again.data + (size_t)n * C * H * W,
                          C * H * W * sizeof(float)) != 0;
    CHECK(changed > N / 2 - 60 && changed < N / 2 + 60);
    /* bad arguments */
    CHECK(rn_data_augment_crop_flip(&images, H, 1, &rng) == RN_ERR_ARGUMENT);
    CHECK(rn_data_augment_crop_flip(&images, -1, 1, &rng) == RN_ERR_ARGUMENT);
    CHECK(rn_data_augment_crop_flip(&images, 1, 1, NULL) == RN_ERR_ARGUMENT);
    rn_tensor_reshape(&images, 3, (int[]){N * C, H, W});
    CHECK(rn_data_augment_crop_flip(&images, 1, 1, &rng) == RN_ERR_ARGUMENT);
    rn_tensor_free(&images);
    rn_tensor_free(&again);
}

/* ---- CIFAR-10 ------------------------------------------------------------ */

static void check_cifar_item(const rn_dataset *data, int item, int record, int label)
{
    const float *pixels = data->inputs.data + (size_t)item * 3072;
    int k;
    CHECK(data->labels[item] == label);
    for (k = 0; k < 3072; k++)
        if (pixels[k] != cifar_byte(record, k) / 255.0f) break;
    CHECK(k == 3072);
}

static void test_cifar_memory(void)
{
    bytes batch = make_cifar(4, 7);
    rn_dataset data;
    int i;
    CHECK(rn_data_cifar10_from_memory(batch.data, batch.size, &data) == RN_OK);
    CHECK(data.inputs.ndim == 4 && data.inputs.shape[0] == 4 && data.inputs.shape[1] == 3 &&
          data.inputs.shape[2] == 32 && data.inputs.shape[3] == 32 && data.n_classes == 10);
    for (i = 0; i < 4; i++) check_cifar_item(&data, i, i, (7 + i) % 10);
    /* Layout spelled out once: item 1, green plane, row 2, column 5. */
    CHECK(data.inputs.data[3072 + 1024 + 2 * 32 + 5] ==
          batch.data[3073 + 1 + 1024 + 2 * 32 + 5] / 255.0f);
    rn_dataset_free(&data);
    free(batch.data);
}

static void test_cifar_corrupt(void)
{
    bytes batch = make_cifar(2, 0);
    rn_dataset data;
    size_t i;
    for (i = 0; i < batch.size; i++) {
        int status = rn_data_cifar10_from_memory(batch.data, i, &data);
        if (i == 3073) { /* exactly one record: a valid file */
            CHECK(status == RN_OK && data.inputs.shape[0] == 1);
            rn_dataset_free(&data);
        } else {
            CHECK(failed_cleanly(status, &data));
        }
    }
    batch.data[3073] = 10; /* label of the second record */
    CHECK(failed_cleanly(rn_data_cifar10_from_memory(batch.data, batch.size, &data), &data));
    CHECK(strstr(rn_last_error(), "record 1") != NULL);
    free(batch.data);
}

static void test_cifar_directory(void)
{
    static const char meta[] = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\n"
                               "ship\r\ntruck  \n\n";
    char name[64];
    const char *dir = temp_mkdir("cifar");
    rn_dataset data;
    int i;
    for (i = 1; i <= 5; i++) {
        bytes batch = make_cifar(2, i);
        snprintf(name, sizeof name, "cifar/data_batch_%d.bin", i);
        temp_write(name, batch.data, batch.size);
        free(batch.data);
    }
    {
        bytes batch = make_cifar(3, 0);
        temp_write("cifar/test_batch.bin", batch.data, batch.size);
        free(batch.data);
    }
    CHECK(failed_cleanly(rn_data_cifar10(dir, 1, &data), &data)); /* no batches.meta.txt yet */
    CHECK(strstr(rn_last_error(), "batches.meta.txt") != NULL);
    temp_write("cifar/batches.meta.txt", meta, 55); /* 9 names */
    CHECK(failed_cleanly(rn_data_cifar10(dir, 1, &data), &data));
    temp_write("cifar/batches.meta.txt", meta, sizeof meta - 1);
    temp_count--; /* the same path twice: remove it once */
    CHECK(rn_data_cifar10(dir, 1, &data) == RN_OK);
    CHECK(data.inputs.shape[0] == 10);
    for (i = 0; i < 10; i++) check_cifar_item(&data, i, i % 2, (i / 2 + 1 + i % 2) % 10);
    CHECK(data.class_names != NULL && strcmp(data.class_names[0], "airplane") == 0 &&
          strcmp(data.class_names[8], "ship") == 0 && strcmp(data.class_names[9], "truck") == 0);
    rn_dataset_free(&data);
    CHECK(rn_data_cifar10(dir, 0, &data) == RN_OK && data.inputs.shape[0] == 3);
    rn_dataset_free(&data);
    CHECK(failed_cleanly(rn_data_cifar10("/nonexistent/cifar", 0, &data), &data));
    CHECK(strstr(rn_last_error(), "cifar-10-binary.tar.gz") != NULL);
}

/* Whether a and b hold the same items, bit for bit, and the same classes. */
static int same_dataset(const rn_dataset *a, const rn_dataset *b)
{
    int i, n = a->inputs.shape[0];
    if (a->inputs.ndim != b->inputs.ndim || a->inputs.size != b->inputs.size || n != b->inputs.shape[0] ||
        a->n_classes != b->n_classes || (a->class_names == NULL) != (b->class_names == NULL))
        return 0;
    for (i = 0; a->class_names != NULL && i < a->n_classes; i++)
        if (strcmp(a->class_names[i], b->class_names[i]) != 0) return 0;
    return memcmp(a->inputs.data, b->inputs.data, a->inputs.size * sizeof(float)) == 0 &&
           memcmp(a->labels, b->labels, (size_t)n * sizeof(int)) == 0;
}

#define CIFAR_PER_BATCH 7 /* records in each of the five training batches */

/* Batch `batch` (1..5; 0 is the test batch) in folder, its records told
   apart from every other batch's by their first pixel, labels starting at
   3 x batch; bad_record (or -1) gets label 10. */
static void write_cifar_batch(const char *folder, int batch, int count, int bad_record)
{
    char name[96];
    bytes b = make_cifar(count, 3 * batch);
    int r;
    for (r = 0; r < count; r++) b.data[(size_t)r * 3073 + 1] = (unsigned char)(batch * 16 + r);
    if (bad_record >= 0) b.data[(size_t)bad_record * 3073] = 10;
    if (batch == 0) snprintf(name, sizeof name, "%s/test_batch.bin", folder);
    else snprintf(name, sizeof name, "%s/data_batch_%d.bin", folder, batch);
    temp_write(name, b.data, b.size);
    free(b.data);
}

static const char *write_cifar_set(const char *folder)
{
    static const char meta[] = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
    char name[96];
    const char *dir = temp_mkdir(folder);
    int batch;
    for (batch = 0; batch <= 5; batch++) write_cifar_batch(folder, batch, batch ? CIFAR_PER_BATCH : 9, -1);
    snprintf(name, sizeof name, "%s/batches.meta.txt", folder);
    temp_write(name, meta, sizeof meta - 1);
    return dir;
}

/* The subsample read record by record is the one cut from the whole set. */
static void test_cifar_subsample(void)
{
    static const int counts[] = {1, 4, 10, 5 * CIFAR_PER_BATCH - 1, 5 * CIFAR_PER_BATCH, 1000};
    const char *dir = write_cifar_set("cifar_part");
    rn_dataset all, test, expected, part;
    int stratified, i;
    CHECK(rn_data_cifar10(dir, 1, &all) == RN_OK && all.inputs.shape[0] == 5 * CIFAR_PER_BATCH);
    for (stratified = 0; stratified <= 1; stratified++) {
        for (i = 0; i < (int)(sizeof counts / sizeof counts[0]); i++) {
            int count = counts[i], whole = count >= all.inputs.shape[0];
            uint64_t seed = (uint64_t)(40 + i);
            CHECK(rn_data_cifar10_subsample(dir, 1, count, stratified, seed, &part) == RN_OK);
            if (!whole) CHECK(rn_dataset_subsample(&all, count, stratified, seed, &expected) == RN_OK);
            CHECK(same_dataset(&part, whole ? &all : &expected)); /* whole: in file order */
            if (!whole) rn_dataset_free(&expected);
            rn_dataset_free(&part);
        }
    }
    CHECK(rn_data_cifar10(dir, 0, &test) == RN_OK);
    CHECK(rn_data_cifar10_subsample(dir, 0, 5, 1, 3, &part) == RN_OK);
    CHECK(rn_dataset_subsample(&test, 5, 1, 3, &expected) == RN_OK);
    CHECK(same_dataset(&part, &expected));
    rn_dataset_free(&part);
    rn_dataset_free(&expected);
    CHECK(failed_cleanly(rn_data_cifar10_subsample(dir, 1, 0, 1, 3, &part), &part));
    CHECK(strstr(rn_last_error(), "need at least 1") != NULL);
    CHECK(failed_cleanly(rn_data_cifar10_subsample("/nonexistent/cifar", 1, 5, 1, 3, &part), &part));
    CHECK(strstr(rn_last_error(), "rn_data_cifar10_subsample") && strstr(rn_last_error(), "cifar-10-binary.tar.gz"));
    rn_dataset_free(&all);
    rn_dataset_free(&test);
}

/* A damaged batch fails the subsample even when none of its records is chosen. */
static void test_cifar_subsample_corrupt(void)
{
    const char *dir = write_cifar_set("cifar_bad");
    rn_dataset part;
    bytes b = make_cifar(CIFAR_PER_BATCH, 0);
    /* seed 1 picks one record, not record 5 of batch 4 (first pixel 4 x 16 + 5) */
    CHECK(rn_data_cifar10_subsample(dir, 1, 1, 0, 1, &part) == RN_OK);
    CHECK(part.inputs.data != NULL && part.inputs.data[0] != (4 * 16 + 5) / 255.0f);
    rn_dataset_free(&part);
    temp_write("cifar_bad/data_batch_3.bin", b.data, b.size - 1); /* truncated */
    temp_count--; /* the same path twice: remove it once */
    CHECK(failed_cleanly(rn_data_cifar10_subsample(dir, 1, 1, 0, 1, &part), &part));
    CHECK(strstr(rn_last_error(), "data_batch_3.bin") && strstr(rn_last_error(), "3073-byte"));
    write_cifar_batch("cifar_bad", 3, CIFAR_PER_BATCH, -1);
    temp_count--;
    write_cifar_batch("cifar_bad", 4, CIFAR_PER_BATCH, 5);
    temp_count--;
    CHECK(failed_cleanly(rn_data_cifar10_subsample(dir, 1, 1, 0, 1, &part), &part));
    CHECK(strstr(rn_last_error(), "data_batch_4.bin: record 5 has label 10") != NULL);
    CHECK(failed_cleanly(rn_data_cifar10(dir, 1, &part), &part));
    CHECK(strstr(rn_last_error(), "data_batch_4.bin: record 5 has label 10") != NULL);
    free(b.data);
}

/* ---- images -------------------------------------------------------------- */

static void collect(void *context, void *data, int size)
{
    bytes_append((bytes *)context, data, (size_t)size);
}

/* A 5 x 3 RGB picture with distinct bytes. */
#define PIC_W 5
#define PIC_H 3
static unsigned char picture_rgb[PIC_H * PIC_W * 3];
static unsigned char picture_gray[PIC_H * PIC_W];

static void make_pictures(void)
{
    int k;
    for (k = 0; k < PIC_H * PIC_W * 3; k++) picture_rgb[k] = (unsigned char)(k * 17 + 3);
    for (k = 0; k < PIC_H * PIC_W; k++) picture_gray[k] = (unsigned char)(250 - k * 9);
}

/* tensor (C x H x W) holds the interleaved pixels exactly. */
static int same_pixels(const rn_tensor *image, const unsigned char *pixels, int channels)
{
    int c, k;
    if (image->ndim != 3 || image->shape[0] != channels || image->shape[1] != PIC_H ||
        image->shape[2] != PIC_W)
        return 0;
    for (c = 0; c < channels; c++)
        for (k = 0; k < PIC_H * PIC_W; k++)
            if (image->data[c * PIC_H * PIC_W + k] != pixels[k * channels + c] / 255.0f) return 0;
    return 1;
}

static void test_images_exact(void)
{
    bytes png_rgb = {NULL, 0}, png_gray = {NULL, 0}, bmp = {NULL, 0};
    rn_tensor image;
    memset(&image, 0, sizeof image);
    make_pictures();
    stbi_write_png_to_func(collect, &png_rgb, PIC_W, PIC_H, 3, picture_rgb, PIC_W * 3);
    stbi_write_png_to_func(collect, &png_gray, PIC_W, PIC_H, 1, picture_gray, PIC_W);
    stbi_write_bmp_to_func(collect, &bmp, PIC_W, PIC_H, 3, picture_rgb);
    CHECK(rn_image_from_memory(png_rgb.data, png_rgb.size, 3, 0, 0, &image) == RN_OK);
    CHECK(same_pixels(&image, picture_rgb, 3));
    CHECK(rn_image_from_memory(png_gray.data, png_gray.size, 1, 0, 0, &image) == RN_OK);
    CHECK(same_pixels(&image, picture_gray, 1));
    CHECK(rn_image_from_memory(bmp.data, bmp.size, 3, 0, 0, &image) == RN_OK);
    CHECK(same_pixels(&image, picture_rgb, 3));
    /* Gray on request from RGB: stb_image's (77 R + 150 G + 29 B) >> 8. */
    CHECK(rn_image_from_memory(png_rgb.data, png_rgb.size, 1, 0, 0, &image) == RN_OK);
    CHECK(image.shape[0] == 1 &&
          image.data[0] ==
              ((77 * picture_rgb[0] + 150 * picture_rgb[1] + 29 * picture_rgb[2]) >> 8) / 255.0f);
    /* Gray to RGB replicates the value. */
    CHECK(rn_image_from_memory(png_gray.data, png_gray.size, 3, 0, 0, &image) == RN_OK);
    CHECK(image.shape[0] == 3 && image.data[7] == picture_gray[7] / 255.0f &&
          image.data[2 * PIC_H * PIC_W + 7] == picture_gray[7] / 255.0f);
    CHECK(rn_image_load(temp_write("picture.png", png_rgb.data, png_rgb.size), 3, 0, 0, &image) ==
          RN_OK);
    CHECK(same_pixels(&image, picture_rgb, 3));
    CHECK(rn_image_from_memory(png_rgb.data, png_rgb.size, 2, 0, 0, &image) == RN_ERR_ARGUMENT);
    CHECK(rn_image_from_memory(png_rgb.data, png_rgb.size, 3, 4, 0, &image) == RN_ERR_ARGUMENT);
    rn_tensor_free(&image);
    free(png_rgb.data);
    free(png_gray.data);
    free(bmp.data);
}

/* A 16 x 16 JPEG of the flat colour (200, 100, 30), made once with
   stb_image_write (stbi_write_jpg_to_func, quality 100). Stored, not made
   here, because that JPEG writer overflows a signed shift and UBSan
   (make test SAN=1) stops on it. */
static const unsigned char flat_jpeg[621] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x84, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00,
    0x10, 0x00, 0x10, 0x03, 0x01, 0x11, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xc4, 0x01,
    0xa2, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x00,
    0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7d, 0x01,
    0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22,
    0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24,
    0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29,
    0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a,
    0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
    0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a,
    0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
    0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6,
    0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3,
    0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa, 0x01, 0x00, 0x03, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x11, 0x00,
    0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01, 0x02, 0x77, 0x00,
    0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13,
    0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15,
    0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
    0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
    0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4,
    0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0xe3,
    0xab, 0xfc, 0x60, 0x3f, 0xdb, 0xe0, 0xa0, 0x02, 0x80, 0x0a, 0x00, 0xff, 0xd9,
};

/* An 8 x 8 grey ramp, pixel (x, y) = 40 + 16x + 8y, as a progressive JPEG:
   made once with libjpeg-turbo's `cjpeg -progressive -grayscale -quality 95`.
   Its first scan (DC) names AC table 0 before any DHT segment defines it,
   which is valid: a DC scan decodes no AC codes. */
static const unsigned char ramp_progressive_jpeg[290] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02,
    0x01, 0x01, 0x01, 0x02, 0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04,
    0x04, 0x03, 0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06, 0x07, 0x09, 0x08, 0x06,
    0x07, 0x09, 0x07, 0x06, 0x06, 0x08, 0x0b, 0x08, 0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x06, 0x08,
    0x0b, 0x0c, 0x0b, 0x0a, 0x0c, 0x09, 0x0a, 0x0a, 0x0a, 0xff, 0xc2, 0x00, 0x0b, 0x08, 0x00, 0x08,
    0x00, 0x08, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xff, 0xda, 0x00, 0x08,
    0x01, 0x01, 0x00, 0x00, 0x00, 0x01, 0x3f, 0xff, 0xc4, 0x00, 0x16, 0x10, 0x00, 0x03, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x07, 0xff,
    0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x05, 0x02, 0x9b, 0x2d, 0x9f, 0xff, 0xc4, 0x00, 0x16,
    0x10, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x22, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x06, 0x3f, 0x02, 0x48, 0x3f,
    0xff, 0xc4, 0x00, 0x16, 0x10, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x41, 0xa1, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01,
    0x3f, 0x21, 0x8e, 0x8f, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00, 0x10, 0x7f, 0xff,
    0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3f, 0x10, 0x19,
    0xff, 0xd9,
};

static void test_jpeg(void)
{
    static const float colour[3] = {200, 100, 30};
    rn_tensor image;
    size_t k;
    int close = 1;
    memset(&image, 0, sizeof image);
    CHECK(rn_image_from_memory(flat_jpeg, sizeof flat_jpeg, 3, 0, 0, &image) == RN_OK);
    CHECK(image.shape[0] == 3 && image.shape[1] == 16 && image.shape[2] == 16);
    /* Lossy, but a flat colour at quality 100 comes back within 3 levels. */
    for (k = 0; k < image.size; k++) close &= fabs(image.data[k] * 255.0 - colour[k / 256]) <= 3.0;
    CHECK(close);
    CHECK(rn_image_from_memory(ramp_progressive_jpeg, sizeof ramp_progressive_jpeg, 1, 0, 0,
                               &image) == RN_OK);
    CHECK(image.shape[0] == 1 && image.shape[1] == 8 && image.shape[2] == 8);
    close = 1;
    for (k = 0; k < image.size; k++)
        close &= fabs(image.data[k] * 255.0 - (40 + 16 * (k % 8) + 8 * (k / 8))) <= 2.0;
    CHECK(close);
    rn_tensor_free(&image);
}

static void test_image_resize(void)
{
    float pixels[16], expected_up[4] = {0.0f, 0.25f, 0.75f, 1.0f};
    int shape[3] = {1, 4, 4}, small[3] = {1, 1, 2}, k;
    rn_tensor image, out;
    memset(&out, 0, sizeof out);
    for (k = 0; k < 16; k++) pixels[k] = (float)k;
    image = rn_tensor_view(pixels, 3, shape);
    /* Halving averages each 2 x 2 block (pixel centres fall between them). */
    CHECK(rn_image_resize(&image, 2, 2, &out) == RN_OK);
    CHECK(out.shape[1] == 2 && out.shape[2] == 2);
    CHECK(out.data[0] == 2.5f && out.data[1] == 4.5f);
    CHECK(out.data[2] == 10.5f && out.data[3] == 12.5f);
    /* Same size: unchanged. */
    CHECK(rn_image_resize(&image, 4, 4, &out) == RN_OK);
    CHECK(memcmp(out.data, pixels, sizeof pixels) == 0);
    /* Doubling a 0..1 ramp: centres at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped). */
    pixels[0] = 0.0f;
    pixels[1] = 1.0f;
    image = rn_tensor_view(pixels, 3, small);
    CHECK(rn_image_resize(&image, 2, 4, &out) == RN_OK);
    for (k = 0; k < 4; k++) CHECK_NEAR(out.data[k], expected_up[k], 1e-7);
    for (k = 0; k < 4; k++) CHECK_NEAR(out.data[4 + k], expected_up[k], 1e-7);
    CHECK(rn_image_resize(&image, 0, 4, &out) != RN_OK);
    rn_tensor_free(&out);
}

static void test_images_corrupt(void)
{
    bytes png = {NULL, 0}, bmp = {NULL, 0};
    rn_tensor image;
    size_t i;
    memset(&image, 0, sizeof image);
    make_pictures();
    stbi_write_png_to_func(collect, &png, PIC_W, PIC_H, 3, picture_rgb, PIC_W * 3);
    stbi_write_bmp_to_func(collect, &bmp, PIC_W, PIC_H, 3, picture_rgb);
    for (i = 0; i < png.size - 12; i++) /* up to the IEND chunk */
        CHECK(rn_image_from_memory(png.data, i, 3, 0, 0, &image) == RN_ERR_FORMAT);
    for (i = 0; i < 54; i++) /* a BMP header cut short */
        CHECK(rn_image_from_memory(bmp.data, i, 3, 0, 0, &image) == RN_ERR_FORMAT);
    /* A BMP that claims 30000 x 30000 pixels: refused before decoding. */
    bmp.data[18] = 0x30, bmp.data[19] = 0x75, bmp.data[22] = 0x30, bmp.data[23] = 0x75;
    CHECK(rn_image_from_memory(bmp.data, bmp.size, 3, 0, 0, &image) == RN_ERR_FORMAT);
    CHECK(strstr(rn_last_error(), "too large") != NULL);
    CHECK(rn_image_from_memory("GIF89a", 6, 3, 0, 0, &image) == RN_ERR_FORMAT);
    {   /* Regression (fuzz_image): an IDAT chunk claiming 2 GiB made stb_image
           2.27 allocate it; any chunk longer than the file is refused. */
        size_t at = 8;
        while (at + 8 <= png.size && memcmp(png.data + at + 4, "IDAT", 4) != 0)
            at += 12 + ((size_t)png.data[at] << 24 | (size_t)png.data[at + 1] << 16 |
                        (size_t)png.data[at + 2] << 8 | png.data[at + 3]);
        CHECK(at + 8 <= png.size);
        if (at + 8 <= png.size) {
            CHECK(rn_image_from_memory(png.data, png.size, 3, 0, 0, &image) == RN_OK);
            png.data[at] = 0x80, png.data[at + 1] = 0, png.data[at + 2] = 0, png.data[at + 3] = 0;
            CHECK(rn_image_from_memory(png.data, png.size, 3, 0, 0, &image) == RN_ERR_FORMAT);
            CHECK(strstr(rn_last_error(), "PNG chunk claims more bytes") != NULL);
        }
    }
    {   /* stb_image decodes truncated JPEGs leniently: no crash, right size if any */
        bytes jpg = {NULL, 0}, prefixed;
        int ok = 1;
        bytes_append(&jpg, flat_jpeg, sizeof flat_jpeg);
        for (i = 0; i < jpg.size; i++)
            if (rn_image_from_memory(jpg.data, i, 3, 0, 0, &image) == RN_OK)
                ok &= image.shape[1] == 16 && image.shape[2] == 16;
        CHECK(ok);
        /* Regressions (fuzz_image), each of which made stb_image 2.27 abort
           or read out of bounds. flat_jpeg's DHT segment holds DC table 0
           (12 codes), AC table 0, DC table 1 and AC table 1; its scan uses
           tables 0 for luma, tables 1 for chroma. */
        for (i = 0; i + 40 < jpg.size && !(jpg.data[i] == 0xFF && jpg.data[i + 1] == 0xC4); i++) {
        }
        CHECK(i + 40 < jpg.size && jpg.data[i + 4] == 0x00 && jpg.data[i + 33] == 0x10);
        /* 256 codes: stb_image's tables have no room for the mark it keeps
           in index 255. 12 + 244 16-bit codes. */
        jpg.data[i + 4 + 16] = 244;
        CHECK(rn_image_from_memory(jpg.data, jpg.size, 3, 0, 0, &image) == RN_ERR_FORMAT);
        CHECK(strstr(rn_last_error(), "256 or more codes") != NULL);
        jpg.data[i + 4 + 16] = 0;
        /* AC table 0 relabelled as AC table 3: the luma scan would decode
           with an undefined table 0. */
        jpg.data[i + 33] = 0x13;
        CHECK(rn_image_from_memory(jpg.data, jpg.size, 3, 0, 0, &image) == RN_ERR_FORMAT);
        CHECK(strstr(rn_last_error(), "no DHT segment defines") != NULL);
        jpg.data[i + 33] = 0x10;
        CHECK(rn_image_from_memory(jpg.data, jpg.size, 3, 0, 0, &image) == RN_OK);
        jpg.data[i + 4 + 16] = 244;
        prefixed.data = NULL, prefixed.size = 0; /* FF FF D8: still a JPEG to stb_image */
        bytes_append(&prefixed, "\xff", 1);
        bytes_append(&prefixed, jpg.data, jpg.size);
        CHECK(rn_image_from_memory(prefixed.data, prefixed.size, 3, 0, 0, &image) == RN_ERR_FORMAT);
        free(prefixed.data);
        rn_tensor_free(&image);
        free(jpg.data);
    }
    CHECK(rn_image_load("/nonexistent.png", 3, 0, 0, &image) == RN_ERR_IO);
    CHECK(image.data == NULL);
    free(png.data);
    free(bmp.data);
}

static void test_image_folder(void)
{
    unsigned char small[2 * 2 * 3] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120};
    bytes png = {NULL, 0}, bmp = {NULL, 0}, wide = {NULL, 0};
    const char *root;
    rn_dataset data;
    stbi_write_png_to_func(collect, &png, 2, 2, 3, small, 6);
    stbi_write_bmp_to_func(collect, &bmp, 2, 2, 3, small);
    make_pictures();
    stbi_write_png_to_func(collect, &wide, PIC_W, PIC_H, 3, picture_rgb, PIC_W * 3);
    root = temp_mkdir("folder");
    temp_mkdir("folder/dog");
    temp_mkdir("folder/cat");
    temp_mkdir("folder/.hidden");
    temp_write("folder/notes.txt", "not a class", 11);
    temp_write("folder/dog/c.BMP", bmp.data, bmp.size);
    temp_write("folder/cat/b.png", png.data, png.size);
    temp_write("folder/cat/a.png", png.data, png.size);
    temp_write("folder/cat/readme.txt", "skip me", 7);
    CHECK(rn_data_image_folder(root, 3, 0, 0, &data) == RN_OK);
    CHECK(data.n_classes == 2 && strcmp(data.class_names[0], "cat") == 0 &&
          strcmp(data.class_names[1], "dog") == 0);
    CHECK(data.inputs.shape[0] == 3 && data.inputs.shape[1] == 3 && data.inputs.shape[2] == 2 &&
          data.inputs.shape[3] == 2);
    CHECK(data.labels[0] == 0 && data.labels[1] == 0 && data.labels[2] == 1);
    CHECK(data.inputs.data[0] == 10 / 255.0f && data.inputs.data[4] == 20 / 255.0f &&
          data.inputs.data[2 * 12 + 11] == 120 / 255.0f);
    rn_dataset_free(&data);
    temp_write("folder/dog/d.png", wide.data, wide.size);
    CHECK(failed_cleanly(rn_data_image_folder(root, 3, 0, 0, &data), &data));
    CHECK(strstr(rn_last_error(), "d.png") != NULL);
    CHECK(rn_data_image_folder(root, 1, 4, 6, &data) == RN_OK);
    CHECK(data.inputs.shape[0] == 4 && data.inputs.shape[1] == 1 && data.inputs.shape[2] == 4 &&
          data.inputs.shape[3] == 6 && data.labels[3] == 1);
    rn_dataset_free(&data);
    CHECK(failed_cleanly(rn_data_image_folder("/nonexistent", 3, 0, 0, &data), &data));
    CHECK(strstr(rn_last_error(), "No such file") != NULL); /* D15: the OS's reason */
    /* D11: an empty class folder is an error, not a class with no images. */
    temp_mkdir("folder/empty");
    CHECK(failed_cleanly(rn_data_image_folder(root, 1, 4, 6, &data), &data));
    CHECK(strstr(rn_last_error(), "empty") != NULL && strstr(rn_last_error(), ".jpeg") != NULL);
    free(png.data);
    free(bmp.data);
    free(wide.data);
}

/* ---- two moons ----------------------------------------------------------- */

/* Points from scikit-learn 1.2.1 / numpy 1.24.2, printed by
   tests/moons_reference.py: make_moons(n, noise, shuffle, random_state). */
static const struct {
    int n;
    double noise;
    int shuffle;
    uint32_t seed;
    int index;
    double x, y;
    int label;
} moons_reference[] = {
    {100, 0.1, 1, 42, 0, 1.5820230791450418, -0.4458148298633392, 1},
    {100, 0.1, 1, 42, 1, 0.06604510175163175, 0.43920749813848603, 1},
    {100, 0.1, 1, 42, 50, -0.13900138028084777, 1.0113840653902866, 0},
    {100, 0.1, 1, 42, 99, -0.034790391659006006, 0.45164996552899483, 1},
    {7, 0.3, 1, 0, 0, 1.7471827838512137, 1.0909773343609683, 1},
    {7, 0.3, 1, 0, 6, 0.21177361647986348, -0.2529473112858536, 1},
    {10, 0.0, 0, 1, 0, 1.0, 0.0, 0},
    {10, 0.0, 0, 1, 9, 2.0, 0.4999999999999999, 1},
};

static int moons_point_matches(int n, double noise, int shuffle, uint32_t seed, int index,
                               double x, double y, int label)
{
    rn_dataset data;
    int ok;
    if (rn_data_moons(n, noise, shuffle, seed, &data) != RN_OK) return 0;
    ok = index < n && fabs(data.inputs.data[2 * index] - x) < 1e-6 &&
         fabs(data.inputs.data[2 * index + 1] - y) < 1e-6 && data.labels[index] == label;
    rn_dataset_free(&data);
    return ok;
}

static void test_moons_scikit_learn(void)
{
    size_t i;
    for (i = 0; i < sizeof moons_reference / sizeof moons_reference[0]; i++)
        CHECK(moons_point_matches(moons_reference[i].n, moons_reference[i].noise,
                                  moons_reference[i].shuffle, moons_reference[i].seed,
                                  moons_reference[i].index, moons_reference[i].x,
                                  moons_reference[i].y, moons_reference[i].label));
}

static void test_moons_reference_file(void)
{
    const char *path = getenv("RELUNET_MOONS_REFERENCE");
    FILE *file = fopen(path, "r");
    int n, shuffle, index, label, points = 0, mismatches = 0;
    unsigned long seed;
    double noise, x, y;
    CHECK(file != NULL);
    if (file == NULL) return;
    while (fscanf(file, "%d %lf %d %lu %d %lf %lf %d", &n, &noise, &shuffle, &seed, &index, &x, &y,
                  &label) == 8) {
        points++;
        if (!moons_point_matches(n, noise, shuffle, (uint32_t)seed, index, x, y, label)) {
            if (mismatches++ < 5)
                fprintf(stderr, "moons mismatch: n=%d seed=%lu point %d\n", n, seed, index);
        }
    }
    fclose(file);
    CHECK(points > 0);
    CHECK(mismatches == 0);
    printf("moons: %d points compared with scikit-learn\n", points);
}

static void test_moons_statistics(void)
{
    const double pi = 3.14159265358979323846;
    const int n = 40000;
    rn_dataset data, again;
    double sum[2][2] = {{0, 0}, {0, 0}}, radius[2] = {0, 0}, radius_sq[2] = {0, 0};
    int count[2] = {0, 0}, i, k;
    CHECK(rn_data_moons(n, 0.1, 1, 7, &data) == RN_OK);
    for (i = 0; i < n; i++) {
        int c = data.labels[i];
        double x = data.inputs.data[2 * i], y = data.inputs.data[2 * i + 1];
        /* Distance from the circle's centre: (0, 0) outer, (1, 0.5) inner. */
        double r = c == 0 ? sqrt(x * x + y * y) : sqrt((x - 1) * (x - 1) + (y - 0.5) * (y - 0.5));
        count[c]++;
        sum[c][0] += x;
        sum[c][1] += y;
        radius[c] += r;
        radius_sq[c] += r * r;
    }
    CHECK(count[0] == n / 2 && count[1] == n / 2);
    /* Half circles: mean x at the centre, mean height 2/pi above (below). */
    CHECK(fabs(sum[0][0] / count[0] - 0.0) < 0.005);
    CHECK(fabs(sum[0][1] / count[0] - 2 / pi) < 0.005);
    CHECK(fabs(sum[1][0] / count[1] - 1.0) < 0.005);
    CHECK(fabs(sum[1][1] / count[1] - (0.5 - 2 / pi)) < 0.005);
    for (k = 0; k < 2; k++) {
        double mean = radius[k] / count[k];
        double spread = sqrt(radius_sq[k] / count[k] - mean * mean);
        /* Noise of 0.1 per axis: radius 1 + 0.1^2/2 on average, radial spread 0.1. */
        CHECK(fabs(mean - 1.005) < 0.003);
        CHECK(fabs(spread - 0.1) < 0.005);
    }
    /* The same seed gives the same points; another seed does not. */
    CHECK(rn_data_moons(n, 0.1, 1, 7, &again) == RN_OK);
    CHECK(memcmp(again.inputs.data, data.inputs.data, data.inputs.size * sizeof(float)) == 0);
    rn_dataset_free(&again);
    CHECK(rn_data_moons(n, 0.1, 1, 8, &again) == RN_OK);
    CHECK(memcmp(again.inputs.data, data.inputs.data, data.inputs.size * sizeof(float)) != 0);
    rn_dataset_free(&again);
    rn_dataset_free(&data);
    CHECK(failed_cleanly(rn_data_moons(0, 0.1, 1, 1, &data), &data));
    CHECK(failed_cleanly(rn_data_moons(10, -1.0, 1, 1, &data), &data));
}

/* ---- dataset operations -------------------------------------------------- */

/* n items of 2 x 3 features; item i holds i in every feature, label i % 3
   except that classes have 50 / 30 / 20 % of the items. */
static void make_toy(rn_dataset *data, int n)
{
    int shape[3] = {n, 2, 3}, i;
    size_t k;
    memset(data, 0, sizeof *data);
    rn_tensor_new(&data->inputs, 3, shape);
    data->labels = (int *)calloc((size_t)n, sizeof(int));
    data->n_classes = 3;
    for (i = 0; i < n; i++) {
        for (k = 0; k < 6; k++) data->inputs.data[(size_t)i * 6 + k] = (float)i;
        data->labels[i] = i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2;
    }
}

/* Every item is intact (all features equal, label matches) and no source
   item appears twice. */
static int items_consistent(const rn_dataset *data, int source_n)
{
    char *seen = (char *)calloc((size_t)source_n, 1);
    int i, ok = 1;
    size_t k;
    for (i = 0; i < data->inputs.shape[0]; i++) {
        int source = (int)data->inputs.data[(size_t)i * 6];
        for (k = 1; k < 6; k++) ok &= data->inputs.data[(size_t)i * 6 + k] == (float)source;
        ok &= source >= 0 && source < source_n && !seen[source];
        if (ok) seen[source] = 1;
        ok &= ok && data->labels[i] == (source % 10 < 5 ? 0 : source % 10 < 8 ? 1 : 2);
    }
    free(seen);
    return ok;
}

static void test_subsample(void)
{
    rn_dataset toy, a, b;
    int count[3] = {0, 0, 0}, i;
    make_toy(&toy, 100);
    CHECK(rn_dataset_subsample(&toy, 10, 1, 5, &a) == RN_OK);
    CHECK(a.inputs.shape[0] == 10 && a.inputs.shape[1] == 2 && a.inputs.shape[2] == 3);
    CHECK(items_consistent(&a, 100));
    for (i = 0; i < 10; i++) count[a.labels[i]]++;
    CHECK(count[0] == 5 && count[1] == 3 && count[2] == 2);
    CHECK(rn_dataset_subsample(&toy, 10, 1, 5, &b) == RN_OK);
    CHECK(memcmp(a.inputs.data, b.inputs.data, 60 * sizeof(float)) == 0);
    rn_dataset_free(&b);
    /* 7 of 100 with shares 3.5 / 2.1 / 1.4: floors 3, 2, 1, the spare to class 0. */
    CHECK(rn_dataset_subsample(&toy, 7, 1, 9, &b) == RN_OK);
    count[0] = count[1] = count[2] = 0;
    for (i = 0; i < 7; i++) count[b.labels[i]]++;
    CHECK(count[0] == 4 && count[1] == 2 && count[2] == 1);
    rn_dataset_free(&b);
    CHECK(rn_dataset_subsample(&toy, 100, 0, 3, &b) == RN_OK && items_consistent(&b, 100));
    rn_dataset_free(&b);
    CHECK(failed_cleanly(rn_dataset_subsample(&toy, 101, 0, 3, &b), &b));
    toy.labels[4] = 3; /* out of range: stratifying needs valid labels */
    CHECK(failed_cleanly(rn_dataset_subsample(&toy, 10, 1, 3, &b), &b));
    rn_dataset_free(&a);
    rn_dataset_free(&toy);
}

static void test_shuffle_split_permutation(void)
{
    rn_dataset toy, first, rest;
    rn_rng rng;
    int order[50], seen[50] = {0}, i, moved = 0;
    make_toy(&toy, 50);
    rn_rng_seed(&rng, 1, 0);
    rn_dataset_shuffle(&toy, &rng);
    CHECK(items_consistent(&toy, 50));
    for (i = 0; i < 50; i++) moved += toy.inputs.data[i * 6] != (float)i;
    CHECK(moved > 40);
    rn_data_permutation(order, 50, &rng);
    for (i = 0; i < 50; i++) seen[order[i]]++;
    for (i = 0; i < 50; i++) CHECK(seen[i] == 1);
    CHECK(rn_dataset_split(&toy, 20, 4, &first, &rest) == RN_OK);
    CHECK(first.inputs.shape[0] == 20 && rest.inputs.shape[0] == 30);
    {   /* together they are the whole dataset, once */
        rn_dataset both;
        int indices[50];
        for (i = 0; i < 50; i++) indices[i] = i;
        rn_dataset_gather(&toy, indices, 50, &both);
        memcpy(both.inputs.data, first.inputs.data, 120 * sizeof(float));
        memcpy(both.inputs.data + 120, rest.inputs.data, 180 * sizeof(float));
        memcpy(both.labels, first.labels, 20 * sizeof(int));
        memcpy(both.labels + 20, rest.labels, 30 * sizeof(int));
        CHECK(items_consistent(&both, 50));
        rn_dataset_free(&both);
    }
    rn_dataset_free(&first);
    rn_dataset_free(&rest);
    CHECK(failed_cleanly(rn_dataset_split(&toy, 50, 4, &first, &rest), &first));
    order[3] = 50;
    CHECK(failed_cleanly(rn_dataset_gather(&toy, order, 50, &first), &first));
    rn_dataset_free(&toy);
}

static void test_batches(void)
{
    rn_dataset toy;
    rn_batch_iter iter;
    int sizes[4], order[10] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, i, n_batches = 0, ok = 1;
    make_toy(&toy, 10);
    CHECK(rn_batch_iter_begin(&iter, &toy, 4, NULL, 0) == RN_OK);
    while ((sizes[n_batches] = rn_batch_iter_next(&iter)) > 0) {
        ok &= iter.inputs.data == toy.inputs.data + n_batches * 4 * 6; /* a view */
        ok &= iter.labels == toy.labels + n_batches * 4;
        ok &= iter.inputs.shape[0] == sizes[n_batches] && iter.inputs.shape[1] == 2;
        n_batches++;
    }
    CHECK(ok);
    CHECK(n_batches == 3 && sizes[0] == 4 && sizes[1] == 4 && sizes[2] == 2);
    CHECK(rn_batch_iter_next(&iter) == 0);
    rn_batch_iter_free(&iter);
    CHECK(rn_batch_iter_begin(&iter, &toy, 3, order, 10) == RN_OK);
    for (n_batches = 0; rn_batch_iter_next(&iter) > 0; n_batches++)
        for (i = 0; i < iter.count; i++) {
            int source = order[n_batches * 3 + i];
            ok &= iter.inputs.data[i * 6 + 5] == (float)source;
            ok &= iter.labels[i] == toy.labels[source];
            ok &= iter.inputs.data != toy.inputs.data; /* a copy */
        }
    CHECK(ok && n_batches == 4 && iter.count == 0);
    rn_batch_iter_free(&iter);
    order[2] = -1;
    CHECK(rn_batch_iter_begin(&iter, &toy, 3, order, 10) == RN_ERR_ARGUMENT);
    rn_batch_iter_free(&iter);
    CHECK(rn_batch_iter_begin(&iter, &toy, 0, NULL, 0) == RN_ERR_ARGUMENT);
    rn_dataset_free(&toy);
}

static void test_normalisation(void)
{
    /* 2 items x 2 channels x 2 pixels. */
    const float original[8] = {1, 3, 10, 10, 5, 7, 20, 40};
    float values[8], mean[2], std[2];
    int shape[4] = {2, 2, 1, 2}, k;
    rn_tensor t = rn_tensor_view(values, 4, shape);
    float zeros[2] = {0, 0};
    memcpy(values, original, sizeof values);
    CHECK(rn_data_channel_stats(&t, mean, std) == RN_OK);
    CHECK_NEAR(mean[0], 4.0, 1e-7);
    CHECK_NEAR(std[0], sqrt(5.0), 1e-7); /* 1 3 5 7 */
    CHECK_NEAR(mean[1], 20.0, 1e-7);
    CHECK_NEAR(std[1], sqrt(150.0), 1e-7); /* 10 10 20 40 */
    CHECK(rn_data_normalize(&t, mean, std) == RN_OK);
    CHECK(rn_data_channel_stats(&t, mean, std) == RN_OK);
    for (k = 0; k < 2; k++) {
        CHECK(fabs(mean[k]) < 1e-6);
        CHECK_NEAR(std[k], 1.0, 1e-6);
    }
    CHECK(rn_data_normalize(&t, mean, zeros) == RN_ERR_ARGUMENT);
    memcpy(values, original, sizeof values);
    rn_data_standardize_images(&t);
    for (k = 0; k < 2; k++) {
        double s = 0, s2 = 0;
        int j;
        for (j = 0; j < 4; j++) s += values[k * 4 + j];
        for (j = 0; j < 4; j++) s2 += (values[k * 4 + j] - s / 4) * (values[k * 4 + j] - s / 4);
        CHECK(fabs(s / 4) < 1e-6);
        CHECK_NEAR(s2 / 4, 1.0, 1e-6);
    }
    for (k = 0; k < 4; k++) values[k] = 0.5f; /* a blank image stays finite: all 0 */
    rn_data_standardize_images(&t);
    CHECK(values[0] == 0.0f && values[3] == 0.0f);
    values[0] = -2.0f;
    values[7] = 6.0f;
    rn_data_minmax_scale(&t);
    CHECK(values[0] == 0.0f && values[7] == 1.0f && values[1] == 0.25f);
}

/* ---- the real data sets, when present ------------------------------------ */

static void check_class_counts(const rn_dataset *data, int expected)
{
    int count[10] = {0}, i, ok = 1;
    for (i = 0; i < data->inputs.shape[0]; i++) count[data->labels[i]]++;
    for (i = 0; i < 10; i++) ok &= count[i] == expected;
    CHECK(ok);
}

static double mean_of(const float *x, size_t n, size_t stride, size_t run)
{
    double sum = 0.0;
    size_t i, k;
    for (i = 0; i < n; i += stride)
        for (k = 0; k < run; k++) sum += x[i + k];
    return sum / (double)(n / stride * run);
}

static void test_real_fashion_mnist(void)
{
    rn_dataset train, test;
    CHECK(rn_data_fashion_mnist(NULL, 1, &train) == RN_OK);
    CHECK(rn_data_fashion_mnist(NULL, 0, &test) == RN_OK);
    CHECK(train.inputs.shape[0] == 60000 && test.inputs.shape[0] == 10000);
    CHECK(train.inputs.shape[2] == 28 && train.inputs.shape[3] == 28);
    check_class_counts(&train, 6000);
    check_class_counts(&test, 1000);
    CHECK(fabs(mean_of(train.inputs.data, train.inputs.size, 1, 1) - 0.2860) < 0.00005);
    rn_dataset_free(&train);
    rn_dataset_free(&test);
}

static void test_real_cifar10(void)
{
    static const double expected[3] = {125.31, 122.95, 113.87};
    rn_dataset train, test, part, cut;
    float mean[3], std[3];
    int c;
    CHECK(rn_data_cifar10(NULL, 1, &train) == RN_OK);
    CHECK(rn_data_cifar10(NULL, 0, &test) == RN_OK);
    CHECK(train.inputs.shape[0] == 50000 && test.inputs.shape[0] == 10000);
    check_class_counts(&train, 5000);
    check_class_counts(&test, 1000);
    CHECK(strcmp(train.class_names[0], "airplane") == 0);
    CHECK(strcmp(train.class_names[9], "truck") == 0);
    CHECK(rn_data_channel_stats(&train.inputs, mean, std) == RN_OK);
    for (c = 0; c < 3; c++) CHECK(fabs(mean[c] * 255.0 - expected[c]) < 0.005);
    /* the --quick sizes, read record by record, as cut from the whole sets */
    CHECK(rn_data_cifar10_subsample(NULL, 1, 256, 1, 1, &part) == RN_OK);
    CHECK(rn_dataset_subsample(&train, 256, 1, 1, &cut) == RN_OK && same_dataset(&part, &cut));
    rn_dataset_free(&part);
    rn_dataset_free(&cut);
    CHECK(rn_data_cifar10_subsample(NULL, 0, 200, 1, 2, &part) == RN_OK);
    CHECK(rn_dataset_subsample(&test, 200, 1, 2, &cut) == RN_OK && same_dataset(&part, &cut));
    rn_dataset_free(&part);
    rn_dataset_free(&cut);
    rn_dataset_free(&train);
    rn_dataset_free(&test);
}

static int fashion_mnist_present(void)
{
    /* The loader's own search, without loading anything. */
    char dirs[2][RN__PATH_SIZE], path[RN__PATH_SIZE];
    int n = rn__dataset_dirs(NULL, "fashion-mnist", "/usr/share/datasets/fashion-mnist", dirs), i;
    for (i = 0; i < n; i++)
        if (rn__find_raw_or_gz(dirs[i], "train-images-idx3-ubyte", path)) return 1;
    return 0;
}

static int cifar10_present(void)
{
    char dirs[2][RN__PATH_SIZE], path[RN__PATH_SIZE];
    int n = rn__dataset_dirs(NULL, "cifar-10-batches-bin", NULL, dirs), i;
    for (i = 0; i < n; i++)
        if (rn__join_path(path, sizeof path, dirs[i], "data_batch_1.bin") == RN_OK &&
            rn__file_exists(path))
            return 1;
    return 0;
}

int main(void)
{
    if (!temp_dir_new(temp_dir, sizeof temp_dir, "relunet_test_data")) return 1;
    RUN(test_crc32);
    RUN(test_gunzip_header_fields);
    RUN(test_gunzip_corrupt);
    RUN(test_idx_raw_and_gzip);
    RUN(test_idx_corrupt);
    RUN(test_idx_files_and_fashion_mnist);
    RUN(test_data_locations);
    RUN(test_cifar_memory);
    RUN(test_cifar_corrupt);
    RUN(test_cifar_directory);
    RUN(test_cifar_subsample);
    RUN(test_cifar_subsample_corrupt);
    RUN(test_images_exact);
    RUN(test_jpeg);
    RUN(test_image_resize);
    RUN(test_images_corrupt);
    RUN(test_image_folder);
    RUN(test_moons_scikit_learn);
    RUN(test_moons_statistics);
    RUN(test_subsample);
    RUN(test_shuffle_split_permutation);
    RUN(test_batches);
    RUN(test_normalisation);
    RUN(test_augment_crop_flip);
    if (getenv("RELUNET_MOONS_REFERENCE") != NULL && getenv("RELUNET_MOONS_REFERENCE")[0] != '\0')
        RUN(test_moons_reference_file);
    else printf("skipped: moons vs scikit-learn file (RELUNET_MOONS_REFERENCE not set)\n");
    if (fashion_mnist_present()) RUN(test_real_fashion_mnist);
    else printf("skipped: real Fashion-MNIST (not in $RELUNET_DATA, $RELUNET_DATA/fashion-mnist "
                "or, without it, /usr/share/datasets/fashion-mnist)\n");
    if (cifar10_present()) RUN(test_real_cifar10);
    else printf("skipped: real CIFAR-10 (not in $RELUNET_DATA or $RELUNET_DATA/cifar-10-batches-bin)\n");
    temp_cleanup();
    return finish();
}
