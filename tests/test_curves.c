/* test_curves.c - e^x, tanh and the sigmoid of every kernel table against
 * double precision, and the SIMD tables against the scalar one.
 *
 * Every table must be within 2e-7 of the exact value relative to it, or
 * 2^-149 (one subnormal step) absolute where the result is subnormal, over
 * a sweep of every 509th float bit pattern (all magnitudes, subnormals,
 * infinities, NaNs) and a dense uniform sweep over [-105, 90], where the
 * results are neither 0, 1 nor infinite. 32-bit NEON flushes subnormals
 * to zero by the architecture's rule, so there the absolute bound is FLT_MIN.
 * Each table's worst relative error is printed.
 */
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "harness.h"
#include "kernel_tables.h"

#include <float.h>
#include <string.h>

enum { CURVE_EXP, CURVE_TANH, CURVE_SIGMOID, CURVE_COUNT };
static const char *const curve_names[CURVE_COUNT] = {"exp", "tanh", "sigmoid"};

static void run_curve(const rn__kernel_table *table, int curve, const float *x, float *y, size_t n)
{
    if (curve == CURVE_EXP) table->exp_values(x, y, n);
    else if (curve == CURVE_TANH) table->tanh_values(x, y, n);
    else table->sigmoid_values(x, y, n);
}

static double exact_curve(int curve, double x)
{
    if (curve == CURVE_EXP) return exp(x);
    if (curve == CURVE_TANH) return tanh(x);
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

static int flushes_subnormals(const rn__kernel_table *table)
{
#if defined(__arm__)
    return strcmp(table->isa, "neon") == 0;
#else
    (void)table;
    return 0;
#endif
}

/* Whether y is an acceptable float for the exact value at x, and the
   relative error it has (0 for the exact special cases). */
static int acceptable(const rn__kernel_table *table, float x, double exact, float y,
                      double *relative)
{
    double floor = flushes_subnormals(table) ? FLT_MIN : ldexp(1.0, -149);
    *relative = 0.0;
    if (x != x) return y != y;
    if (y != y) return 0;
    if (exact > FLT_MAX) return y > FLT_MAX || (double)y >= exact * (1.0 - 2e-7);
    if (fabs(exact) >= FLT_MIN) *relative = fabs(y - exact) / fabs(exact);
    return fabs(y - exact) <= 2e-7 * fabs(exact) + floor;
}

static float float_of_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

enum { BATCH = 4096 };

/* Runs the batch through every table and curve; returns the failures and
   raises worst[table][curve]. */
static int check_batch(const rn__kernel_table **tables, int count, const float *x, size_t n,
                       double worst[][CURVE_COUNT])
{
    static float y[BATCH];
    static double exact[BATCH];
    int failures = 0, t, curve;
    size_t i;
    for (curve = 0; curve < CURVE_COUNT; curve++) {
        for (i = 0; i < n; i++) exact[i] = exact_curve(curve, x[i]);
        for (t = 0; t < count; t++) {
            run_curve(tables[t], curve, x, y, n);
            for (i = 0; i < n; i++) {
                double relative;
                if (!acceptable(tables[t], x[i], exact[i], y[i], &relative)) {
                    if (failures++ < 5)
                        printf("  %s %s(%.9g) = %.9g, exact %.9g\n", tables[t]->isa,
                               curve_names[curve], (double)x[i], (double)y[i], exact[i]);
                }
                if (relative > worst[t][curve]) worst[t][curve] = relative;
            }
        }
    }
    return failures;
}

static void test_accuracy(void)
{
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    double worst[RN__TABLE_COUNT][CURVE_COUNT];
    static float x[BATCH];
    int count = usable_tables(tables), failures = 0, t, curve;
    size_t n = 0;
    uint64_t bits;
    long step;
    memset(worst, 0, sizeof worst);
    for (bits = 0; bits <= 0xffffffffu; bits += 509) {
        x[n++] = float_of_bits((uint32_t)bits);
        if (n == BATCH) failures += check_batch(tables, count, x, n, worst), n = 0;
    }
    for (step = 0; step <= 2000000; step++) {
        x[n++] = (float)(-105.0 + 195.0 * step / 2000000.0);
        if (n == BATCH) failures += check_batch(tables, count, x, n, worst), n = 0;
    }
    failures += check_batch(tables, count, x, n, worst);
    CHECK(failures == 0);
    for (t = 0; t < count; t++) {
        printf("  %-7s worst relative error:", tables[t]->isa);
        for (curve = 0; curve < CURVE_COUNT; curve++)
            printf(" %s %.3g", curve_names[curve], worst[t][curve]);
        printf("\n");
    }
}

/* The limits and signed zeros, exactly. */
static void test_special_values(void)
{
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    int count = usable_tables(tables), t;
    float x[6], y[6];
    x[0] = INFINITY, x[1] = -INFINITY, x[2] = 0.0f, x[3] = -0.0f, x[4] = NAN, x[5] = -NAN;
    for (t = 0; t < count; t++) {
        run_curve(tables[t], CURVE_EXP, x, y, 6);
        CHECK(y[0] == INFINITY && y[1] == 0.0f && y[2] == 1.0f && y[3] == 1.0f);
        CHECK(y[4] != y[4] && y[5] != y[5]);
        run_curve(tables[t], CURVE_TANH, x, y, 6);
        CHECK(y[0] == 1.0f && y[1] == -1.0f && y[2] == 0.0f && !signbit(y[2]));
        CHECK(y[3] == 0.0f && signbit(y[3]));
        CHECK(y[4] != y[4] && y[5] != y[5]);
        run_curve(tables[t], CURVE_SIGMOID, x, y, 6);
        CHECK(y[0] == 1.0f && y[1] == 0.0f && y[2] == 0.5f && y[3] == 0.5f);
        CHECK(y[4] != y[4] && y[5] != y[5]);
    }
}

/* Every length from 0 to 70 and a long odd one: each element's result is
   the one it gets in a long array (vector body or padded tail alike), in
   place as well, within the bound of the scalar reference's, and nothing
   past the end is written. */
static void test_lengths(void)
{
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    enum { LONG = 1031 };
    static float x[LONG + 1], whole[LONG], y[LONG + 1], reference[LONG];
    int count = usable_tables(tables), t, curve, mismatches = 0;
    size_t n, i;
    rn_rng rng;
    rn_rng_seed(&rng, 11, 0);
    for (i = 0; i < LONG; i++) x[i] = 24.0f * rn_rng_uniform(&rng) - 12.0f;
    for (t = 0; t < count; t++)
        for (curve = 0; curve < CURVE_COUNT; curve++) {
            run_curve(tables[t], curve, x, whole, LONG);
            run_curve(tables[0], curve, x, reference, LONG);
            for (i = 0; i < LONG; i++)
                mismatches += fabsf(whole[i] - reference[i]) > 4e-7f * fabsf(reference[i]);
            for (n = 0; n <= 70 || n == LONG; n = n == 70 ? LONG : n + 1) {
                size_t offset = n % 3; /* unaligned starts too */
                if (offset + n > LONG) offset = 0;
                y[offset + n] = 12345.0f;
                run_curve(tables[t], curve, x + offset, y + offset, n);
                for (i = 0; i < n; i++) {
                    float in_place = x[offset + i];
                    mismatches += memcmp(&y[offset + i], &whole[offset + i], sizeof(float)) != 0;
                    run_curve(tables[t], curve, &in_place, &in_place, 1);
                    mismatches += memcmp(&in_place, &whole[offset + i], sizeof(float)) != 0;
                }
                mismatches += y[offset + n] != 12345.0f;
            }
        }
    CHECK(mismatches == 0);
}

/* The ATanh/ASigmoid backward kernel of every table against the scalar
   one on every length to 70 and two that cross the summing blocks: the
   input gradient within 1e-6 relative, the parameter sums within 1e-5 of
   the sum of their terms' magnitudes. */
static void test_affine_backward(void)
{
    const rn__kernel_table *tables[RN__TABLE_COUNT];
    enum { LONG = 5003 };
    static float x[LONG], dy[LONG], f[LONG], dx[LONG], reference[LONG];
    int count = usable_tables(tables), t, k, mismatches = 0;
    size_t n, i;
    rn_rng rng;
    rn_rng_seed(&rng, 13, 0);
    for (i = 0; i < LONG; i++) {
        x[i] = 4.0f * rn_rng_uniform(&rng) - 2.0f;
        dy[i] = rn_rng_uniform(&rng) - 0.5f;
        f[i] = 2.0f * rn_rng_uniform(&rng) - 1.0f;
    }
    for (t = 1; t < count; t++)
        for (n = 0; n <= 70 || n == 1031 || n == LONG; n = n == 70 ? 1031 : n == 1031 ? LONG : n + 1) {
            double sums[4], expected[4], magnitude = 0.0;
            memcpy(dx, f, n * sizeof(float));
            memcpy(reference, f, n * sizeof(float));
            tables[t]->affine_backward(x, dy, dx, n, 1.3f, 0.7f, 1.0f, 0.0f, sums);
            tables[0]->affine_backward(x, dy, reference, n, 1.3f, 0.7f, 1.0f, 0.0f, expected);
            for (i = 0; i < n; i++) {
                mismatches += fabsf(dx[i] - reference[i]) > 1e-6f * fabsf(reference[i]) + 1e-30f;
                magnitude += fabs(dy[i]) * 2.0 + fabs(x[i] * dy[i]);
            }
            for (k = 0; k < 4; k++) mismatches += fabs(sums[k] - expected[k]) > 1e-5 * (magnitude + 1e-30);
        }
    CHECK(mismatches == 0);
}

int main(void)
{
    RUN(test_affine_backward);
    RUN(test_special_values);
    RUN(test_lengths);
    RUN(test_accuracy);
    return finish();
}
