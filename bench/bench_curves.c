/* bench_curves.c - nanoseconds per element of e^x, tanh and the sigmoid,
 * and of the activations built on them (forward and backward together),
 * per instruction set, against the scalar reference (the C library's
 * expf and tanhf).
 *
 * 16384 elements (in L1/L2), the median of 41 runs, one thread. For the
 * three curves also the largest error relative to the exact value (the C
 * library's exp and tanh in double) over those elements.
 *
 *     bench_curves [--tsv FILE]   --tsv: the figures as rows (bench.h)
 */
#define _POSIX_C_SOURCE 199309L
#define RELUNET_IMPLEMENTATION
#include "relunet.h"
#include "bench.h"

enum { ELEMENTS = 16384 };

typedef struct curve_case {
    const char *name;
    int curve;           /* 0 e^x, 1 tanh, 2 sigmoid; -1: the activation below */
    rn_act_kind kind;    /* forward then backward */
    float params[RN_ACT_MAX_PARAMS];
} curve_case;

static const curve_case cases[] = {
    {"exp", 0, RN_ACT_IDENTITY, {0}},
    {"tanh", 1, RN_ACT_IDENTITY, {0}},
    {"sigmoid", 2, RN_ACT_IDENTITY, {0}},
    {"ATanh fwd+bwd", -1, RN_ACT_ATANH, {1.2f, 0.9f, 0.1f, -0.2f}},
    {"ASigmoid fwd+bwd", -1, RN_ACT_ASIGMOID, {1.2f, 0.9f, 0.1f, -0.2f}},
    {"mix_adaptive fwd+bwd", -1, RN_ACT_MIX_ADAPTIVE, {0.3f, 0.3f, 0.4f, 1.2f, 0.9f, 0.1f, -0.2f}},
    {"mix_fixed fwd+bwd", -1, RN_ACT_MIX_FIXED, {0.3f, 0.3f, 0.4f}}};

static float x[ELEMENTS], y[ELEMENTS], dy[ELEMENTS], dx[ELEMENTS];
static const curve_case *current;

static void run_case(void *context)
{
    const rn__kernel_table *kt = rn__kernels();
    double dp[RN_ACT_MAX_PARAMS] = {0};
    (void)context;
    if (current->curve == 0) kt->exp_values(x, y, ELEMENTS);
    else if (current->curve == 1) kt->tanh_values(x, y, ELEMENTS);
    else if (current->curve == 2) kt->sigmoid_values(x, y, ELEMENTS);
    else {
        rn__act_table[current->kind].forward(x, y, ELEMENTS, current->params);
        rn__act_table[current->kind].backward(x, y, dy, dx, ELEMENTS, current->params, dp);
    }
}

/* The exact value of the case's curve at v. */
static double exact_curve(int curve, double v)
{
    if (curve == 0) return exp(v);
    if (curve == 1) return tanh(v);
    return 1.0 / (1.0 + exp(-v));
}

/* The largest |y - exact| / |exact| of the last run of a curve. */
static double largest_relative_error(int curve)
{
    double largest = 0.0;
    int i;
    for (i = 0; i < ELEMENTS; i++) {
        double exact = exact_curve(curve, x[i]), error = fabs(y[i] - exact) / fabs(exact);
        if (error > largest) largest = error;
    }
    return largest;
}

int main(int argc, char **argv)
{
    const char *isas[8];
    int isa_count = bench_isas(isas), c, i;
    rn_rng rng;
    if (bench_take_tsv(argc, argv) < 0) return 1;
    rn_rng_seed(&rng, 7, 0);
    for (i = 0; i < ELEMENTS; i++) {
        x[i] = 8.0f * rn_rng_uniform(&rng) - 4.0f;
        dy[i] = rn_rng_uniform(&rng) - 0.5f;
    }
    rn_set_threads(1);
    printf("%-22s %-7s %8s %10s %14s\n", "curve", "isa", "ns/elem", "vs scalar", "largest error");
    for (c = 0; c < (int)(sizeof cases / sizeof cases[0]); c++) {
        double scalar_ns = 0.0;
        current = &cases[c];
        for (i = 0; i < isa_count; i++) {
            double ns;
            rn_set_isa(isas[i]);
            ns = bench_median_time(run_case, NULL, 41) * 1e9 / ELEMENTS;
            if (i == 0) scalar_ns = ns;
            printf("%-22s %-7s %8.2f %9.1fx", current->name, isas[i], ns, scalar_ns / ns);
            bench_row(current->name, isas[i], 1, ns, "ns/elem");
            bench_row(current->name, isas[i], 1, scalar_ns / ns, "vs scalar");
            if (current->curve >= 0) {
                double error = largest_relative_error(current->curve);
                printf(" %14.2e", error);
                bench_row(current->name, isas[i], 1, error, "relative error");
            }
            printf("\n");
        }
    }
    return 0;
}
