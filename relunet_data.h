/* relunet_data.h - datasets for relunet.h: IDX (MNIST, Fashion-MNIST) raw or
   gzip, CIFAR-10 binary, image files and folders, two moons, and the usual
   dataset operations (subsample, shuffle, split, batches, normalisation).

   Do this:
       #define RELUNET_IMPLEMENTATION
   before you include this file in *one* C file: the same define builds
   relunet.h (which this file includes) and this file. Compile with the
   stb headers on the include path (Debian: libstb-dev, -I/usr/include/stb).

   stb_image decodes the images and inflates .gz files. The implementation
   section compiles stb_image's implementation too (PNG, JPEG and BMP only:
   fewer decoders, less to attack). If your program already compiles
   stb_image somewhere, define RELUNET_NO_STB_IMPLEMENTATION before the
   include and link against yours. stb_image allocates with its own
   STBI_MALLOC (malloc by default); everything relunet returns is allocated
   with RN_MALLOC.

QUICK START
       rn_dataset train, test;
       if (rn_data_fashion_mnist(NULL, 1, &train) != RN_OK ||
           rn_data_fashion_mnist(NULL, 0, &test) != RN_OK) {
           fprintf(stderr, "%s\n", rn_last_error());  // says where it looked
           return 1;
       }
       rn_rng rng;
       rn_rng_seed(&rng, 42, 0);
       for (int epoch = 0; epoch < 10; epoch++) {
           rn_batch_iter batches;
           rn_dataset_shuffle(&train, &rng);
           rn_batch_iter_begin(&batches, &train, 64, NULL, 0); // views, no copies
           while (rn_batch_iter_next(&batches) > 0)
               train_step(&batches.inputs, batches.labels);    // 64 x 1 x 28 x 28
           rn_batch_iter_free(&batches);
       }
       rn_dataset_free(&train);
       rn_dataset_free(&test);

WHERE DATA LIVES
   One rule for the dir argument and $RELUNET_DATA (used when dir is NULL):
   DIR is the dataset's own folder, or a folder that holds it as
   DIR/fashion-mnist or DIR/cifar-10-batches-bin. With neither, Fashion-MNIST
   is looked for in /usr/share/datasets/fashion-mnist (Debian: apt-get
   install dataset-fashion-mnist) and CIFAR-10 nowhere. A DIR that holds no
   dataset is an RN_ERR_IO error naming both places looked; it never falls
   back to another location. Fashion-MNIST files: train-images-idx3-ubyte,
   train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
   each raw or with .gz appended. CIFAR-10: the binary version's
   data_batch_1..5.bin, test_batch.bin and batches.meta.txt
   (scripts/get-cifar10.sh DIR fetches and checks them).

HOSTILE INPUT
   Every reader checks magic numbers, dimensions (against the maximums
   below), sizes against the data actually present, label ranges, gzip
   CRC-32 and length, and fails with a message naming the file and the
   problem. Each has a from-memory entry point; the fuzz targets in
   tests/fuzz/ drive those. JPEG Huffman tables that overflow stb_image 2.27
   (Debian 12's version), or that a scan uses undefined, are refused before
   stb_image sees them.

API GROUPS
   datasets      rn_dataset_free rn_dataset_gather rn_dataset_subsample
                 rn_dataset_shuffle rn_dataset_split rn_data_permutation
   batches       rn_batch_iter_begin rn_batch_iter_next rn_batch_iter_free
   normalisation rn_data_minmax_scale rn_data_channel_stats rn_data_normalize
                 rn_data_standardize_images
   augmentation  rn_data_augment_crop_flip rn_data_augment_batch (rn_augment)
   gzip          rn_gunzip (rn_crc32 is in relunet.h)
   IDX           rn_data_idx_from_memory rn_data_idx_load rn_data_fashion_mnist
   CIFAR-10      rn_data_cifar10_from_memory rn_data_cifar10 rn_data_cifar10_subsample
   images        rn_image_from_memory rn_image_load rn_image_resize
                 rn_data_image_folder (POSIX and Windows)
   two moons     rn_data_moons

LICENSE
   MIT, like relunet.h.
*/

#ifndef RELUNET_DATA_H_INCLUDED
#define RELUNET_DATA_H_INCLUDED

#include "relunet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest accepted sizes: anything bigger in a file is taken as corruption. */
#define RN_DATA_MAX_ITEMS (1 << 24)          /* items in one dataset file */
#define RN_DATA_MAX_SIDE 32768               /* image height or width */
#define RN_DATA_MAX_PIXELS (1 << 25)         /* height x width of one image */
#define RN_DATA_MAX_CLASS_NAME 255           /* bytes in a class name */

/* ===== 1. datasets ======================================================== */

/* N labelled items: inputs is N x C x H x W for images, N x features for
   vectors; labels[i] is in [0, n_classes). class_names has n_classes entries,
   or is NULL when the data names no classes. A zeroed rn_dataset is empty. */
typedef struct rn_dataset {
    rn_tensor inputs;
    int *labels;
    int n_classes;
    char **class_names;
} rn_dataset;

RN_API void rn_dataset_free(rn_dataset *data);
/* out gets copies of items indices[0..count) of data, in that order.
   Like every function below that fills an rn_dataset, it overwrites out
   (which must not be data) and leaves it empty on failure. */
RN_API int rn_dataset_gather(const rn_dataset *data, const int *indices, int count,
                             rn_dataset *out);
/* count items drawn without replacement, in random order. stratified = 1
   keeps every class's share (largest-remainder rounding), as when a study
   trains on 10,000 of Fashion-MNIST's 60,000 images. */
RN_API int rn_dataset_subsample(const rn_dataset *data, int count, int stratified, uint64_t seed,
                                rn_dataset *out);
/* Reorders the items in place: call once per epoch before batching views. */
RN_API void rn_dataset_shuffle(rn_dataset *data, rn_rng *rng);
/* A seeded random split: first gets first_count items, rest the others. */
RN_API int rn_dataset_split(const rn_dataset *data, int first_count, uint64_t seed,
                            rn_dataset *first, rn_dataset *rest);
/* order[0..n) becomes a uniformly random permutation of 0..n-1. */
RN_API void rn_data_permutation(int *order, int n, rn_rng *rng);

/* ===== 2. batches ========================================================= */

/* Walks a dataset in batches of batch_size; the last batch may be shorter.
   With order == NULL the batches are views into the dataset (no copying);
   with an order (a permutation, or any list of n item indices, kept alive by
   the caller) each batch is a copy gathered in that order. */
typedef struct rn_batch_iter {
    rn_tensor inputs;       /* the current batch: count x item shape */
    int *labels;            /* its labels */
    int count;              /* items in the current batch */
    const rn_dataset *data;
    const int *order;
    int n;                  /* items to visit */
    int batch_size;
    int position;           /* items visited so far */
    int *label_storage;     /* owned labels of copied batches */
} rn_batch_iter;

/* n_items is the number of indices in order; ignored when order is NULL. */
RN_API int rn_batch_iter_begin(rn_batch_iter *iter, const rn_dataset *data, int batch_size,
                               const int *order, int n_items);
/* Moves to the next batch and returns its size, or 0 after the last one. */
RN_API int rn_batch_iter_next(rn_batch_iter *iter);
RN_API void rn_batch_iter_free(rn_batch_iter *iter);

/* ===== 3. normalisation =================================================== */

/* The readers already return pixels in [0, 1]; this maps any tensor's
   minimum and maximum to 0 and 1 (a constant tensor becomes 0). */
RN_API void rn_data_minmax_scale(rn_tensor *inputs);
/* Mean and population standard deviation of each channel (dimension 1:
   image channels, or features), over all items and pixels. */
RN_API int rn_data_channel_stats(const rn_tensor *inputs, float *mean, float *std);
/* x = (x - mean[c]) / std[c] for every channel c; every std must be > 0. */
RN_API int rn_data_normalize(rn_tensor *inputs, const float *mean, const float *std);
/* Each item to zero mean and unit variance over all its values, dividing by
   max(std, 1/sqrt(values per item)) like tf.image.per_image_standardization,
   so a blank image does not blow up. */
RN_API void rn_data_standardize_images(rn_tensor *inputs);

/* Augmentation, in place on a batch of images (N x C x H x W): each image is
   shifted by a random offset in [-padding, padding] down and across, with
   zeros where it leaves the frame (a random H x W crop of the image padded
   with `padding` zeros), then, when flip is set, mirrored left-right with
   probability 1/2. The CIFAR-10 defaults of He et al. 2015 are padding 4
   and flip 1. The same rng state gives the same images everywhere. */
RN_API int rn_data_augment_crop_flip(rn_tensor *images, int padding, int flip, rn_rng *rng);

/* The same as an rn_epoch_desc.prepare callback: context is an rn_augment. */
typedef struct rn_augment {
    int padding, flip;
    rn_rng rng;
} rn_augment;
RN_API int rn_data_augment_batch(void *augment, rn_net *net, rn_batch *batch);

/* ===== 4. gzip ============================================================ */

/* (Its CRC-32 is rn_crc32 in relunet.h.) Decompresses a single-member gzip file (RFC 1952) held in memory into a
   buffer allocated with RN_MALLOC; name is used in error messages. */
RN_API int rn_gunzip(const void *bytes, size_t size, const char *name, unsigned char **out,
                     size_t *out_size);

/* ===== 5. IDX (MNIST, Fashion-MNIST, Kuzushiji-MNIST) ===================== */

/* An images file (magic 0x00000803: N x H x W bytes) and a labels file
   (0x00000801: N bytes), raw or gzip, into N x 1 x H x W pixels in [0, 1]
   and N labels, each below n_classes. */
RN_API int rn_data_idx_from_memory(const void *images, size_t images_size, const void *labels,
                                   size_t labels_size, int n_classes, rn_dataset *out);
RN_API int rn_data_idx_load(const char *images_path, const char *labels_path, int n_classes,
                            rn_dataset *out);
/* The training set (train = 1, 60,000 images) or the test set (10,000), with
   Fashion-MNIST's ten class names; dir may be NULL (see WHERE DATA LIVES). */
RN_API int rn_data_fashion_mnist(const char *dir, int train, rn_dataset *out);

/* ===== 6. CIFAR-10 ======================================================== */

/* One batch file: records of 1 label byte (below 10) and 3072 pixel bytes
   (R, G, B planes of 32 x 32), into N x 3 x 32 x 32 pixels in [0, 1].
   No class names: those come from batches.meta.txt. */
RN_API int rn_data_cifar10_from_memory(const void *bytes, size_t size, rn_dataset *out);
/* train = 1: data_batch_1..5.bin (50,000 images); 0: test_batch.bin
   (10,000). Class names from batches.meta.txt. dir may be NULL. */
RN_API int rn_data_cifar10(const char *dir, int train, rn_dataset *out);
/* At most count images of the same set: with count at or above the set's
   size all of them, as rn_data_cifar10; below it the very items, in the same
   order, that rn_dataset_subsample(&set, count, stratified, seed, out) picks
   from rn_data_cifar10's result. It reads the labels first and then only the
   chosen records, so 500 images of the 50,000 take 500 images' memory. */
RN_API int rn_data_cifar10_subsample(const char *dir, int train, int count, int stratified,
                                     uint64_t seed, rn_dataset *out);

/* ===== 7. images ========================================================== */

/* Decodes a PNG, JPEG or BMP into a channels x height x width tensor in
   [0, 1]: channels 1 (gray) or 3 (RGB), converted as needed. height and
   width 0 keep the image's size; otherwise it is resized (bilinear). */
RN_API int rn_image_from_memory(const void *bytes, size_t size, int channels, int height,
                                int width, rn_tensor *image);
RN_API int rn_image_load(const char *path, int channels, int height, int width,
                         rn_tensor *image);
/* Bilinear resize of a C x H x W tensor with pixel centres aligned (like
   OpenCV's INTER_LINEAR and PyTorch's align_corners=False, no antialiasing). */
RN_API int rn_image_resize(const rn_tensor *image, int height, int width, rn_tensor *out);
/* root/<class name>/<image>.{png,jpg,jpeg,bmp}: classes are the
   subdirectories in name order, images in name order within each. height
   and width 0 require every image to have the first one's size. */
RN_API int rn_data_image_folder(const char *root, int channels, int height, int width,
                                rn_dataset *out);

/* ===== 8. two moons ======================================================= */

/* scikit-learn's make_moons(n_samples, shuffle, noise, random_state=seed),
   value for value: the same Mersenne Twister stream as numpy's legacy
   RandomState(seed), the same shuffle and the same Gaussian noise.
   n_samples / 2 points (label 0) on the upper half circle around (0, 0), the
   rest (label 1) on the lower half circle around (1, 0.5); noise is the
   standard deviation added to each coordinate (0 for none). */
RN_API int rn_data_moons(int n_samples, double noise, int shuffle, uint32_t seed,
                         rn_dataset *out);

#ifdef __cplusplus
}
#endif

#endif /* RELUNET_DATA_H_INCLUDED */

/* ========================================================================== */
/*                              IMPLEMENTATION                                */
/* ========================================================================== */

#if defined(RELUNET_IMPLEMENTATION) && !defined(RELUNET_DATA_IMPLEMENTATION_INCLUDED)
#define RELUNET_DATA_IMPLEMENTATION_INCLUDED

#ifndef RELUNET_NO_STB_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#if defined(__TINYC__) && !defined(STBI_NO_SIMD)
#define STBI_NO_SIMD /* tcc has no SSE intrinsics headers */
#endif
#endif
#include "stb_image.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>

/* ===== 0. files =========================================================== */

static int rn__file_exists(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file != NULL) fclose(file);
    return file != NULL;
}

/* dir + "/" + name into path; an overlong path is an argument error. */
static int rn__join_path(char *path, size_t path_size, const char *dir, const char *name)
{
    int length = snprintf(path, path_size, "%s/%s", dir, name);
    if (length < 0 || (size_t)length >= path_size)
        return rn_set_error(RN_ERR_ARGUMENT, "path too long: %s/%s", dir, name);
    return RN_OK;
}

#define RN__PATH_SIZE 4096

/* The directories a dataset may live in, most specific first. One rule for
   the dir argument (an example's --data) and $RELUNET_DATA alike: the
   dataset's own folder, or a folder holding it as <subdir>. Only when
   neither is given does system_dir (or NULL) count: a location that was
   given and holds no dataset is an error, never a silent fallback. */
static int rn__dataset_dirs(const char *dir, const char *subdir, const char *system_dir,
                            char dirs[2][RN__PATH_SIZE])
{
    const char *root = dir != NULL ? dir : getenv("RELUNET_DATA");
    if (root != NULL && root[0] != '\0') {
        snprintf(dirs[0], RN__PATH_SIZE, "%s", root);
        snprintf(dirs[1], RN__PATH_SIZE, "%s/%s", root, subdir);
        return 2;
    }
    if (system_dir == NULL) return 0;
    snprintf(dirs[0], RN__PATH_SIZE, "%s", system_dir);
    return 1;
}

/* Who chose the directories rn__dataset_dirs gave, for an error message. */
static const char *rn__dataset_origin(const char *dir)
{
    const char *root = getenv("RELUNET_DATA");
    if (dir != NULL) return "the directory given";
    return root != NULL && root[0] != '\0' ? "from $RELUNET_DATA"
                                           : "the default place; $RELUNET_DATA is not set";
}

/* ===== 1. datasets ======================================================== */

RN_API void rn_dataset_free(rn_dataset *data)
{
    if (data == NULL) return;
    rn_tensor_free(&data->inputs);
    RN_FREE(data->labels);
    RN_FREE(data->class_names);
    memset(data, 0, sizeof *data);
}

/* Copies n names into one allocation: the pointer array, then the strings. */
static int rn__set_class_names(rn_dataset *data, const char *const *names, int n)
{
    size_t bytes = (size_t)n * sizeof(char *);
    char *text;
    int i;
    for (i = 0; i < n; i++) bytes += strlen(names[i]) + 1;
    data->class_names = (char **)RN_MALLOC(bytes);
    if (data->class_names == NULL)
        return rn_set_error(RN_ERR_MEMORY, "cannot allocate %d class names", n);
    text = (char *)(data->class_names + n);
    for (i = 0; i < n; i++) {
        size_t length = strlen(names[i]) + 1;
        memcpy(text, names[i], length);
        data->class_names[i] = text;
        text += length;
    }
    return RN_OK;
}

/* An empty dataset of count items shaped like item_shape (item_ndim dims). */
static int rn__dataset_new(rn_dataset *data, int count, int item_ndim, const int *item_shape,
                           int n_classes)
{
    int shape[RN_MAX_DIMS], i, status;
    memset(data, 0, sizeof *data);
    if (item_ndim < 1 || item_ndim >= RN_MAX_DIMS)
        return rn_set_error(RN_ERR_ARGUMENT, "dataset items with %d dimensions", item_ndim);
    shape[0] = count;
    for (i = 0; i < item_ndim; i++) shape[i + 1] = item_shape[i];
    status = rn_tensor_new(&data->inputs, item_ndim + 1, shape);
    if (status != RN_OK) return status;
    data->labels = (int *)rn__calloc((size_t)count, sizeof(int));
    if (data->labels == NULL) {
        rn_dataset_free(data);
        return rn_set_error(RN_ERR_MEMORY, "cannot allocate %d labels", count);
    }
    data->n_classes = n_classes;
    return RN_OK;
}

static int rn__dataset_count(const rn_dataset *data) { return data->inputs.shape[0]; }

static size_t rn__item_size(const rn_tensor *inputs)
{
    return inputs->shape[0] > 0 ? inputs->size / (size_t)inputs->shape[0] : 0;
}

static int rn__check_dataset(const rn_dataset *data, const char *caller)
{
    if (data == NULL || data->inputs.data == NULL || data->labels == NULL ||
        data->inputs.ndim < 2)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: empty or incomplete dataset", caller);
    return RN_OK;
}

RN_API int rn_dataset_gather(const rn_dataset *data, const int *indices, int count,
                             rn_dataset *out)
{
    size_t item;
    int i, status;
    if (out != NULL && out != data) memset(out, 0, sizeof *out);
    status = rn__check_dataset(data, "rn_dataset_gather");
    if (status != RN_OK) return status;
    if (out == data) return rn_set_error(RN_ERR_ARGUMENT, "rn_dataset_gather: out is the input");
    if (indices == NULL || out == NULL || count < 1)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_dataset_gather: no indices or no output");
    for (i = 0; i < count; i++)
        if (indices[i] < 0 || indices[i] >= rn__dataset_count(data))
            return rn_set_error(RN_ERR_ARGUMENT,
                                "rn_dataset_gather: index %d is %d (have %d items)",
                                i, indices[i], rn__dataset_count(data));
    status = rn__dataset_new(out, count, data->inputs.ndim - 1, data->inputs.shape + 1,
                             data->n_classes);
    if (status == RN_OK && data->class_names != NULL)
        status = rn__set_class_names(out, (const char *const *)data->class_names,
                                     data->n_classes);
    if (status != RN_OK) {
        rn_dataset_free(out);
        return status;
    }
    item = rn__item_size(&data->inputs);
    for (i = 0; i < count; i++) {
        memcpy(out->inputs.data + (size_t)i * item, data->inputs.data + (size_t)indices[i] * item,
               item * sizeof(float));
        out->labels[i] = data->labels[indices[i]];
    }
    return RN_OK;
}

/* Fisher-Yates: the one shuffle behind permutations and dataset shuffles. */
static void rn__fisher_yates(int n, rn_rng *rng, void (*swap)(void *context, int i, int j),
                             void *context)
{
    int i;
    for (i = n - 1; i > 0; i--) swap(context, i, (int)rn_rng_below(rng, (uint32_t)i + 1u));
}

static void rn__swap_ints(void *context, int i, int j)
{
    int *values = (int *)context, value = values[i];
    values[i] = values[j];
    values[j] = value;
}

RN_API void rn_data_permutation(int *order, int n, rn_rng *rng)
{
    int i;
    for (i = 0; i < n; i++) order[i] = i;
    rn__fisher_yates(n, rng, rn__swap_ints, order);
}

static void rn__swap_items(void *context, int i, int j)
{
    rn_dataset *data = (rn_dataset *)context;
    size_t item = rn__item_size(&data->inputs), k;
    float *a = data->inputs.data + (size_t)i * item, *b = data->inputs.data + (size_t)j * item;
    for (k = 0; k < item; k++) {
        float value = a[k];
        a[k] = b[k];
        b[k] = value;
    }
    rn__swap_ints(data->labels, i, j);
}

RN_API void rn_dataset_shuffle(rn_dataset *data, rn_rng *rng)
{
    if (data == NULL || data->labels == NULL) return;
    rn__fisher_yates(rn__dataset_count(data), rng, rn__swap_items, data);
}

/* A seeded permutation of n items, RN_MALLOC'ed. */
static int *rn__seeded_order(int n, uint64_t seed)
{
    int *order = (int *)rn__calloc((size_t)n, sizeof(int));
    rn_rng rng;
    if (order == NULL) {
        rn_set_error(RN_ERR_MEMORY, "cannot allocate an order of %d items", n);
        return NULL;
    }
    rn_rng_seed(&rng, seed, 0);
    rn_data_permutation(order, n, &rng);
    return order;
}

/* How many of count items each class gets so that shares match those of
   the n labels: floors, then the leftover to the largest remainders. */
static int rn__class_quotas(const int *labels, int n, int n_classes, int count, int *quota)
{
    int c, i, assigned = 0;
    long long *remainder = (long long *)rn__calloc((size_t)n_classes, sizeof(long long));
    if (remainder == NULL) return rn_set_error(RN_ERR_MEMORY, "cannot allocate class quotas");
    for (c = 0; c < n_classes; c++) quota[c] = 0;
    for (i = 0; i < n; i++) quota[labels[i]]++;
    for (c = 0; c < n_classes; c++) {
        long long share = (long long)quota[c] * count;
        quota[c] = (int)(share / n);
        remainder[c] = share % n;
        assigned += quota[c];
    }
    while (assigned < count) {
        int best = 0;
        for (c = 1; c < n_classes; c++)
            if (remainder[c] > remainder[best]) best = c;
        quota[best]++;
        remainder[best] = -1;
        assigned++;
    }
    RN_FREE(remainder);
    return RN_OK;
}

/* Keeps, in order, the first items of each class until its quota is used. */
static int rn__take_stratified(const int *labels, int n, int n_classes, int *order, int count)
{
    int *quota = (int *)rn__calloc((size_t)n_classes, sizeof(int));
    int taken = 0, i, status;
    if (quota == NULL) return rn_set_error(RN_ERR_MEMORY, "cannot allocate class quotas");
    status = rn__class_quotas(labels, n, n_classes, count, quota);
    for (i = 0; status == RN_OK && i < n && taken < count; i++) {
        int label = labels[order[i]];
        if (quota[label] > 0) {
            quota[label]--;
            order[taken++] = order[i];
        }
    }
    RN_FREE(quota);
    return status;
}

/* The items rn_dataset_subsample picks from n labelled items (labels in
   [0, n_classes), 1 <= count <= n): the first count entries of *order,
   RN_MALLOC'ed. It needs the labels only, so a reader can choose items
   before it reads them. */
static int rn__subsample_order(const int *labels, int n, int n_classes, int count, int stratified,
                               uint64_t seed, int **order)
{
    int status = RN_OK;
    *order = rn__seeded_order(n, seed);
    if (*order == NULL) return RN_ERR_MEMORY;
    if (stratified) status = rn__take_stratified(labels, n, n_classes, *order, count);
    if (status != RN_OK) {
        RN_FREE(*order);
        *order = NULL;
    }
    return status;
}

static int rn__check_labels(const rn_dataset *data, const char *caller)
{
    int i;
    if (data->n_classes < 1)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: the dataset has no classes", caller);
    for (i = 0; i < rn__dataset_count(data); i++)
        if (data->labels[i] < 0 || data->labels[i] >= data->n_classes)
            return rn_set_error(RN_ERR_ARGUMENT, "%s: label %d of item %d is outside [0, %d)",
                                caller, data->labels[i], i, data->n_classes);
    return RN_OK;
}

RN_API int rn_dataset_subsample(const rn_dataset *data, int count, int stratified, uint64_t seed,
                                rn_dataset *out)
{
    int *order, status;
    if (out != NULL && out != data) memset(out, 0, sizeof *out);
    status = rn__check_dataset(data, "rn_dataset_subsample");
    if (status != RN_OK) return status;
    if (count < 1 || count > rn__dataset_count(data))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_dataset_subsample: %d of %d items", count,
                            rn__dataset_count(data));
    if (stratified && (status = rn__check_labels(data, "rn_dataset_subsample")) != RN_OK)
        return status;
    status = rn__subsample_order(data->labels, rn__dataset_count(data), data->n_classes, count,
                                 stratified, seed, &order);
    if (status == RN_OK) status = rn_dataset_gather(data, order, count, out);
    RN_FREE(order);
    return status;
}

RN_API int rn_dataset_split(const rn_dataset *data, int first_count, uint64_t seed,
                            rn_dataset *first, rn_dataset *rest)
{
    int *order, n, status;
    if (first != NULL && first != data) memset(first, 0, sizeof *first);
    if (rest != NULL && rest != data) memset(rest, 0, sizeof *rest);
    status = rn__check_dataset(data, "rn_dataset_split");
    if (status != RN_OK) return status;
    n = rn__dataset_count(data);
    if (first_count < 1 || first_count >= n)
        return rn_set_error(RN_ERR_ARGUMENT,
                            "rn_dataset_split: %d of %d items leaves a side empty", first_count, n);
    order = rn__seeded_order(n, seed);
    if (order == NULL) return RN_ERR_MEMORY;
    status = rn_dataset_gather(data, order, first_count, first);
    if (status == RN_OK) {
        status = rn_dataset_gather(data, order + first_count, n - first_count, rest);
        if (status != RN_OK) rn_dataset_free(first);
    }
    RN_FREE(order);
    return status;
}

/* ===== 2. batches ========================================================= */

RN_API int rn_batch_iter_begin(rn_batch_iter *iter, const rn_dataset *data, int batch_size,
                               const int *order, int n_items)
{
    int shape[RN_MAX_DIMS], i, status;
    if (iter == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_batch_iter_begin: iter is NULL");
    memset(iter, 0, sizeof *iter);
    status = rn__check_dataset(data, "rn_batch_iter_begin");
    if (status != RN_OK) return status;
    if (batch_size < 1 || (order != NULL && n_items < 0))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_batch_iter_begin: batch size %d, %d items",
                            batch_size, n_items);
    iter->data = data;
    iter->order = order;
    iter->n = order != NULL ? n_items : rn__dataset_count(data);
    iter->batch_size = batch_size;
    if (order == NULL) return RN_OK;
    for (i = 0; i < n_items; i++)
        if (order[i] < 0 || order[i] >= rn__dataset_count(data))
            return rn_set_error(RN_ERR_ARGUMENT,
                                "rn_batch_iter_begin: order[%d] is %d (have %d items)",
                                i, order[i], rn__dataset_count(data));
    memcpy(shape, data->inputs.shape, sizeof shape);
    shape[0] = batch_size;
    status = rn_tensor_new(&iter->inputs, data->inputs.ndim, shape);
    if (status != RN_OK) return status;
    iter->label_storage = (int *)rn__calloc((size_t)batch_size, sizeof(int));
    if (iter->label_storage == NULL) {
        rn_batch_iter_free(iter);
        return rn_set_error(RN_ERR_MEMORY, "rn_batch_iter_begin: cannot allocate labels");
    }
    return RN_OK;
}

RN_API int rn_batch_iter_next(rn_batch_iter *iter)
{
    const rn_dataset *data = iter->data;
    int count = iter->n - iter->position, i;
    if (count > iter->batch_size) count = iter->batch_size;
    if (count <= 0) return iter->count = 0;
    if (iter->order == NULL) {
        iter->inputs = rn_tensor_slice(&data->inputs, iter->position, count);
        iter->labels = data->labels + iter->position;
    } else {
        size_t item = rn__item_size(&data->inputs);
        for (i = 0; i < count; i++) {
            int source = iter->order[iter->position + i];
            memcpy(iter->inputs.data + (size_t)i * item,
                   data->inputs.data + (size_t)source * item, item * sizeof(float));
            iter->label_storage[i] = data->labels[source];
        }
        iter->inputs.shape[0] = count;
        iter->inputs.size = (size_t)count * item;
        iter->labels = iter->label_storage;
    }
    iter->position += count;
    return iter->count = count;
}

RN_API void rn_batch_iter_free(rn_batch_iter *iter)
{
    if (iter == NULL) return;
    if (iter->order != NULL) rn_tensor_free(&iter->inputs);
    RN_FREE(iter->label_storage);
    memset(iter, 0, sizeof *iter);
}

/* ===== 3. normalisation =================================================== */

RN_API void rn_data_minmax_scale(rn_tensor *inputs)
{
    float low, high;
    size_t i;
    if (inputs == NULL || inputs->size == 0) return;
    low = high = inputs->data[0];
    for (i = 1; i < inputs->size; i++) {
        if (inputs->data[i] < low) low = inputs->data[i];
        if (inputs->data[i] > high) high = inputs->data[i];
    }
    for (i = 0; i < inputs->size; i++)
        inputs->data[i] = high > low ? (inputs->data[i] - low) / (high - low) : 0.0f;
}

/* Channel c of item n occupies inputs[(n * channels + c) * plane ...+ plane). */
static void rn__channel_layout(const rn_tensor *inputs, int *channels, size_t *plane)
{
    *channels = inputs->shape[1];
    *plane = rn__item_size(inputs) / (size_t)*channels;
}

static int rn__check_channels(const rn_tensor *inputs, const void *mean, const void *std,
                              const char *caller)
{
    if (inputs == NULL || inputs->data == NULL || inputs->ndim < 2 || mean == NULL || std == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: need an N x C (x ...) tensor, mean and std",
                            caller);
    return RN_OK;
}

RN_API int rn_data_channel_stats(const rn_tensor *inputs, float *mean, float *std)
{
    int channels, c, n;
    size_t plane, k;
    int status = rn__check_channels(inputs, mean, std, "rn_data_channel_stats");
    if (status != RN_OK) return status;
    rn__channel_layout(inputs, &channels, &plane);
    /* Two passes in double: a one-pass sum of squares loses digits on 10^8 values. */
    for (c = 0; c < channels; c++) {
        double sum = 0.0, squares = 0.0, average;
        for (n = 0; n < inputs->shape[0]; n++) {
            const float *x = inputs->data + ((size_t)n * channels + c) * plane;
            for (k = 0; k < plane; k++) sum += x[k];
        }
        average = sum / ((double)plane * inputs->shape[0]);
        for (n = 0; n < inputs->shape[0]; n++) {
            const float *x = inputs->data + ((size_t)n * channels + c) * plane;
            for (k = 0; k < plane; k++) squares += (x[k] - average) * (x[k] - average);
        }
        mean[c] = (float)average;
        std[c] = (float)sqrt(squares / ((double)plane * inputs->shape[0]));
    }
    return RN_OK;
}

RN_API int rn_data_normalize(rn_tensor *inputs, const float *mean, const float *std)
{
    int channels, c, n;
    size_t plane, k;
    int status = rn__check_channels(inputs, mean, std, "rn_data_normalize");
    if (status != RN_OK) return status;
    rn__channel_layout(inputs, &channels, &plane);
    for (c = 0; c < channels; c++)
        if (!(std[c] > 0.0f))
            return rn_set_error(RN_ERR_ARGUMENT, "rn_data_normalize: std[%d] is %g (need > 0)", c,
                                (double)std[c]);
    for (n = 0; n < inputs->shape[0]; n++)
        for (c = 0; c < channels; c++) {
            float *x = inputs->data + ((size_t)n * channels + c) * plane;
            for (k = 0; k < plane; k++) x[k] = (x[k] - mean[c]) / std[c];
        }
    return RN_OK;
}

RN_API void rn_data_standardize_images(rn_tensor *inputs)
{
    size_t item, k;
    int n;
    if (inputs == NULL || inputs->ndim < 2) return;
    item = rn__item_size(inputs);
    for (n = 0; n < inputs->shape[0]; n++) {
        float *x = inputs->data + (size_t)n * item;
        double sum = 0.0, squares = 0.0, mean, std;
        for (k = 0; k < item; k++) sum += x[k];
        mean = sum / (double)item;
        for (k = 0; k < item; k++) squares += (x[k] - mean) * (x[k] - mean);
        std = sqrt(squares / (double)item);
        if (std < 1.0 / sqrt((double)item)) std = 1.0 / sqrt((double)item);
        for (k = 0; k < item; k++) x[k] = (float)((x[k] - mean) / std);
    }
}

/* One image's planes shifted by (dy, dx) and mirrored when flip, through the
   scratch copy of the image. */
static void rn__shift_image(float *image, float *scratch, int channels, int height, int width,
                            int dy, int dx, int flip)
{
    size_t plane = (size_t)height * width;
    int c, y, x;
    memcpy(scratch, image, (size_t)channels * plane * sizeof(float));
    for (c = 0; c < channels; c++)
        for (y = 0; y < height; y++)
            for (x = 0; x < width; x++) {
                int from_y = y + dy, from_x = (flip ? width - 1 - x : x) + dx;
                int inside = from_y >= 0 && from_y < height && from_x >= 0 && from_x < width;
                image[c * plane + (size_t)y * width + x] =
                    inside ? scratch[c * plane + (size_t)from_y * width + from_x] : 0.0f;
            }
}

RN_API int rn_data_augment_crop_flip(rn_tensor *images, int padding, int flip, rn_rng *rng)
{
    size_t item;
    float *scratch;
    int n;
    if (images == NULL || images->data == NULL || images->ndim != 4 || rng == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_data_augment_crop_flip: need N x C x H x W "
                            "images and an rng");
    if (padding < 0 || padding >= images->shape[2] || padding >= images->shape[3])
        return rn_set_error(RN_ERR_ARGUMENT, "rn_data_augment_crop_flip: padding %d outside "
                            "[0, %d)", padding, images->shape[2] < images->shape[3]
                                                    ? images->shape[2] : images->shape[3]);
    item = rn__item_size(images);
    scratch = (float *)RN_MALLOC(item * sizeof(float));
    if (scratch == NULL)
        return rn_set_error(RN_ERR_MEMORY, "rn_data_augment_crop_flip: cannot allocate an image");
    for (n = 0; n < images->shape[0]; n++) {
        /* Drawn in this order for every image, whatever is used. */
        int dy = (int)rn_rng_below(rng, 2u * (uint32_t)padding + 1u) - padding;
        int dx = (int)rn_rng_below(rng, 2u * (uint32_t)padding + 1u) - padding;
        int mirror = (int)(rn_rng_u32(rng) >> 31) & (flip != 0);
        rn__shift_image(images->data + (size_t)n * item, scratch, images->shape[1],
                        images->shape[2], images->shape[3], dy, dx, mirror);
    }
    RN_FREE(scratch);
    return RN_OK;
}

RN_API int rn_data_augment_batch(void *augment, rn_net *net, rn_batch *batch)
{
    rn_augment *a = (rn_augment *)augment;
    (void)net;
    if (a == NULL || batch == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_data_augment_batch: NULL augment or batch");
    return rn_data_augment_crop_flip(batch->inputs, a->padding, a->flip, &a->rng);
}

/* ===== 4. gzip ============================================================ */

static uint32_t rn__le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t rn__be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

enum { RN__GZ_FHCRC = 2, RN__GZ_FEXTRA = 4, RN__GZ_FNAME = 8, RN__GZ_FCOMMENT = 16 };

/* Skips a zero-terminated header field; 0 if it runs past the end. */
static int rn__skip_string(const unsigned char *bytes, size_t end, size_t *position)
{
    while (*position < end && bytes[*position] != 0) (*position)++;
    if (*position >= end) return 0;
    (*position)++;
    return 1;
}

/* Finds where the deflate data starts after the RFC 1952 header. The last
   8 bytes (CRC-32 and ISIZE) are not part of the header. */
static int rn__gzip_header(const unsigned char *bytes, size_t size, const char *name,
                           size_t *data_start)
{
    size_t end, position = 10;
    unsigned flags;
    if (size < 18) return rn_set_error(RN_ERR_FORMAT, "%s: gzip file of %lu bytes is truncated",
                                       name, (unsigned long)size);
    if (bytes[0] != 0x1f || bytes[1] != 0x8b)
        return rn_set_error(RN_ERR_FORMAT, "%s: not a gzip file", name);
    if (bytes[2] != 8)
        return rn_set_error(RN_ERR_FORMAT, "%s: gzip compression method %d (only 8, deflate)",
                            name, bytes[2]);
    flags = bytes[3];
    if (flags & 0xE0u)
        return rn_set_error(RN_ERR_FORMAT, "%s: reserved gzip flags set (0x%02x)", name, flags);
    end = size - 8;
    if (flags & RN__GZ_FEXTRA) {
        size_t extra;
        if (position + 2 > end)
            return rn_set_error(RN_ERR_FORMAT, "%s: gzip header truncated", name);
        extra = (size_t)bytes[position] | (size_t)bytes[position + 1] << 8;
        position += 2;
        if (extra > end - position)
            return rn_set_error(RN_ERR_FORMAT, "%s: gzip extra field runs past the end", name);
        position += extra;
    }
    if ((flags & RN__GZ_FNAME) && !rn__skip_string(bytes, end, &position))
        return rn_set_error(RN_ERR_FORMAT, "%s: gzip file name runs past the end", name);
    if ((flags & RN__GZ_FCOMMENT) && !rn__skip_string(bytes, end, &position))
        return rn_set_error(RN_ERR_FORMAT, "%s: gzip comment runs past the end", name);
    if (flags & RN__GZ_FHCRC) {
        uint32_t expected;
        if (position + 2 > end)
            return rn_set_error(RN_ERR_FORMAT, "%s: gzip header truncated", name);
        expected = (uint32_t)bytes[position] | (uint32_t)bytes[position + 1] << 8;
        if ((rn_crc32(0, bytes, position) & 0xFFFFu) != expected)
            return rn_set_error(RN_ERR_FORMAT, "%s: gzip header CRC mismatch", name);
        position += 2;
    }
    *data_start = position;
    return RN_OK;
}

/* Deflate expands at most 1032:1, so a larger ISIZE is a lie that would
   otherwise make us allocate gigabytes for a tiny hostile file. */
#define RN__DEFLATE_MAX_RATIO 1032u

RN_API int rn_gunzip(const void *bytes, size_t size, const char *name, unsigned char **out,
                     size_t *out_size)
{
    const unsigned char *p = (const unsigned char *)bytes;
    size_t start = 0, compressed;
    uint32_t expected_crc, expected_size;
    unsigned char *buffer;
    int status, length;
    if (out == NULL || out_size == NULL || (bytes == NULL && size > 0))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_gunzip: NULL argument");
    *out = NULL;
    *out_size = 0;
    if (name == NULL) name = "gzip data";
    status = rn__gzip_header(p, size, name, &start);
    if (status != RN_OK) return status;
    compressed = size - 8 - start;
    expected_crc = rn__le32(p + size - 8);
    expected_size = rn__le32(p + size - 4);
    if (compressed > INT_MAX || expected_size > INT_MAX ||
        expected_size / RN__DEFLATE_MAX_RATIO > compressed)
        return rn_set_error(RN_ERR_FORMAT,
                            "%s: gzip length field %lu is impossible for %lu compressed bytes",
                            name, (unsigned long)expected_size, (unsigned long)compressed);
    buffer = (unsigned char *)RN_MALLOC(expected_size > 0 ? expected_size : 1);
    if (buffer == NULL)
        return rn_set_error(RN_ERR_MEMORY, "%s: cannot allocate %lu bytes", name,
                            (unsigned long)expected_size);
    /* Inflating into a buffer of exactly ISIZE bytes: a stream that would
       write more fails inside stb_image instead of growing without bound.
       The input includes the 8-byte trailer because stb_image 2.27 refuses
       to decode a last code that ends within 2 bytes of the input's end. */
    length = stbi_zlib_decode_noheader_buffer((char *)buffer, (int)expected_size,
                                              (const char *)p + start, (int)compressed + 8);
    if (length < 0 || (uint32_t)length != expected_size) {
        RN_FREE(buffer);
        return rn_set_error(RN_ERR_FORMAT, "%s: deflate data is corrupt or not %lu bytes long",
                            name, (unsigned long)expected_size);
    }
    if (rn_crc32(0, buffer, expected_size) != expected_crc) {
        RN_FREE(buffer);
        return rn_set_error(RN_ERR_FORMAT, "%s: gzip CRC-32 mismatch (data corrupt)", name);
    }
    *out = buffer;
    *out_size = expected_size;
    return RN_OK;
}

/* The bytes of a file that may be gzip-compressed: either the input itself
   (*owned = NULL) or an inflated copy the caller frees (*owned). */
static int rn__maybe_gunzip(const unsigned char *bytes, size_t size, const char *name,
                            const unsigned char **plain, size_t *plain_size,
                            unsigned char **owned)
{
    *owned = NULL;
    if (size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
        int status = rn_gunzip(bytes, size, name, owned, plain_size);
        *plain = *owned;
        return status;
    }
    *plain = bytes;
    *plain_size = size;
    return RN_OK;
}

/* ===== 5. IDX ============================================================= */

/* Validates an unsigned-byte IDX file with ndim dimensions whose size must be
   exactly header + product of dims; returns the dims and the payload. */
static int rn__idx_parse(const unsigned char *bytes, size_t size, const char *name, int ndim,
                         int *dims, const unsigned char **payload)
{
    size_t header = 4 + 4 * (size_t)ndim, expected = 1;
    int i;
    if (size < header)
        return rn_set_error(RN_ERR_FORMAT, "%s: %lu bytes is too short for an IDX header", name,
                            (unsigned long)size);
    if (rn__be32(bytes) != (0x00000800u | (uint32_t)ndim))
        return rn_set_error(RN_ERR_FORMAT, "%s: magic 0x%08lx (expected 0x%08x)", name,
                            (unsigned long)rn__be32(bytes), 0x00000800u | (unsigned)ndim);
    for (i = 0; i < ndim; i++) {
        uint32_t dim = rn__be32(bytes + 4 + 4 * i);
        uint32_t limit = i == 0 ? RN_DATA_MAX_ITEMS : RN_DATA_MAX_SIDE;
        if (dim < 1 || dim > limit)
            return rn_set_error(RN_ERR_FORMAT, "%s: dimension %d is %lu (need 1 to %lu)", name, i,
                                (unsigned long)dim, (unsigned long)limit);
        dims[i] = (int)dim;
        expected *= dim; /* at most 2^24 * 2^15 * 2^15: fits in 64 bits */
    }
    if (ndim == 3 && (size_t)dims[1] * (size_t)dims[2] > RN_DATA_MAX_PIXELS)
        return rn_set_error(RN_ERR_FORMAT, "%s: %d x %d images are too large", name, dims[1],
                            dims[2]);
    if (size - header != expected)
        return rn_set_error(RN_ERR_FORMAT, "%s: %lu data bytes, the header promises %lu", name,
                            (unsigned long)(size - header), (unsigned long)expected);
    *payload = bytes + header;
    return RN_OK;
}

static int rn__idx_decode(const unsigned char *images, size_t images_size, const char *images_name,
                          const unsigned char *labels, size_t labels_size, const char *labels_name,
                          int n_classes, rn_dataset *out)
{
    int image_dims[3] = {0, 0, 0}, label_dims[1] = {0}, status;
    const unsigned char *pixels = NULL, *classes = NULL;
    size_t i;
    status = rn__idx_parse(images, images_size, images_name, 3, image_dims, &pixels);
    if (status != RN_OK) return status;
    status = rn__idx_parse(labels, labels_size, labels_name, 1, label_dims, &classes);
    if (status != RN_OK) return status;
    if (image_dims[0] != label_dims[0])
        return rn_set_error(RN_ERR_FORMAT, "%s has %d images but %s has %d labels", images_name,
                            image_dims[0], labels_name, label_dims[0]);
    for (i = 0; i < (size_t)label_dims[0]; i++)
        if (classes[i] >= n_classes)
            return rn_set_error(RN_ERR_FORMAT, "%s: label %d of item %lu is not below %d",
                                labels_name, classes[i], (unsigned long)i, n_classes);
    image_dims[0] = 1; /* the item shape is 1 x H x W */
    status = rn__dataset_new(out, label_dims[0], 3, image_dims, n_classes);
    if (status != RN_OK) return status;
    for (i = 0; i < out->inputs.size; i++) out->inputs.data[i] = pixels[i] / 255.0f;
    for (i = 0; i < (size_t)label_dims[0]; i++) out->labels[i] = classes[i];
    return RN_OK;
}

/* Inflates whichever of the two files is gzip, then decodes both. */
static int rn__idx_from_bytes(const unsigned char *images, size_t images_size,
                              const char *images_name, const unsigned char *labels,
                              size_t labels_size, const char *labels_name, int n_classes,
                              rn_dataset *out)
{
    const unsigned char *plain_images = NULL, *plain_labels = NULL;
    unsigned char *owned_images = NULL, *owned_labels = NULL;
    size_t plain_images_size = 0, plain_labels_size = 0;
    int status;
    if (out == NULL) return rn_set_error(RN_ERR_ARGUMENT, "IDX: output dataset is NULL");
    memset(out, 0, sizeof *out);
    if (n_classes < 1 || n_classes > 256)
        return rn_set_error(RN_ERR_ARGUMENT, "IDX: %d classes (need 1 to 256)", n_classes);
    status = rn__maybe_gunzip(images, images_size, images_name, &plain_images, &plain_images_size,
                              &owned_images);
    if (status == RN_OK)
        status = rn__maybe_gunzip(labels, labels_size, labels_name, &plain_labels,
                                  &plain_labels_size, &owned_labels);
    if (status == RN_OK)
        status = rn__idx_decode(plain_images, plain_images_size, images_name, plain_labels,
                                plain_labels_size, labels_name, n_classes, out);
    RN_FREE(owned_images);
    RN_FREE(owned_labels);
    return status;
}

RN_API int rn_data_idx_from_memory(const void *images, size_t images_size, const void *labels,
                                   size_t labels_size, int n_classes, rn_dataset *out)
{
    if (out != NULL) memset(out, 0, sizeof *out);
    if ((images == NULL && images_size > 0) || (labels == NULL && labels_size > 0))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_data_idx_from_memory: NULL data");
    return rn__idx_from_bytes((const unsigned char *)images, images_size, "IDX images",
                              (const unsigned char *)labels, labels_size, "IDX labels", n_classes,
                              out);
}

RN_API int rn_data_idx_load(const char *images_path, const char *labels_path, int n_classes,
                            rn_dataset *out)
{
    unsigned char *images = NULL, *labels = NULL;
    size_t images_size, labels_size;
    int status;
    if (out != NULL) memset(out, 0, sizeof *out);
    if (images_path == NULL || labels_path == NULL || out == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_data_idx_load: NULL argument");
    status = rn__read_file(images_path, &images, &images_size);
    if (status == RN_OK) status = rn__read_file(labels_path, &labels, &labels_size);
    if (status == RN_OK)
        status = rn__idx_from_bytes(images, images_size, images_path, labels, labels_size,
                                    labels_path, n_classes, out);
    RN_FREE(images);
    RN_FREE(labels);
    return status;
}

/* dir/name if it exists, else dir/name.gz if that exists; 0 if neither. */
static int rn__find_raw_or_gz(const char *dir, const char *name, char *path)
{
    static const char *const suffixes[2] = {"", ".gz"};
    int i;
    for (i = 0; i < 2; i++) {
        int length = snprintf(path, RN__PATH_SIZE, "%s/%s%s", dir, name, suffixes[i]);
        if (length > 0 && length < RN__PATH_SIZE && rn__file_exists(path)) return 1;
    }
    return 0;
}

RN_API int rn_data_fashion_mnist(const char *dir, int train, rn_dataset *out)
{
    static const char *const class_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                                "Bag",         "Ankle boot"};
    const char *images_name = train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte";
    const char *labels_name = train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte";
    char dirs[2][RN__PATH_SIZE], images_path[RN__PATH_SIZE], labels_path[RN__PATH_SIZE];
    int n_dirs = rn__dataset_dirs(dir, "fashion-mnist", "/usr/share/datasets/fashion-mnist",
                                  dirs), i, status;
    if (out == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_data_fashion_mnist: out is NULL");
    memset(out, 0, sizeof *out);
    for (i = 0; i < n_dirs; i++) {
        if (!rn__find_raw_or_gz(dirs[i], images_name, images_path) ||
            !rn__find_raw_or_gz(dirs[i], labels_name, labels_path))
            continue;
        status = rn_data_idx_load(images_path, labels_path, 10, out);
        if (status == RN_OK) status = rn__set_class_names(out, class_names, 10);
        if (status != RN_OK) rn_dataset_free(out);
        return status;
    }
    return rn_set_error(RN_ERR_IO,
                        "rn_data_fashion_mnist: %s and %s (raw or .gz) not found in %s%s%s (%s); "
                        "install them with `apt-get install dataset-fashion-mnist`, or download "
                        "them from https://github.com/zalandoresearch/fashion-mnist into "
                        "DIR/fashion-mnist and pass DIR",
                        images_name, labels_name, dirs[0], n_dirs > 1 ? " or " : "",
                        n_dirs > 1 ? dirs[1] : "", rn__dataset_origin(dir));
}

/* ===== 6. CIFAR-10 ======================================================== */

#define RN__CIFAR_RECORD 3073 /* 1 label byte + 3 x 32 x 32 pixel bytes */

static int rn__cifar_count(size_t size, const char *name, int *count)
{
    if (size == 0 || size % RN__CIFAR_RECORD != 0 || size / RN__CIFAR_RECORD > RN_DATA_MAX_ITEMS)
        return rn_set_error(RN_ERR_FORMAT,
                            "%s: %lu bytes is not a whole number of 3073-byte CIFAR-10 records",
                            name, (unsigned long)size);
    *count = (int)(size / RN__CIFAR_RECORD);
    return RN_OK;
}

/* Checks a record's label and decodes it into item `item` of data; index
   names the record in the message. */
static int rn__cifar_record(const unsigned char *record, const char *name, int index,
                            rn_dataset *data, int item)
{
    float *pixels = data->inputs.data + (size_t)item * (RN__CIFAR_RECORD - 1);
    int k;
    if (record[0] >= 10)
        return rn_set_error(RN_ERR_FORMAT, "%s: record %d has label %d (need 0 to 9)", name, index,
                            record[0]);
    data->labels[item] = record[0];
    for (k = 0; k < RN__CIFAR_RECORD - 1; k++) pixels[k] = record[1 + k] / 255.0f;
    return RN_OK;
}

static const int rn__cifar_shape[3] = {3, 32, 32};

RN_API int rn_data_cifar10_from_memory(const void *bytes, size_t size, rn_dataset *out)
{
    int count = 0, status, i;
    if (out != NULL) memset(out, 0, sizeof *out);
    if (out == NULL || (bytes == NULL && size > 0))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_data_cifar10_from_memory: NULL argument");
    status = rn__cifar_count(size, "CIFAR-10 batch", &count);
    if (status == RN_OK) status = rn__dataset_new(out, count, 3, rn__cifar_shape, 10);
    for (i = 0; status == RN_OK && i < count; i++)
        status = rn__cifar_record((const unsigned char *)bytes + (size_t)i * RN__CIFAR_RECORD,
                                  "CIFAR-10 batch", i, out, i);
    if (status != RN_OK) rn_dataset_free(out);
    return status;
}

/* batches.meta.txt: one class name per line; blank lines and surrounding
   white space are ignored. Exactly 10 names. */
static int rn__cifar_class_names(const char *text, size_t size, const char *name,
                                 rn_dataset *data)
{
    char names[10][RN_DATA_MAX_CLASS_NAME + 1];
    const char *pointers[10];
    size_t position = 0;
    int count = 0;
    while (position < size) {
        size_t start = position, end, length;
        while (position < size && text[position] != '\n') position++;
        end = position++;
        while (start < end && isspace((unsigned char)text[start])) start++;
        while (end > start && isspace((unsigned char)text[end - 1])) end--;
        length = end - start;
        if (length == 0) continue;
        if (count == 10 || length > RN_DATA_MAX_CLASS_NAME)
            return rn_set_error(RN_ERR_FORMAT, "%s: more than 10 names or a name over %d bytes",
                                name, RN_DATA_MAX_CLASS_NAME);
        memcpy(names[count], text + start, length);
        names[count][length] = '\0';
        pointers[count] = names[count];
        count++;
    }
    if (count != 10)
        return rn_set_error(RN_ERR_FORMAT, "%s: %d class names (CIFAR-10 has 10)", name, count);
    return rn__set_class_names(data, pointers, 10);
}

/* The batch files of one set, open, with their records counted and every
   label read: enough to choose records before any pixel is read. */
typedef struct rn__cifar_set {
    FILE *files[5];
    char paths[5][RN__PATH_SIZE];
    int counts[5], n_files, total;
    int *labels; /* total labels, file after file */
} rn__cifar_set;

static void rn__cifar_close(rn__cifar_set *set)
{
    int i;
    for (i = 0; i < set->n_files; i++)
        if (set->files[i] != NULL) fclose(set->files[i]);
    RN_FREE(set->labels);
    memset(set, 0, sizeof *set);
}

/* Opens dir/name as the set's next file and counts its records from its size. */
static int rn__cifar_open_file(rn__cifar_set *set, const char *dir, const char *name)
{
    int i = set->n_files++, status;
    long size = 0;
    status = rn__join_path(set->paths[i], RN__PATH_SIZE, dir, name);
    if (status != RN_OK) return status;
    set->files[i] = fopen(set->paths[i], "rb");
    if (set->files[i] == NULL)
        return rn_set_error(RN_ERR_IO, "%s: cannot open: %s", set->paths[i], strerror(errno));
    if (fseek(set->files[i], 0, SEEK_END) != 0 || (size = ftell(set->files[i])) < 0)
        return rn_set_error(RN_ERR_IO, "%s: cannot determine the size", set->paths[i]);
    status = rn__cifar_count((size_t)size, set->paths[i], &set->counts[i]);
    if (status == RN_OK) set->total += set->counts[i];
    return status;
}

/* The label byte of every record of the set's file i, each checked. */
static int rn__cifar_read_labels(const rn__cifar_set *set, int i, int *labels)
{
    int r;
    for (r = 0; r < set->counts[i]; r++) {
        int label = EOF;
        if (fseek(set->files[i], (long)r * RN__CIFAR_RECORD, SEEK_SET) == 0) label = fgetc(set->files[i]);
        if (label == EOF) return rn_set_error(RN_ERR_IO, "%s: read error", set->paths[i]);
        if (label >= 10)
            return rn_set_error(RN_ERR_FORMAT, "%s: record %d has label %d (need 0 to 9)",
                                set->paths[i], r, label);
        labels[r] = label;
    }
    return RN_OK;
}

static int rn__cifar_open(rn__cifar_set *set, const char *dir, const char *const *names,
                          int n_files)
{
    int i, first = 0, status = RN_OK;
    memset(set, 0, sizeof *set);
    for (i = 0; status == RN_OK && i < n_files; i++) status = rn__cifar_open_file(set, dir, names[i]);
    if (status == RN_OK) {
        set->labels = (int *)rn__calloc((size_t)set->total, sizeof(int));
        if (set->labels == NULL)
            status = rn_set_error(RN_ERR_MEMORY, "cannot allocate %d labels", set->total);
    }
    for (i = 0; status == RN_OK && i < n_files; i++) {
        status = rn__cifar_read_labels(set, i, set->labels + first);
        first += set->counts[i];
    }
    return status;
}

/* Reads records indices[0..count) of the set (numbered across its files)
   into items 0..count-1 of out. */
static int rn__cifar_read_records(const rn__cifar_set *set, const int *indices, int count,
                                  rn_dataset *out)
{
    unsigned char record[RN__CIFAR_RECORD];
    int i, status = RN_OK;
    for (i = 0; status == RN_OK && i < count; i++) {
        int file = 0, r = indices[i];
        while (r >= set->counts[file]) r -= set->counts[file++];
        if (fseek(set->files[file], (long)r * RN__CIFAR_RECORD, SEEK_SET) != 0 ||
            fread(record, 1, RN__CIFAR_RECORD, set->files[file]) != RN__CIFAR_RECORD)
            return rn_set_error(RN_ERR_IO, "%s: read error in record %d", set->paths[file], r);
        if (record[0] != set->labels[indices[i]])
            return rn_set_error(RN_ERR_IO, "%s: record %d changed while it was read",
                                set->paths[file], r);
        status = rn__cifar_record(record, set->paths[file], r, out, i);
    }
    return status;
}

/* The records to read: the subsample's when count is below the set's size,
   else all of them in file order. RN_MALLOC'ed. */
static int rn__cifar_choose(const rn__cifar_set *set, int count, int stratified, uint64_t seed,
                            int **indices, int *n)
{
    int i;
    if (count < set->total) {
        *n = count;
        return rn__subsample_order(set->labels, set->total, 10, count, stratified, seed, indices);
    }
    *n = set->total;
    *indices = (int *)rn__calloc((size_t)set->total, sizeof(int));
    if (*indices == NULL)
        return rn_set_error(RN_ERR_MEMORY, "cannot allocate %d indices", set->total);
    for (i = 0; i < set->total; i++) (*indices)[i] = i;
    return RN_OK;
}

/* The chosen records of the batch files in dir as one dataset: the labels
   first, then only the records chosen. */
static int rn__cifar_load_batches(const char *dir, const char *const *names, int n_files,
                                  int count, int stratified, uint64_t seed, rn_dataset *out)
{
    rn__cifar_set set;
    int *indices = NULL, n = 0;
    int status = rn__cifar_open(&set, dir, names, n_files);
    if (status == RN_OK) status = rn__cifar_choose(&set, count, stratified, seed, &indices, &n);
    if (status == RN_OK) status = rn__dataset_new(out, n, 3, rn__cifar_shape, 10);
    if (status == RN_OK) status = rn__cifar_read_records(&set, indices, n, out);
    RN_FREE(indices);
    rn__cifar_close(&set);
    return status;
}

/* rn_data_cifar10 and rn_data_cifar10_subsample: at most count records
   (INT_MAX: all) from the first of the places that holds the set. */
static int rn__cifar10_load(const char *caller, const char *dir, int train, int count,
                            int stratified, uint64_t seed, rn_dataset *out)
{
    static const char *const train_files[5] = {"data_batch_1.bin", "data_batch_2.bin",
                                               "data_batch_3.bin", "data_batch_4.bin",
                                               "data_batch_5.bin"};
    static const char *const test_files[1] = {"test_batch.bin"};
    char dirs[2][RN__PATH_SIZE], path[RN__PATH_SIZE], meta_path[RN__PATH_SIZE];
    int n_dirs = rn__dataset_dirs(dir, "cifar-10-batches-bin", NULL, dirs), i, status;
    if (out == NULL) return rn_set_error(RN_ERR_ARGUMENT, "%s: out is NULL", caller);
    memset(out, 0, sizeof *out);
    if (count < 1)
        return rn_set_error(RN_ERR_ARGUMENT, "%s: %d images (need at least 1)", caller, count);
    for (i = 0; i < n_dirs; i++) {
        unsigned char *meta = NULL;
        size_t meta_size = 0;
        if (rn__join_path(path, sizeof path, dirs[i], train ? train_files[0] : test_files[0]) !=
                RN_OK ||
            !rn__file_exists(path))
            continue;
        status = rn__join_path(meta_path, sizeof meta_path, dirs[i], "batches.meta.txt");
        if (status == RN_OK)
            status = rn__cifar_load_batches(dirs[i], train ? train_files : test_files,
                                            train ? 5 : 1, count, stratified, seed, out);
        if (status == RN_OK) status = rn__read_file(meta_path, &meta, &meta_size);
        if (status == RN_OK)
            status = rn__cifar_class_names((const char *)meta, meta_size, meta_path, out);
        RN_FREE(meta);
        if (status != RN_OK) rn_dataset_free(out);
        return status;
    }
    if (n_dirs == 0)
        return rn_set_error(RN_ERR_IO, "%s: no directory given and $RELUNET_DATA is not set; run "
                            "scripts/get-cifar10.sh DIR and pass DIR", caller);
    return rn_set_error(RN_ERR_IO,
                        "%s: %s not found in %s%s%s (%s); run scripts/get-cifar10.sh "
                        "DIR (or download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz "
                        "and unpack it in DIR: it creates cifar-10-batches-bin) and pass DIR",
                        caller, train ? train_files[0] : test_files[0], dirs[0],
                        n_dirs > 1 ? " or " : "", n_dirs > 1 ? dirs[1] : "", rn__dataset_origin(dir));
}

RN_API int rn_data_cifar10(const char *dir, int train, rn_dataset *out)
{
    return rn__cifar10_load("rn_data_cifar10", dir, train, INT_MAX, 0, 0, out);
}

RN_API int rn_data_cifar10_subsample(const char *dir, int train, int count, int stratified,
                                     uint64_t seed, rn_dataset *out)
{
    return rn__cifar10_load("rn_data_cifar10_subsample", dir, train, count, stratified, seed, out);
}

/* ===== 7. images ========================================================== */

/* The two source pixels an output pixel blends along one axis, and the
   weight of the second: the output pixel's centre mapped into the source,
   clamped to the outermost source centres. */
static void rn__resize_taps(int out_index, double scale, int in_size, int *first, int *second,
                            double *weight)
{
    double source = (out_index + 0.5) * scale - 0.5;
    if (source < 0.0) source = 0.0;
    *first = (int)source;
    *second = *first + 1 < in_size ? *first + 1 : *first;
    *weight = source - *first;
}

RN_API int rn_image_resize(const rn_tensor *image, int height, int width, rn_tensor *out)
{
    int shape[3], in_height, in_width, c, y, x, status;
    if (image == NULL || out == NULL || image->ndim != 3 || image == out)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_image_resize: need a C x H x W image and a "
                                             "separate output");
    in_height = image->shape[1];
    in_width = image->shape[2];
    shape[0] = image->shape[0];
    shape[1] = height;
    shape[2] = width;
    status = rn_tensor_resize(out, 3, shape);
    if (status != RN_OK) return status;
    for (c = 0; c < shape[0]; c++) {
        const float *plane = image->data + (size_t)c * in_height * in_width;
        float *target = out->data + (size_t)c * height * width;
        for (y = 0; y < height; y++) {
            int y0, y1;
            double wy;
            const float *row0, *row1;
            rn__resize_taps(y, (double)in_height / height, in_height, &y0, &y1, &wy);
            row0 = plane + (size_t)y0 * in_width;
            row1 = plane + (size_t)y1 * in_width;
            for (x = 0; x < width; x++) {
                int x0, x1;
                double wx, top, bottom;
                rn__resize_taps(x, (double)in_width / width, in_width, &x0, &x1, &wx);
                top = row0[x0] * (1.0 - wx) + row0[x1] * wx;
                bottom = row1[x0] * (1.0 - wx) + row1[x1] * wx;
                target[(size_t)y * width + x] = (float)(top * (1.0 - wy) + bottom * wy);
            }
        }
    }
    return RN_OK;
}

/* stb_image 2.27 (Debian 12's) trusts a JPEG's Huffman tables in two ways
   a hostile file can exploit:
   - a scan decodes with whatever tables it names, whether a DHT segment
     defined them or not; an undefined table is uninitialised memory, which
     trips an assertion (abort) or indexes out of bounds;
   - symbol index 255 doubles as its "no short code" mark and a table's
     symbols go into 256 slots, so a table of 256 or more codes decodes
     wrongly (an assertion again) or writes past its arrays.
   A real JPEG never needs 256 codes (an AC table has at most 162 symbols),
   and must define a table before the scan that uses it. So the markers are
   walked the way stb_image walks them and such files are refused before it
   sees them. Where stb_image would stop with an error anyway, the walk
   stops too and lets it. Bytes past the end read as zero, as in stb_image. */
static unsigned rn__byte_or_zero(const unsigned char *bytes, size_t size, size_t k)
{
    return k < size ? bytes[k] : 0u;
}

/* Checks the tables of the DHT segment whose body (after the length) starts
   at `at`, and marks them defined. */
static int rn__jpeg_dht_safe(const unsigned char *bytes, size_t size, size_t at, long remaining,
                             int defined[2][4])
{
    while (remaining > 0) {
        unsigned table = rn__byte_or_zero(bytes, size, at), codes = 0, k;
        if (table >> 4 > 1 || (table & 15) > 3) return 1; /* stb_image refuses it */
        for (k = 0; k < 16; k++) codes += rn__byte_or_zero(bytes, size, at + 1 + k);
        if (codes >= 256) return 0;
        defined[table >> 4][table & 15] = 1;
        at += 17 + (size_t)codes;
        remaining -= 17 + (long)codes;
    }
    return 1;
}

/* Whether a scan header (body at `at`) names only defined tables among those
   it decodes with: a baseline scan uses both of each component's tables; a
   progressive one the DC table in a first DC scan only, the AC table in AC
   scans only. */
static int rn__jpeg_scan_tables_defined(const unsigned char *bytes, size_t size, size_t at,
                                        int progressive, int defined[2][4])
{
    unsigned components = rn__byte_or_zero(bytes, size, at), k;
    unsigned spectral_start = rn__byte_or_zero(bytes, size, at + 1 + 2 * components);
    unsigned refining = rn__byte_or_zero(bytes, size, at + 3 + 2 * components) >> 4;
    int uses_dc = !progressive || (spectral_start == 0 && refining == 0);
    int uses_ac = !progressive || spectral_start != 0;
    if (components < 1 || components > 4) return 1; /* stb_image refuses it */
    for (k = 0; k < components; k++) {
        unsigned tables = rn__byte_or_zero(bytes, size, at + 2 + 2 * k);
        if (tables >> 4 > 3 || (tables & 15) > 3) return 1;
        if ((uses_dc && !defined[0][tables >> 4]) || (uses_ac && !defined[1][tables & 15]))
            return 0;
    }
    return 1;
}

/* Entropy-coded data ends at the first marker: an FF byte followed by
   anything but 00 (a stuffed FF byte), FF (fill) or D0-D7 (a restart). */
static size_t rn__jpeg_skip_entropy_data(const unsigned char *bytes, size_t size, size_t at)
{
    for (; at + 1 < size; at++) {
        unsigned next = bytes[at + 1];
        if (bytes[at] == 0xFF && next != 0x00 && next != 0xFF && (next < 0xD0 || next > 0xD7))
            return at;
    }
    return size;
}

/* What makes a JPEG unsafe for stb_image 2.27, or NULL if nothing does. */
static const char *rn__jpeg_table_problem(const unsigned char *bytes, size_t size)
{
    int defined[2][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}}, have_frame = 0, progressive = 0;
    size_t at = 0;
    /* stb_image takes any run of FF bytes, then D8, as a JPEG's start. */
    while (at < size && bytes[at] == 0xFF) at++;
    if (at == 0 || at == size || bytes[at] != 0xD8) return NULL;
    for (at++;;) {
        unsigned marker, length;
        /* stb_image skips bytes up to the next FF before the frame header
           and refuses them after it: skipping is never less safe. */
        while (at < size && bytes[at] != 0xFF) at++;
        while (at < size && bytes[at] == 0xFF) at++;
        if (at >= size) return NULL;
        marker = bytes[at++];
        length = rn__byte_or_zero(bytes, size, at) << 8 | rn__byte_or_zero(bytes, size, at + 1);
        if (marker == 0xD9 || length < 2) return NULL; /* the end, or stb_image refuses it */
        if (marker == 0xC4 && !rn__jpeg_dht_safe(bytes, size, at + 2, (long)length - 2, defined))
            return "a Huffman table of 256 or more codes";
        if (marker >= 0xC0 && marker <= 0xC2) have_frame = 1, progressive = marker == 0xC2;
        if (marker == 0xDA) {
            if (!have_frame) return NULL;
            if (!rn__jpeg_scan_tables_defined(bytes, size, at + 2, progressive, defined))
                return "a scan uses a Huffman table that no DHT segment defines";
            at = rn__jpeg_skip_entropy_data(bytes, size, at + length);
        } else {
            at += length;
        }
    }
}

/* stb_image 2.27 sizes its buffer for a PNG's image data from each IDAT
   chunk's claimed length before reading it, so a few hostile bytes can ask
   for gigabytes. A chunk (4-byte length, type, data, 4-byte CRC) can never
   be longer than what is left of the file: refuse any that claims to be. */
static int rn__png_chunks_fit(const unsigned char *bytes, size_t size)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    size_t at = 8;
    if (size < 8 || memcmp(bytes, signature, 8) != 0) return 1;
    while (size - at >= 12) {
        size_t length = (size_t)rn__be32(bytes + at);
        if (length > size - at - 12) return 0;
        if (memcmp(bytes + at + 4, "IEND", 4) == 0) return 1;
        at += 12 + length;
    }
    return 1;
}

/* Decodes with stb_image (interleaved bytes) into C x H x W floats. */
static int rn__image_decode(const unsigned char *bytes, size_t size, const char *name,
                            int channels, rn_tensor *image)
{
    int width, height, file_channels, shape[3], c, k, status;
    unsigned char *pixels;
    const char *jpeg_problem = rn__jpeg_table_problem(bytes, size);
    if (jpeg_problem != NULL)
        return rn_set_error(RN_ERR_FORMAT, "%s: JPEG refused: %s", name, jpeg_problem);
    if (!rn__png_chunks_fit(bytes, size))
        return rn_set_error(RN_ERR_FORMAT, "%s: a PNG chunk claims more bytes than the file has", name);
    if (size > INT_MAX || !stbi_info_from_memory(bytes, (int)size, &width, &height, &file_channels))
        return rn_set_error(RN_ERR_FORMAT, "%s: not a PNG, JPEG or BMP image (%s)", name,
                            size > INT_MAX ? "too large" : stbi_failure_reason());
    if (width < 1 || height < 1 || width > RN_DATA_MAX_SIDE || height > RN_DATA_MAX_SIDE ||
        (size_t)width * (size_t)height > RN_DATA_MAX_PIXELS)
        return rn_set_error(RN_ERR_FORMAT, "%s: %d x %d pixels is too large (at most %d)", name,
                            width, height, RN_DATA_MAX_PIXELS);
    pixels = stbi_load_from_memory(bytes, (int)size, &width, &height, &file_channels, channels);
    if (pixels == NULL)
        return rn_set_error(RN_ERR_FORMAT, "%s: cannot decode (%s)", name, stbi_failure_reason());
    shape[0] = channels;
    shape[1] = height;
    shape[2] = width;
    status = rn_tensor_resize(image, 3, shape);
    if (status == RN_OK)
        for (c = 0; c < channels; c++)
            for (k = 0; k < width * height; k++)
                image->data[(size_t)c * width * height + k] = pixels[k * channels + c] / 255.0f;
    stbi_image_free(pixels);
    return status;
}

/* Decodes, then resizes when a size other than the image's own is asked for. */
static int rn__image_from_bytes(const unsigned char *bytes, size_t size, const char *name,
                                int channels, int height, int width, rn_tensor *image)
{
    rn_tensor decoded;
    int status;
    if (image == NULL || (bytes == NULL && size > 0))
        return rn_set_error(RN_ERR_ARGUMENT, "%s: NULL image or data", name);
    if ((channels != 1 && channels != 3) || height < 0 || width < 0 ||
        (height == 0) != (width == 0))
        return rn_set_error(RN_ERR_ARGUMENT,
                            "%s: %d channels, %d x %d (need 1 or 3 channels, both sizes or none)",
                            name, channels, height, width);
    memset(&decoded, 0, sizeof decoded);
    status = rn__image_decode(bytes, size, name, channels, &decoded);
    if (status == RN_OK && height > 0 &&
        (decoded.shape[1] != height || decoded.shape[2] != width)) {
        status = rn_image_resize(&decoded, height, width, image);
    } else if (status == RN_OK) {
        status = rn_tensor_resize(image, 3, decoded.shape);
        if (status == RN_OK) status = rn_tensor_copy(image, &decoded);
    }
    rn_tensor_free(&decoded);
    return status;
}

RN_API int rn_image_from_memory(const void *bytes, size_t size, int channels, int height,
                                int width, rn_tensor *image)
{
    return rn__image_from_bytes((const unsigned char *)bytes, size, "image in memory", channels,
                                height, width, image);
}

RN_API int rn_image_load(const char *path, int channels, int height, int width, rn_tensor *image)
{
    unsigned char *bytes;
    size_t size;
    int status;
    if (path == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_image_load: path is NULL");
    status = rn__read_file(path, &bytes, &size);
    if (status != RN_OK) return status;
    status = rn__image_from_bytes(bytes, size, path, channels, height, width, image);
    RN_FREE(bytes);
    return status;
}

/* One directory's entries, one at a time, with whether each is a directory
   or a regular file: _findfirst on Windows (MSVC's and MinGW's C library),
   opendir and stat elsewhere. */
#if defined(_WIN32)
#include <io.h>

typedef struct rn__dir_walk {
    intptr_t handle;
    int started;
    struct _finddata_t entry;
} rn__dir_walk;

static int rn__dir_open(rn__dir_walk *walk, const char *dir)
{
    char pattern[RN__PATH_SIZE];
    if (rn__join_path(pattern, sizeof pattern, dir, "*") != RN_OK) return 0;
    walk->started = 0;
    walk->handle = _findfirst(pattern, &walk->entry);
    return walk->handle != -1;
}

static const char *rn__dir_next(rn__dir_walk *walk, const char *dir, int *is_dir, int *is_file)
{
    (void)dir;
    if (walk->started && _findnext(walk->handle, &walk->entry) != 0) return NULL;
    walk->started = 1;
    *is_dir = (walk->entry.attrib & _A_SUBDIR) != 0;
    *is_file = !*is_dir;
    return walk->entry.name;
}

static void rn__dir_close(rn__dir_walk *walk) { _findclose(walk->handle); }

#else
#include <dirent.h>
#include <sys/stat.h>

typedef struct rn__dir_walk {
    DIR *handle;
} rn__dir_walk;

static int rn__dir_open(rn__dir_walk *walk, const char *dir)
{
    walk->handle = opendir(dir);
    return walk->handle != NULL;
}

/* Entries whose kind stat cannot tell (a dangling link) are neither. */
static const char *rn__dir_next(rn__dir_walk *walk, const char *dir, int *is_dir, int *is_file)
{
    struct dirent *entry = readdir(walk->handle);
    char path[RN__PATH_SIZE];
    struct stat info;
    if (entry == NULL) return NULL;
    *is_dir = *is_file = 0;
    if (rn__join_path(path, sizeof path, dir, entry->d_name) == RN_OK && stat(path, &info) == 0) {
        *is_dir = S_ISDIR(info.st_mode);
        *is_file = S_ISREG(info.st_mode);
    }
    return entry->d_name;
}

static void rn__dir_close(rn__dir_walk *walk) { closedir(walk->handle); }
#endif

/* A growable list of RN_MALLOC'ed strings. */
typedef struct rn__names {
    char **items;
    int count, capacity;
} rn__names;

static void rn__names_free(rn__names *names)
{
    int i;
    for (i = 0; i < names->count; i++) RN_FREE(names->items[i]);
    RN_FREE(names->items);
    memset(names, 0, sizeof *names);
}

static int rn__names_add(rn__names *names, const char *name)
{
    size_t length = strlen(name) + 1;
    char *copy;
    if (names->count == names->capacity) {
        int capacity = names->capacity > 0 ? names->capacity * 2 : 16;
        char **items = (char **)rn__calloc((size_t)capacity, sizeof(char *));
        if (items == NULL) return rn_set_error(RN_ERR_MEMORY, "cannot grow a list of names");
        if (names->count > 0) memcpy(items, names->items, (size_t)names->count * sizeof(char *));
        RN_FREE(names->items);
        names->items = items;
        names->capacity = capacity;
    }
    copy = (char *)RN_MALLOC(length);
    if (copy == NULL) return rn_set_error(RN_ERR_MEMORY, "cannot copy a name");
    memcpy(copy, name, length);
    names->items[names->count++] = copy;
    return RN_OK;
}

static int rn__compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int rn__has_image_extension(const char *name)
{
    static const char *const extensions[4] = {".png", ".jpg", ".jpeg", ".bmp"};
    size_t length = strlen(name);
    int i;
    for (i = 0; i < 4; i++) {
        size_t extension = strlen(extensions[i]), k;
        int same = length > extension;
        for (k = 0; same && k < extension; k++)
            same = tolower((unsigned char)name[length - extension + k]) == extensions[i][k];
        if (same) return 1;
    }
    return 0;
}

/* The entries of dir that are directories (want_dirs) or image files,
   sorted by name; hidden entries are skipped. */
static int rn__list_dir(const char *dir, int want_dirs, rn__names *names)
{
    rn__dir_walk walk;
    const char *name;
    int status = RN_OK, is_dir, is_file;
    if (!rn__dir_open(&walk, dir))
        return rn_set_error(RN_ERR_IO, "%s: cannot open the directory: %s", dir, strerror(errno));
    while (status == RN_OK && (name = rn__dir_next(&walk, dir, &is_dir, &is_file)) != NULL) {
        if (name[0] == '.') continue;
        if (want_dirs ? is_dir : is_file && rn__has_image_extension(name))
            status = rn__names_add(names, name);
    }
    rn__dir_close(&walk);
    if (names->count > 1)
        qsort(names->items, (size_t)names->count, sizeof(char *), rn__compare_names);
    return status;
}

/* Every image path under root/<class>/, class by class, and each one's class. */
static int rn__list_images(const char *root, rn__names *classes, rn__names *paths,
                           int **labels)
{
    int c, i, status = rn__list_dir(root, 1, classes);
    int *class_end = (int *)rn__calloc((size_t)classes->count, sizeof(int));
    if (status == RN_OK && class_end == NULL)
        status = rn_set_error(RN_ERR_MEMORY, "cannot allocate %d classes", classes->count);
    for (c = 0; status == RN_OK && c < classes->count; c++) {
        char class_dir[RN__PATH_SIZE], path[RN__PATH_SIZE];
        rn__names files;
        memset(&files, 0, sizeof files);
        status = rn__join_path(class_dir, sizeof class_dir, root, classes->items[c]);
        if (status == RN_OK) status = rn__list_dir(class_dir, 0, &files);
        for (i = 0; status == RN_OK && i < files.count; i++) {
            status = rn__join_path(path, sizeof path, class_dir, files.items[i]);
            if (status == RN_OK) status = rn__names_add(paths, path);
        }
        if (status == RN_OK && files.count == 0)
            status = rn_set_error(RN_ERR_FORMAT, "%s: an empty class folder (no .png, .jpg, "
                                  ".jpeg or .bmp images)", class_dir);
        class_end[c] = paths->count;
        rn__names_free(&files);
    }
    if (status == RN_OK && paths->count == 0)
        status = rn_set_error(RN_ERR_IO, "%s: no class folders with .png, .jpg, .jpeg or .bmp "
                              "images", root);
    if (status == RN_OK && (*labels = (int *)rn__calloc((size_t)paths->count, sizeof(int))) == NULL)
        status = rn_set_error(RN_ERR_MEMORY, "cannot allocate %d labels", paths->count);
    for (i = 0, c = 0; status == RN_OK && i < paths->count; i++) {
        while (i >= class_end[c]) c++;
        (*labels)[i] = c;
    }
    RN_FREE(class_end);
    return status;
}

RN_API int rn_data_image_folder(const char *root, int channels, int height, int width,
                                rn_dataset *out)
{
    rn__names classes, paths;
    rn_tensor image;
    int *labels = NULL, i, status;
    if (out != NULL) memset(out, 0, sizeof *out);
    if (root == NULL || out == NULL)
        return rn_set_error(RN_ERR_ARGUMENT, "rn_data_image_folder: NULL argument");
    memset(&classes, 0, sizeof classes);
    memset(&paths, 0, sizeof paths);
    memset(&image, 0, sizeof image);
    status = rn__list_images(root, &classes, &paths, &labels);
    for (i = 0; status == RN_OK && i < paths.count; i++) {
        status = rn_image_load(paths.items[i], channels, height, width, &image);
        if (status == RN_OK && i == 0) {
            status = rn__dataset_new(out, paths.count, 3, image.shape, classes.count);
            if (status == RN_OK)
                status = rn__set_class_names(out, (const char *const *)classes.items,
                                             classes.count);
        }
        if (status == RN_OK && memcmp(image.shape, out->inputs.shape + 1, 3 * sizeof(int)) != 0)
            status = rn_set_error(RN_ERR_SHAPE, "%s: %d x %d, unlike the first image's %d x %d",
                                  paths.items[i], image.shape[1], image.shape[2],
                                  out->inputs.shape[2], out->inputs.shape[3]);
        if (status == RN_OK) {
            memcpy(out->inputs.data + (size_t)i * image.size, image.data,
                   image.size * sizeof(float));
            out->labels[i] = labels[i];
        }
    }
    rn_tensor_free(&image);
    rn__names_free(&classes);
    rn__names_free(&paths);
    RN_FREE(labels);
    if (status != RN_OK) rn_dataset_free(out);
    return status;
}

/* ===== 8. two moons ======================================================= */

/* numpy's legacy RandomState: MT19937 (Matsumoto and Nishimura 1998) seeded
   by init_genrand, 53-bit doubles from two outputs, bounded integers by
   masked rejection, and polar Box-Muller normals that keep the second value
   for the next call. Private: it exists to match scikit-learn draw for draw. */
typedef struct rn__mt19937 {
    uint32_t key[624];
    int position;
    int has_gauss;
    double gauss;
} rn__mt19937;

static void rn__mt_seed(rn__mt19937 *mt, uint32_t seed)
{
    int i;
    mt->key[0] = seed;
    for (i = 1; i < 624; i++)
        mt->key[i] = 1812433253u * (mt->key[i - 1] ^ (mt->key[i - 1] >> 30)) + (uint32_t)i;
    mt->position = 624;
    mt->has_gauss = 0;
    mt->gauss = 0.0;
}

static void rn__mt_regenerate(rn__mt19937 *mt)
{
    int i;
    for (i = 0; i < 624; i++) {
        uint32_t y = (mt->key[i] & 0x80000000u) | (mt->key[(i + 1) % 624] & 0x7fffffffu);
        mt->key[i] = mt->key[(i + 397) % 624] ^ (y >> 1) ^ (0x9908b0dfu & (0u - (y & 1u)));
    }
    mt->position = 0;
}

static uint32_t rn__mt_next32(rn__mt19937 *mt)
{
    uint32_t y;
    if (mt->position == 624) rn__mt_regenerate(mt);
    y = mt->key[mt->position++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
}

static double rn__mt_next_double(rn__mt19937 *mt)
{
    uint32_t a = rn__mt_next32(mt) >> 5, b = rn__mt_next32(mt) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

/* Uniform in [0, max] by masking to max's bit width and rejecting. */
static uint32_t rn__mt_interval(rn__mt19937 *mt, uint32_t max)
{
    uint32_t mask = max, value;
    if (max == 0) return 0;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    while ((value = rn__mt_next32(mt) & mask) > max) {
    }
    return value;
}

static double rn__mt_gauss(rn__mt19937 *mt)
{
    double x1, x2, r2, f;
    if (mt->has_gauss) {
        mt->has_gauss = 0;
        return mt->gauss;
    }
    do {
        x1 = 2.0 * rn__mt_next_double(mt) - 1.0;
        x2 = 2.0 * rn__mt_next_double(mt) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    f = sqrt(-2.0 * log(r2) / r2);
    mt->gauss = f * x1;
    mt->has_gauss = 1;
    return f * x2;
}

/* numpy.linspace(0, pi, count)[i]: i * step, with the last point exactly pi. */
static double rn__half_turn(int i, int count)
{
    const double pi = 3.14159265358979323846;
    if (i == count - 1 && count > 1) return pi;
    return count > 1 ? i * (pi / (count - 1)) : 0.0;
}

RN_API int rn_data_moons(int n_samples, double noise, int shuffle, uint32_t seed,
                         rn_dataset *out)
{
    static const int item_shape[1] = {2};
    int n_outer = n_samples / 2, n_inner = n_samples - n_samples / 2, *order = NULL, i, status;
    double *points;
    rn__mt19937 mt;
    if (out == NULL) return rn_set_error(RN_ERR_ARGUMENT, "rn_data_moons: out is NULL");
    memset(out, 0, sizeof *out);
    if (n_samples < 1 || n_samples > RN_DATA_MAX_ITEMS || !(noise >= 0.0))
        return rn_set_error(RN_ERR_ARGUMENT, "rn_data_moons: %d samples, noise %g", n_samples,
                            noise);
    points = (double *)rn__calloc((size_t)n_samples * 2, sizeof(double));
    order = (int *)rn__calloc((size_t)n_samples, sizeof(int));
    status = points != NULL && order != NULL
                 ? rn__dataset_new(out, n_samples, 1, item_shape, 2)
                 : rn_set_error(RN_ERR_MEMORY, "rn_data_moons: cannot allocate %d points",
                                n_samples);
    if (status == RN_OK) {
        for (i = 0; i < n_outer; i++) {
            points[2 * i] = cos(rn__half_turn(i, n_outer));
            points[2 * i + 1] = sin(rn__half_turn(i, n_outer));
        }
        for (i = 0; i < n_inner; i++) {
            points[2 * (n_outer + i)] = 1.0 - cos(rn__half_turn(i, n_inner));
            points[2 * (n_outer + i) + 1] = 1.0 - sin(rn__half_turn(i, n_inner)) - 0.5;
        }
        /* sklearn.utils.shuffle: numpy's shuffle of arange(n), then X[order]. */
        rn__mt_seed(&mt, seed);
        for (i = 0; i < n_samples; i++) order[i] = i;
        for (i = n_samples - 1; shuffle && i > 0; i--)
            rn__swap_ints(order, i, (int)rn__mt_interval(&mt, (uint32_t)i));
        /* Then the noise, drawn row by row (x, y) after the shuffle. */
        for (i = 0; i < n_samples; i++) {
            const double *point = points + 2 * order[i];
            double dx = noise > 0.0 ? noise * rn__mt_gauss(&mt) : 0.0;
            double dy = noise > 0.0 ? noise * rn__mt_gauss(&mt) : 0.0;
            out->inputs.data[2 * i] = (float)(point[0] + dx);
            out->inputs.data[2 * i + 1] = (float)(point[1] + dy);
            out->labels[i] = order[i] < n_outer ? 0 : 1;
        }
    }
    RN_FREE(points);
    RN_FREE(order);
    return status;
}

#endif /* RELUNET_IMPLEMENTATION */
