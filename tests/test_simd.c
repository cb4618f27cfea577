/* test_simd.c - every SIMD kernel against the scalar reference, dispatch
 * errors, and results that do not depend on the thread count.
 *
 * The matrix products are checked against a double-precision product with
 * a bound that grows with the reduction length; the convolutions against
 * the scalar direct convolution. Every instruction set this CPU supports
 * is tested in one run.
 *
 *     test_simd --isa-list    prints the supported instruction sets, one
 *                             per line (make test-isa loops over them)
 *     test_simd --isa-skipped prints those this build has but the CPU lacks
 */
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "harness.h"
#include "kernel_tables.h"

#include <string.h>

static rn_rng rng;

static float *random_array(size_t count)
{
    float *values = (float *)malloc(count * sizeof(float) + 1);
    size_t i;
    for (i = 0; i < count; i++) values[i] = 2.0f * rn_rng_uniform(&rng) - 1.0f;
    return values;
}

/* A product's worst error is about k units in the last place of the sum of
   the magnitudes of its terms; the bound is relative to that sum. */
static double gemm_tolerance(int k) { return k > 10 ? 1e-6 * k : 1e-5; }

/* C = op(A) op(B) + beta C with leading dimensions wider than the matrices,
   so strides are exercised too. Returns the worst error relative to the sum
   of the magnitudes of each element's terms, against a double product. */
static double gemm_error(const rn__kernel_table *table, int ta, int tb, int m, int n, int k,
                         float beta)
{
    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1, i, j, p;
    float *a = random_array((size_t)(ta ? k : m) * lda);
    float *b = random_array((size_t)(tb ? n : k) * ldb);
    float *c = random_array((size_t)m * ldc);
    float *c0 = (float *)malloc((size_t)m * ldc * sizeof(float) + 1);
    double worst = 0.0;
    memcpy(c0, c, (size_t)m * ldc * sizeof(float));
    table->sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            double exact = beta == 0.0f ? 0.0 : (double)beta * c0[i * ldc + j];
            double magnitude = fabs(exact) + 1e-30, error;
            for (p = 0; p < k; p++) {
                double term = (double)(ta ? a[p * lda + i] : a[i * lda + p]) *
                              (tb ? b[j * ldb + p] : b[p * ldb + j]);
                exact += term;
                magnitude += fabs(term);
            }
            error = fabs(c[i * ldc + j] - exact) / magnitude;
            if (error > worst) worst = error;
        }
    for (i = 0; i < m; i++) /* the padding between rows is left alone */
        for (j = n; j < ldc; j++) worst = c[i * ldc + j] == c0[i * ldc + j] ? worst : 1.0;
    free(a), free(b), free(c), free(c0);
    return worst;
}

static void check_gemm(const rn__kernel_table *table, int ta, int tb, int m, int n, int k,
                       float beta)
{
    double error;
    rn_set_isa(table->isa);
    error = gemm_error(table, ta, tb, m, n, k, beta);
    if (error > gemm_tolerance(k)) {
        fprintf(stderr, "%s sgemm(%d, %d, m %d, n %d, k %d, beta %g): relative error %g\n",
                table->isa, ta, tb, m, n, k, (double)beta, error);
        CHECK(error <= gemm_tolerance(k));
    }
}

/* Every size 1..33 in each dimension (around every tile size), all four
   transpose combinations, beta 0, 1 and otherwise. */
static void test_gemm_small_shapes(void)
{
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    int count = usable_tables(tables), t, ta, tb, s;
    for (t = 0; t < count; t++)
        for (ta = 0; ta < 2; ta++)
            for (tb = 0; tb < 2; tb++)
                for (s = 1; s <= 33; s++) {
                    check_gemm(tables[t], ta, tb, s, 17, 13, 0.0f);
                    check_gemm(tables[t], ta, tb, 7, s, 19, 1.0f);
                    check_gemm(tables[t], ta, tb, 9, 25, s, 0.5f);
                    check_gemm(tables[t], ta, tb, s, s, s, 0.0f);
                }
}

/* Sizes that cross the cache blocks (mc, nc and the depth block of 256). */
static void test_gemm_blocked_shapes(void)
{
    static const int shapes[][3] = {{97, 389, 300}, {200, 520, 260}, {1, 1000, 513}, {300, 3, 40}};
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    int count = usable_tables(tables), t, s, ta;
    for (t = 0; t < count; t++)
        for (s = 0; s < 4; s++)
            for (ta = 0; ta < 2; ta++)
                check_gemm(tables[t], ta, !ta, shapes[s][0], shapes[s][1], shapes[s][2], 1.0f);
}

/* An empty product only scales C. */
static void test_gemm_empty_depth(void)
{
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    int count = usable_tables(tables), t;
    for (t = 0; t < count; t++) {
        float c[6] = {1, 2, 3, 4, 5, 6};
        tables[t]->sgemm(0, 0, 2, 3, 0, NULL, 1, NULL, 3, 0.5f, c, 3);
        CHECK_NEAR(c[0], 0.5, 0.0);
        CHECK_NEAR(c[5], 3.0, 0.0);
    }
}

static double max_relative_difference(const float *x, const float *y, size_t count)
{
    double worst = 0.0, scale = 1.0;
    size_t i;
    for (i = 0; i < count; i++) scale = fabs(x[i]) > scale ? fabs(x[i]) : scale;
    for (i = 0; i < count; i++)
        if (fabs((double)x[i] - y[i]) / scale > worst) worst = fabs((double)x[i] - y[i]) / scale;
    return worst;
}

static int conv_geometry(rn__conv_geometry *g, int batch, int in_channels, int out_channels,
                         int height, int width, int kernel, int stride, int padding)
{
    g->batch = batch;
    g->in_channels = in_channels, g->in_height = height, g->in_width = width;
    g->out_channels = out_channels;
    g->kernel = kernel, g->stride = stride, g->padding = padding;
    g->out_height = (height + 2 * padding - kernel) / stride + 1;
    g->out_width = (width + 2 * padding - kernel) / stride + 1;
    return height + 2 * padding >= kernel && width + 2 * padding >= kernel;
}

/* Forward, input gradient and weight gradient (with bias) of one table
   against the scalar table on one geometry. */
static void check_conv(const rn__kernel_table *table, const rn__conv_geometry *g)
{
    const rn__kernel_table *scalar = &rn__kernel_tables[0];
    size_t in_size = (size_t)g->batch * g->in_channels * g->in_height * g->in_width;
    size_t out_size = (size_t)g->batch * g->out_channels * g->out_height * g->out_width;
    size_t w_size = (size_t)g->out_channels * g->in_channels * g->kernel * g->kernel;
    float *x = random_array(in_size), *w = random_array(w_size);
    float *bias = random_array(g->out_channels);
    float *dy = random_array(out_size), *y[2], *dx[2], *dw[2], *dbias[2];
    double tolerance = 1e-5 * (1.0 + g->kernel * g->kernel * (double)g->out_channels / 16.0);
    double errors[4];
    int i;
    for (i = 0; i < 2; i++) {
        const rn__kernel_table *k = i == 0 ? scalar : table;
        y[i] = random_array(out_size), dx[i] = random_array(in_size);
        dw[i] = (float *)calloc(w_size, sizeof(float));
        dbias[i] = (float *)calloc(g->out_channels, sizeof(float));
        rn_set_isa(k->isa);
        k->conv2d_forward(g, x, w, bias, y[i]);
        k->conv2d_backward_input(g, dy, w, dx[i]);
        k->conv2d_backward_weight(g, x, dy, dw[i], dbias[i]);
    }
    errors[0] = max_relative_difference(y[0], y[1], out_size);
    errors[1] = max_relative_difference(dx[0], dx[1], in_size);
    errors[2] = max_relative_difference(dw[0], dw[1], w_size);
    errors[3] = max_relative_difference(dbias[0], dbias[1], g->out_channels);
    for (i = 0; i < 4; i++)
        if (errors[i] > tolerance) {
            fprintf(stderr, "%s conv %s: batch %d, %d->%d channels, %dx%d, kernel %d, stride %d, "
                    "padding %d: relative error %g\n", table->isa,
                    (const char *[]){"forward", "input grad", "weight grad", "bias grad"}[i],
                    g->batch, g->in_channels, g->out_channels, g->in_height, g->in_width,
                    g->kernel, g->stride, g->padding, errors[i]);
            CHECK(errors[i] <= tolerance);
        }
    for (i = 0; i < 2; i++) free(y[i]), free(dx[i]), free(dw[i]), free(dbias[i]);
    free(x), free(w), free(bias), free(dy);
}

static void test_conv_shapes(void)
{
    static const int kernels[] = {1, 2, 3, 5}, out_channels[] = {1, 5, 8};
    static const int sizes[][2] = {{7, 9}, {12, 11}};
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    int count = usable_tables(tables), t, batch, c, o, s, p, k, size;
    rn__conv_geometry g;
    for (t = 1; t < count; t++)
        for (batch = 1; batch <= 3; batch += 2)
            for (c = 1; c <= 3; c += 2)
                for (o = 0; o < 3; o++)
                    for (s = 1; s <= 2; s++)
                        for (p = 0; p <= 2; p++)
                            for (k = 0; k < 4; k++)
                                for (size = 0; size < 2; size++)
                                    if (conv_geometry(&g, batch, c, out_channels[o], sizes[size][0],
                                                      sizes[size][1], kernels[k], s, p))
                                        check_conv(tables[t], &g);
}

/* The layers of the studies' networks, at small batches. */
static void test_conv_study_layers(void)
{
    static const int layers[][7] = {
        /* in, out, size, kernel, stride, padding, batch: batches of 13 and
           25 split small images into groups of several, the last partial */
        {1, 15, 28, 2, 2, 0, 13}, {15, 15, 14, 2, 2, 0, 13}, {15, 1, 7, 2, 1, 0, 25},
        {1, 8, 28, 5, 1, 2, 2}, {8, 16, 28, 5, 1, 2, 2}, {16, 32, 28, 3, 1, 1, 2},
        {3, 6, 32, 5, 1, 0, 2}, {6, 16, 14, 5, 1, 0, 2}};
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    int count = usable_tables(tables), t, i;
    rn__conv_geometry g;
    for (t = 1; t < count; t++)
        for (i = 0; i < 8; i++) {
            conv_geometry(&g, layers[i][6], layers[i][0], layers[i][1], layers[i][2], layers[i][2],
                          layers[i][3], layers[i][4], layers[i][5]);
            check_conv(tables[t], &g);
        }
}

/* Element by element the SIMD activations give exactly the scalar results
   (NaN, infinities and signed zeros included); only the slope gradient's
   sum is ordered differently. Lengths 0..70 cover every vector tail, and
   5000 crosses the blocks the sum is split into. */
static void check_activations(const rn__kernel_table *table, size_t n)
{
    const rn__kernel_table *scalar = &rn__kernel_tables[0];
    float *x = random_array(n), *dy = random_array(n), *out[2][4];
    double dslope[2];
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        if (i % 7 == 3) x[i] = 0.0f;
        if (i % 11 == 5) x[i] = -0.0f;
        if (i % 37 == 20) x[i] = NAN;
        if (i % 41 == 9) x[i] = -INFINITY;
    }
    for (k = 0; k < 2; k++) {
        const rn__kernel_table *t = k == 0 ? scalar : table;
        for (i = 0; i < 4; i++) out[k][i] = (float *)malloc(n * sizeof(float) + 1);
        t->relu_forward(x, out[k][0], n);
        t->relu_backward(x, dy, out[k][1], n);
        t->prelu_forward(x, out[k][2], n, 0.25f);
        dslope[k] = t->prelu_backward(x, dy, out[k][3], n, 0.25f);
    }
    for (k = 0; k < 4; k++) {
        int same = 1;
        for (i = 0; i < n; i++)
            same &= memcmp(&out[0][k][i], &out[1][k][i], sizeof(float)) == 0 ||
                    (isnan(out[0][k][i]) && isnan(out[1][k][i]));
        if (!same) fprintf(stderr, "%s activation kernel %d differs from scalar (n = %lu)\n",
                           table->isa, k, (unsigned long)n);
        CHECK(same);
    }
    if (isnan(dslope[0])) CHECK(isnan(dslope[1]));
    else if (isinf(dslope[0])) CHECK(dslope[1] == dslope[0]);
    else CHECK_NEAR(dslope[1], dslope[0], 1e-5);
    for (k = 0; k < 2; k++)
        for (i = 0; i < 4; i++) free(out[k][i]);
    free(x), free(dy);
}

static void test_activation_kernels(void)
{
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    int count = usable_tables(tables), t;
    size_t n;
    for (t = 1; t < count; t++) {
        for (n = 0; n <= 70; n++) check_activations(tables[t], n);
        check_activations(tables[t], 5000);
    }
}

/* ReLU keeps NaN (forward, and backward passes the gradient on, as
   torch's threshold does) on every table; one the CPU lacks says so. */
static void test_relu_keeps_nan(void)
{
    enum { N = 37 };
    float x[N], dy[N], y[N], dx[N];
    int t, i;
    for (i = 0; i < N; i++) {
        x[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? -1.0f : 2.0f;
        dy[i] = 0.5f;
    }
    for (t = 0; t < RN__TABLE_COUNT; t++) {
        const rn__kernel_table *table = &rn__kernel_tables[t];
        int right = 1;
        if (!rn__cpu_has(table->isa)) {
            printf("relu NaN on %s: skipped, the CPU lacks it\n", table->isa);
            continue;
        }
        table->relu_forward(x, y, N);
        table->relu_backward(x, dy, dx, N);
        for (i = 0; i < N; i++)
            right &= i % 3 == 0 ? isnan(y[i]) && dx[i] == 0.5f
                                : y[i] == (i % 3 == 1 ? 0.0f : 2.0f) &&
                                      dx[i] == (i % 3 == 1 ? 0.0f : 0.5f);
        if (!right) fprintf(stderr, "%s relu hides NaN\n", table->isa);
        CHECK(right);
    }
}

/* A batch whose first image is all NaN: conv, ReLU, max pooling and linear
   carry it to the logits of that image alone, and the loss refuses it. A
   single NaN that is not first in its pooling window survives too. */
static void check_nan_reaches_the_loss(const char *isa)
{
    rn_net *net = rn_net_new(3, (int[]){1, 6, 6});
    rn_tensor x;
    const rn_tensor *out;
    float loss = 0.0f;
    size_t i, image = 36;
    int k, finite_second = 1;
    rn_set_isa(isa);
    rn_net_add_conv2d(net, 2, 3, 1, 1);
    rn_net_add_activation(net, RN_ACT_RELU);
    rn_net_add_maxpool2d(net, 2, 2);
    rn_net_add_flatten(net);
    rn_net_add_linear(net, 3);
    rn_net_init(net, RN_INIT_HE_NORMAL, 0.0f, 1);
    rn_tensor_new(&x, 4, (int[]){3, 1, 6, 6});
    for (i = 0; i < x.size; i++) x.data[i] = i < image ? NAN : rn_rng_uniform(&rng);
    CHECK(rn_net_forward(net, &x, RN_TRAIN) == RN_OK);
    out = rn_net_output(net);
    for (k = 0; k < 3; k++) CHECK(isnan(out->data[k]));
    for (k = 3; k < 9; k++) finite_second &= isfinite(out->data[k]) != 0;
    CHECK(finite_second);
    CHECK(rn_loss_cross_entropy(out, (int[]){0, 1, 2}, &loss, rn_net_output_grad(net)) ==
          RN_ERR_NUMERIC);
    rn_net_free(net);
    rn_tensor_free(&x);

    net = rn_net_new(3, (int[]){1, 2, 2});
    rn_net_add_maxpool2d(net, 2, 2);
    rn_tensor_new(&x, 4, (int[]){1, 1, 2, 2});
    x.data[0] = 1.0f, x.data[1] = 3.0f, x.data[2] = NAN, x.data[3] = 2.0f;
    CHECK(rn_net_forward(net, &x, RN_EVAL) == RN_OK && isnan(rn_net_output(net)->data[0]));
    rn_net_free(net);
    rn_tensor_free(&x);
    rn_set_isa("auto");
}

static void test_nan_reaches_the_loss(void)
{
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    int count = usable_tables(tables), t;
    for (t = 0; t < count; t++) check_nan_reaches_the_loss(tables[t]->isa);
}

static void test_set_isa_errors(void)
{
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    int count = usable_tables(tables), i;
    const char *before;
    CHECK(rn_set_isa("auto") == RN_OK);
    CHECK(strcmp(rn_isa_name(), tables[count - 1]->isa) == 0);
    before = rn_isa_name();
    CHECK(rn_set_isa("avx3000") == RN_ERR_ARGUMENT);
    CHECK(strstr(rn_last_error(), "avx3000") != NULL);
    CHECK(rn_set_isa(NULL) == RN_ERR_ARGUMENT);
    CHECK(rn_set_isa("") == RN_ERR_ARGUMENT);
    CHECK(rn_isa_name() == before);
    for (i = 0; i < count; i++) {
        CHECK(rn_set_isa(tables[i]->isa) == RN_OK);
        CHECK(strcmp(rn_isa_name(), tables[i]->isa) == 0);
    }
    /* A known name this machine cannot run is an error, not a crash. */
#if defined(__x86_64__) || defined(__i386__)
    CHECK(rn_set_isa("neon") == RN_ERR_UNSUPPORTED);
#else
    CHECK(rn_set_isa("avx2") == RN_ERR_UNSUPPORTED);
#endif
    CHECK(strcmp(rn_isa_name(), tables[count - 1]->isa) == 0);
    CHECK(rn_set_threads(-1) == RN_ERR_ARGUMENT);
    CHECK(rn_threads() >= 1);
}

#ifdef _OPENMP
/* Big enough that products and batches are shared between threads. */
static void run_conv_net_pass(const rn__conv_geometry *g, const float *x, const float *w,
                              const float *dy, float *out)
{
    size_t in_size = (size_t)g->batch * g->in_channels * g->in_height * g->in_width;
    size_t out_size = (size_t)g->batch * g->out_channels * g->out_height * g->out_width;
    size_t w_size = (size_t)g->out_channels * g->in_channels * g->kernel * g->kernel;
    memset(out + out_size + in_size, 0, (w_size + g->out_channels) * sizeof(float));
    rn__kernels()->conv2d_forward(g, x, w, NULL, out);
    rn__kernels()->conv2d_backward_input(g, dy, w, out + out_size);
    rn__kernels()->conv2d_backward_weight(g, x, dy, out + out_size + in_size,
                                          out + out_size + in_size + w_size);
    rn__kernels()->sgemm(0, 1, 300, 200, 150, x, 150, w, 150, 0.0f,
                         out + out_size + in_size + w_size + g->out_channels, 200);
    /* a PReLU's input gradient over the whole input, then its slope gradient */
    out += out_size + in_size + w_size + g->out_channels + 300 * 200;
    out[in_size] = (float)rn__elementwise(RN__PRELU_BACKWARD, x, dy, out, in_size, 0.25f);
}
#endif

static void test_threads_identical(void)
{
#ifdef _OPENMP
    rn__conv_geometry g;
    size_t in_size, out_size, w_size, total;
    float *x, *w, *dy, *results[3];
    int threads, t;
    conv_geometry(&g, 11, 8, 16, 28, 28, 5, 1, 2);
    in_size = (size_t)11 * 8 * 28 * 28, out_size = (size_t)11 * 16 * 28 * 28, w_size = 16 * 8 * 25;
    total = out_size + 2 * in_size + w_size + 16 + 300 * 200 + 1;
    x = random_array(in_size), w = random_array(300 * 150), dy = random_array(out_size);
    for (t = 0; t < RN__TABLE_COUNT; t++) {
        if (!rn__cpu_has(rn__kernel_tables[t].isa)) continue;
        rn_set_isa(rn__kernel_tables[t].isa);
        for (threads = 1; threads <= 3; threads++) {
            results[threads - 1] = (float *)malloc(total * sizeof(float));
            rn_set_threads(threads);
            run_conv_net_pass(&g, x, w, dy, results[threads - 1]);
        }
        CHECK(memcmp(results[0], results[1], total * sizeof(float)) == 0);
        CHECK(memcmp(results[0], results[2], total * sizeof(float)) == 0);
        for (threads = 0; threads < 3; threads++) free(results[threads]);
    }
    rn_set_threads(0);
    free(x), free(w), free(dy);
#else
    CHECK(rn_threads() == 1);
    CHECK(rn_set_threads(4) == RN_OK && rn_threads() == 1);
#endif
}

/* RELUNET_ISA, when set to something this machine has, is what runs. */
static void test_environment_choice(void)
{
    const char *forced = getenv("RELUNET_ISA");
    if (forced != NULL && rn__cpu_has(forced)) CHECK(strcmp(rn_isa_name(), forced) == 0);
}

int main(int argc, char **argv)
{
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    int count = usable_tables(tables), i;
    if (argc > 1 && strcmp(argv[1], "--isa-list") == 0) {
        for (i = 0; i < count; i++) printf("%s\n", tables[i]->isa);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--isa-skipped") == 0) {
        for (i = 0; i < RN__TABLE_COUNT; i++)
            if (!rn__cpu_has(rn__kernel_tables[i].isa)) printf("%s\n", rn__kernel_tables[i].isa);
        return 0;
    }
    rn_rng_seed(&rng, 5, 0);
    RUN(test_environment_choice);
    printf("instruction sets: ");
    for (i = 0; i < count; i++) printf("%s ", tables[i]->isa);
    printf("(threads %d)\n", rn_threads());
    RUN(test_gemm_small_shapes);
    RUN(test_gemm_blocked_shapes);
    RUN(test_gemm_empty_depth);
    RUN(test_conv_shapes);
    RUN(test_conv_study_layers);
    RUN(test_activation_kernels);
    RUN(test_relu_keeps_nan);
    RUN(test_nan_reaches_the_loss);
    RUN(test_set_isa_errors);
    RUN(test_threads_identical);
    return finish();
}
