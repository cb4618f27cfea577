/* adaptive_mixtures.c - the study "Customization of Activation Layer for
 * Classification" (after Hu et al. 2022, "Adaptively customizing activation
 * functions for various layers") on CIFAR-10 with its LeNet: sigmoid,
 * ASigmoid, tanh, ATanh, ReLU, AReLU and the two mixtures
 *     method 1: X ATanh + Y ASigmoid + Z AReLU (one a, b, c, d per layer)
 *     method 2: X tanh + Y sigmoid + Z ReLU
 * with X, Y, Z = alpha, beta, gamma / (alpha + beta + gamma) learned per
 * layer; then both mixtures retrained with X, Y, Z frozen at 1/3 and with
 * the unnormalised weights frozen at 1.
 *
 *     cc -O2 -I/usr/include/stb examples/adaptive_mixtures.c -o adaptive_mixtures -lm
 *     ./adaptive_mixtures --data DIR          (see --help)
 *
 * Writes REPORT.md, CSV files and SVG charts to results/adaptive_mixtures/.
 */
#define _POSIX_C_SOURCE 200809L
#define RELUNET_IMPLEMENTATION
#include "../relunet_data.h"
#define REPORT_IMPLEMENTATION
#include "report.h"
#define STUDY_IMPLEMENTATION
#include "study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: adaptive_mixtures [options]\n"
    "Trains the study's LeNet on CIFAR-10 with 8 activations, then retrains the two\n"
    "mixtures with their weights X, Y, Z frozen, and writes a report.\n"
    "  --epochs N       epochs per training (default 8; the study ran 80); the learning\n"
    "                   rate is divided by 10 after 7/8 of them (epoch 70 of 80)\n"
    "  --arch A         study: second conv 14x14 as in the study's code (default);\n"
    "                   lenet5: the classic 5x5\n"
    "  --train N        training images, a stratified subsample (default 50000: all)\n"
    "  --test N         test images (default 10000, all of them)\n"
    "  --lr X           SGD learning rate (default 0.001), batch 64\n"
    "  --data DIR       CIFAR-10: the cifar-10-batches-bin folder, or one that\n"
    "                   holds it (default $RELUNET_DATA, the same rule;\n"
    "                   scripts/get-cifar10.sh DIR fetches it)\n"
    "  --out DIR        output folder (default results/adaptive_mixtures)\n"
    "  --seed N         weights, batch order and dropout (default 1)\n"
    "  --jobs N         trainings run side by side (default: processors; 1 on systems\n"
    "                   without fork)\n"
    "  --trials K       every training K times, trial t with seed --seed + t - 1; the\n"
    "                   report adds the study's Table 2 layout (max precision at its\n"
    "                   epoch, last-epoch precision: mean +- sd over the trials) and\n"
    "                   Table 5's for the frozen-weight retraining (default 1)\n"
    "  --quick          seconds: 192 training and 200 test images, 2 epochs, lenet5\n"
    "  --help           this text\n"
    STUDY_UNITS_USAGE;

typedef struct options {
    study_options common; /* --data, --out, --seed, --jobs, --train, --test, --epochs */
    int study_arch, trials;
    double lr;
} options;

/* One training: an activation, and for the retrainings how X, Y, Z are held. */
enum { LEARNED, FROZEN_THIRD, FROZEN_ONE };

typedef struct run_spec {
    const char *label;
    rn_act_kind kind;
    int weights; /* LEARNED, FROZEN_THIRD or FROZEN_ONE */
} run_spec;

static const run_spec runs[] = {
    {"Sigmoid", RN_ACT_SIGMOID, LEARNED},
    {"ASigmoid", RN_ACT_ASIGMOID, LEARNED},
    {"Tanh", RN_ACT_TANH, LEARNED},
    {"ATanh", RN_ACT_ATANH, LEARNED},
    {"ReLU", RN_ACT_RELU, LEARNED},
    {"AReLU", RN_ACT_ARELU, LEARNED},
    {"Method 1", RN_ACT_MIX_ADAPTIVE, LEARNED},
    {"Method 2", RN_ACT_MIX_FIXED, LEARNED},
    {"Method 1, X=Y=Z=1/3 frozen", RN_ACT_MIX_ADAPTIVE, FROZEN_THIRD},
    {"Method 1, weights 1 frozen", RN_ACT_MIX_ADAPTIVE, FROZEN_ONE},
    {"Method 2, X=Y=Z=1/3 frozen", RN_ACT_MIX_FIXED, FROZEN_THIRD},
    {"Method 2, weights 1 frozen", RN_ACT_MIX_FIXED, FROZEN_ONE},
};
enum { N_RUNS = sizeof runs / sizeof runs[0], N_COMPARED = 8, N_ACT_LAYERS = 3 };

static const char *const mix_names[3] = {"mix_alpha", "mix_beta", "mix_gamma"};

enum { MAX_EPOCHS = 500 };

/* What one training leaves behind: plain data, so that it can come back
   from a child process. */
typedef struct run_result {
    double train_loss[MAX_EPOCHS], test_loss[MAX_EPOCHS];
    double test_accuracy[MAX_EPOCHS], test_precision[MAX_EPOCHS];
    study_metrics final;
    double best_precision;
    int best_epoch;
    double xyz[N_ACT_LAYERS][3]; /* learned X, Y, Z per activation layer (mixtures) */
    double seconds, images_per_second;
} run_result;

/* Everything a training reads. */
typedef struct study {
    options o;
    rn_dataset train, test;
} study;

static void set_defaults(options *o, int quick)
{
    memset(o, 0, sizeof *o);
    study_defaults(&o->common, "results/adaptive_mixtures", quick ? 2 : 8, quick ? 192 : 50000,
                   quick ? 200 : 10000);
    o->study_arch = !quick;
    o->trials = 1;
    o->lr = 1e-3;
}

/* A study_option_fn for this example's own options. */
static int own_option(int argc, char **argv, int *i, void *context)
{
    options *o = (options *)context;
    const char *arch = NULL;
    int found;
    if ((found = study_number_option(argc, argv, i, "--lr", 1e-7, 10.0, &o->lr)) != 0) return found;
    if ((found = study_int_option(argc, argv, i, "--trials", 1, 1000, &o->trials)) != 0) return found;
    if ((found = study_option_value(argc, argv, i, "--arch", &arch)) <= 0) return found;
    o->study_arch = strcmp(arch, "study") == 0;
    if (o->study_arch || strcmp(arch, "lenet5") == 0) return 1;
    fprintf(stderr, "--arch: '%s' is not study or lenet5\n", arch);
    return -1;
}

/* 0: go on; 1: done (help shown); -1: bad arguments. */
static int parse_options(int argc, char **argv, options *o)
{
    if (study_help(argc, argv, usage)) return 1;
    set_defaults(o, study_has_flag(argc, argv, "--quick"));
    if (study_parse_options(argc, argv, &o->common, own_option, o) != 0) return -1;
    if (o->common.epochs <= MAX_EPOCHS) return 0;
    fprintf(stderr, "--epochs: at most %d\n", MAX_EPOCHS);
    return -1;
}

/* conv 5x5 3->6 -> BN -> act -> pool -> conv 6->16 -> BN -> act -> pool ->
   linear 1024->120 -> BN -> act -> dropout 0.1 -> linear 120->10. "Same"
   padding: TensorFlow pads an even 14x14 kernel by 6 before and 7 after;
   ours is symmetric, so pad 7 gives 17x17 and the pool drops the last row
   and column - the same map shifted by one pixel. */
static rn_net *build_net(int study_arch, const rn_act_desc *act)
{
    rn_net *net = rn_net_new(3, (int[]){3, 32, 32});
    int kernel = study_arch ? 14 : 5, status;
    if (net == NULL) return NULL;
    status = rn_net_add_conv2d(net, 6, 5, 1, 2);
    if (status == RN_OK) status = rn_net_add_batchnorm(net);
    if (status == RN_OK) status = rn_net_add_activation_ex(net, act);
    if (status == RN_OK) status = rn_net_add_maxpool2d(net, 2, 2);
    if (status == RN_OK) status = rn_net_add_conv2d(net, 16, kernel, 1, kernel / 2);
    if (status == RN_OK) status = rn_net_add_batchnorm(net);
    if (status == RN_OK) status = rn_net_add_activation_ex(net, act);
    if (status == RN_OK) status = rn_net_add_maxpool2d(net, 2, 2);
    if (status == RN_OK) status = rn_net_add_flatten(net);
    if (status == RN_OK) status = rn_net_add_linear(net, 120);
    if (status == RN_OK) status = rn_net_add_batchnorm(net);
    if (status == RN_OK) status = rn_net_add_activation_ex(net, act);
    if (status == RN_OK) status = rn_net_add_dropout(net, 0.1f);
    if (status == RN_OK) status = rn_net_add_linear(net, 10);
    if (status != RN_OK) {
        fprintf(stderr, "cannot build the network: %s\n", rn_last_error());
        rn_net_free(net);
        return NULL;
    }
    return net;
}

/* X, Y, Z of every activation layer: the mixture weights over their sum (or
   as they are, when unnormalised). */
static void read_xyz(rn_net *net, int unnormalized, double xyz[N_ACT_LAYERS][3])
{
    rn_param *weights[3][N_ACT_LAYERS];
    int k, layer, count = 0;
    for (k = 0; k < 3; k++)
        count = rn_net_select(net, RN_PARAMS_NAMED(mix_names[k]), weights[k], N_ACT_LAYERS);
    for (layer = 0; layer < N_ACT_LAYERS; layer++) {
        double sum = 0.0;
        for (k = 0; k < 3; k++) sum += layer < count ? weights[k][layer]->value.data[0] : NAN;
        for (k = 0; k < 3; k++)
            xyz[layer][k] = layer >= count ? NAN
                            : unnormalized ? weights[k][layer]->value.data[0]
                                           : weights[k][layer]->value.data[0] / sum;
    }
}

/* The learning rate is divided by 10 from this epoch (from 1) on: 71 of 80. */
static int lr_drop_epoch(const options *o) { return o->common.epochs * 7 / 8 + 1; }

/* What the per-epoch hook needs: the network, the test set, the result. */
typedef struct epoch_context {
    rn_net *net;
    const rn_dataset *test;
    run_result *result;
} epoch_context;

/* A study_epoch_fn: the test metrics after every epoch, and the best precision. */
static int evaluate_epoch(void *context, int epoch, double train_loss)
{
    epoch_context *c = (epoch_context *)context;
    run_result *r = c->result;
    if (study_evaluate(c->net, c->test, &r->final) != 0) return -1;
    r->train_loss[epoch - 1] = train_loss;
    r->test_loss[epoch - 1] = r->final.loss;
    r->test_accuracy[epoch - 1] = r->final.accuracy;
    r->test_precision[epoch - 1] = r->final.precision;
    if (r->final.precision > r->best_precision) {
        r->best_precision = r->final.precision;
        r->best_epoch = epoch;
    }
    return 0;
}

/* Task `task`: training task % N_RUNS of runs[], trial task / N_RUNS; a study_task_fn. */
static int train_one(int task, void *context, void *result)
{
    study *s = (study *)context;
    const options *o = &s->o;
    const run_spec *spec = &runs[task % N_RUNS];
    uint64_t seed = (uint64_t)o->common.seed + (uint64_t)(task / N_RUNS);
    run_result *r = (run_result *)result;
    epoch_context hook;
    study_training t;
    rn_act_desc act;
    int k, status;
    double start = report_seconds();
    memset(r, 0, sizeof *r);
    memset(&t, 0, sizeof t);
    memset(&act, 0, sizeof act);
    act.kind = spec->kind;
    act.unnormalized = spec->weights == FROZEN_ONE;
    if ((t.net = build_net(o->study_arch, &act)) == NULL) return -1;
    /* TensorFlow's defaults, as the study's code had: Glorot uniform, zero biases */
    rn_net_init(t.net, RN_INIT_XAVIER_UNIFORM, 0.0f, seed);
    if (spec->weights != LEARNED)
        for (k = 0; k < 3; k++) rn_net_set_frozen(t.net, RN_PARAMS_NAMED(mix_names[k]), 1);
    t.opt = rn_optim_new(t.net, &(rn_optim_desc){.kind = RN_SGD, .lr = (float)o->lr});
    if (t.opt == NULL) fprintf(stderr, "%s\n", rn_last_error());
    t.train = &s->train;
    t.batch_size = 64;
    t.epochs = o->common.epochs;
    t.lr_drop_epoch = lr_drop_epoch(o);
    t.shuffle_seed = seed;
    t.epoch_end = evaluate_epoch;
    t.context = &hook;
    t.label = spec->label;
    t.plain_progress = o->common.jobs > 1;
    hook.net = t.net;
    hook.test = &s->test;
    hook.result = r;
    r->best_precision = -1.0;
    status = t.opt && study_train(&t) == 0 ? 0 : -1;
    r->seconds = report_seconds() - start;
    r->images_per_second = (double)o->common.epochs * s->train.inputs.shape[0] / r->seconds;
    read_xyz(t.net, act.unnormalized, r->xyz);
    rn_optim_free(t.opt);
    rn_net_free(t.net);
    return status;
}

/* ----- report ----- */

static int is_mixture(const run_spec *spec)
{
    return spec->kind == RN_ACT_MIX_ADAPTIVE || spec->kind == RN_ACT_MIX_FIXED;
}

static int write_csv_files(const options *o, const run_result *results)
{
    static const char *const curves_header[] = {"activation", "epoch", "train_loss", "test_loss",
                                                "test_accuracy", "test_macro_precision"};
    static const char *const xyz_header[] = {"run", "layer", "X", "Y", "Z"};
    static const char *const results_header[] = {
        "activation", "test_accuracy", "test_macro_precision", "best_precision", "best_epoch",
        "top5_error", "seconds", "images_per_second"};
    report_csv curves, xyz, table;
    int i, e, layer, k, failed = 0;
    failed |= report_csv_open(&curves, o->common.out, "curves.csv", curves_header, 6);
    failed |= report_csv_open(&xyz, o->common.out, "xyz.csv", xyz_header, 5);
    failed |= report_csv_open(&table, o->common.out, "results.csv", results_header, 8);
    for (i = 0; i < N_RUNS && !failed; i++) {
        const run_result *r = &results[i];
        for (e = 0; e < o->common.epochs; e++) {
            report_csv_str(&curves, runs[i].label);
            report_csv_int(&curves, e + 1);
            report_csv_num(&curves, r->train_loss[e]);
            report_csv_num(&curves, r->test_loss[e]);
            report_csv_num(&curves, r->test_accuracy[e]);
            report_csv_num(&curves, r->test_precision[e]);
        }
        for (layer = 0; is_mixture(&runs[i]) && layer < N_ACT_LAYERS; layer++) {
            report_csv_str(&xyz, runs[i].label);
            report_csv_int(&xyz, layer + 1);
            for (k = 0; k < 3; k++) report_csv_num(&xyz, r->xyz[layer][k]);
        }
        report_csv_str(&table, runs[i].label);
        report_csv_num(&table, r->final.accuracy);
        report_csv_num(&table, r->final.precision);
        report_csv_num(&table, r->best_precision);
        report_csv_int(&table, r->best_epoch);
        report_csv_num(&table, r->final.top5_error);
        report_csv_num(&table, r->seconds);
        report_csv_num(&table, r->images_per_second);
    }
    failed |= report_csv_close(&curves);
    failed |= report_csv_close(&xyz);
    failed |= report_csv_close(&table);
    return failed ? -1 : 0;
}

enum { TRAIN_LOSS, TEST_LOSS, TEST_PRECISION };

/* A chart of one per-epoch quantity for runs [first, first + count). */
static int chart_runs(const options *o, const run_result *results, int first, int count,
                      int quantity, const char *name, const char *title, const char *y_label)
{
    static double epochs[MAX_EPOCHS];
    report_series series[N_RUNS];
    report_chart chart;
    int i, e;
    for (e = 0; e < o->common.epochs; e++) epochs[e] = e + 1;
    for (i = 0; i < count; i++) {
        const run_result *r = &results[first + i];
        series[i].name = runs[first + i].label;
        series[i].x = epochs;
        series[i].y = quantity == TRAIN_LOSS  ? r->train_loss
                      : quantity == TEST_LOSS ? r->test_loss
                                              : r->test_precision;
        series[i].n = o->common.epochs;
    }
    memset(&chart, 0, sizeof chart);
    chart.title = title;
    chart.x_label = "epoch";
    chart.y_label = y_label;
    return report_svg_line(o->common.out, name, &chart, series, count);
}

static int write_charts(const options *o, const run_result *results)
{
    return chart_runs(o, results, 0, N_COMPARED, TRAIN_LOSS, "train_loss.svg",
                      "Training loss per epoch", "cross-entropy") |
           chart_runs(o, results, 0, N_COMPARED, TEST_LOSS, "test_loss.svg",
                      "Test loss per epoch", "cross-entropy") |
           chart_runs(o, results, 0, N_COMPARED, TEST_PRECISION, "test_precision.svg",
                      "Test macro precision per epoch (all test images)", "macro precision") |
           chart_runs(o, results, 6, N_RUNS - 6, TEST_PRECISION, "mixtures_precision.svg",
                      "Mixtures: learned vs frozen X, Y, Z", "macro precision");
}

/* A table row: the label, then numbers with 4 decimals (n/a for NaN). */
static void md_row(FILE *md, const char *label, const double *values, int n)
{
    report_md_row_numbers(md, label, values, n, 4);
}

/* A results row: accuracy, precision, best precision, its epoch, then the study's value
   (when study > 0). */
static void md_result_row(FILE *md, const char *label, const run_result *r, double study)
{
    char cells[6][32];
    const char *row[6];
    int k, n = study > 0 ? 6 : 5;
    snprintf(cells[0], sizeof cells[0], "%s", label);
    snprintf(cells[1], sizeof cells[1], "%.4f", r->final.accuracy);
    snprintf(cells[2], sizeof cells[2], "%.4f", r->final.precision);
    snprintf(cells[3], sizeof cells[3], "%.4f", r->best_precision);
    snprintf(cells[4], sizeof cells[4], "%d", r->best_epoch);
    snprintf(cells[5], sizeof cells[5], "%.4f", study);
    for (k = 0; k < 6; k++) row[k] = cells[k];
    report_md_row(md, row, n);
}

/* What the trial tables show of a training. */
static double best_precision_of(const run_result *r) { return r->best_precision; }
static double best_epoch_of(const run_result *r) { return r->best_epoch; }
static double last_precision_of(const run_result *r) { return r->final.precision; }

/* "mean +- sd" of value() over the trials of training i (results[i + t * N_RUNS]). */
static void trial_spread(char *cell, size_t size, const options *o, const run_result *results, int i,
                         double (*value)(const run_result *), int decimals)
{
    double sum = 0.0, squares = 0.0;
    int t;
    for (t = 0; t < o->trials; t++) {
        double v = value(&results[i + t * N_RUNS]);
        sum += v;
        squares += v * v;
    }
    sum /= o->trials;
    snprintf(cell, size, "%.*f ± %.*f", decimals, sum, decimals,
             sqrt(fmax(0.0, (squares / o->trials - sum * sum) * o->trials / (o->trials - 1))));
}

/* --trials: the study's Table 2 (trainings [0, N_COMPARED)) and Table 5
   (the frozen retraining) layouts, mean +- sd over the trials. */
static void write_trials(FILE *md, const options *o, const run_result *results)
{
    static const char *const header[] = {"Activation", "max precision", "(at epoch)",
                                         "last epoch precision"};
    int table, i;
    for (table = 0; table < 2; table++) {
        fprintf(md, "\n## %s over %d trials (the study's Table %d layout)\n\n",
                table ? "Retraining with X, Y, Z frozen" : "Precision", o->trials, table ? 5 : 2);
        report_md_header(md, header, 4);
        for (i = table ? N_COMPARED : 0; i < (table ? N_RUNS : N_COMPARED); i++) {
            char best[64], epoch[64], last[64];
            trial_spread(best, sizeof best, o, results, i, best_precision_of, 4);
            trial_spread(epoch, sizeof epoch, o, results, i, best_epoch_of, 1);
            trial_spread(last, sizeof last, o, results, i, last_precision_of, 4);
            fprintf(md, "| %s | %s | (%s) | %s |\n", runs[i].label, best, epoch, last);
        }
    }
    fprintf(md, "\nmean ± sd over trials with seeds %d to %d; the tables above are trial 1.\n",
            o->common.seed, o->common.seed + o->trials - 1);
}

/* The study's findings, each checked against this run. */
static void report_findings(FILE *md, const study_judgement *j, const run_result *results)
{
    static const int adaptive[3][2] = {{1, 0}, {3, 2}, {5, 4}}; /* ASigmoid-Sigmoid, ... */
    double best_single = 0.0, worst_gap = 0.0;
    int i, layer, k, better = 0;
    for (i = 0; i < 6; i++)
        if (results[i].final.precision > best_single) best_single = results[i].final.precision;
    study_findings_begin(md, j);
    fprintf(md, "- *Method 1 has the best precision of all eight* (study: 0.6771). Here method 1 "
            "%.4f, the best single activation %.4f: %s.\n", results[6].final.precision,
            best_single, study_verdict(j, results[6].final.precision > best_single &&
                                              results[6].final.precision >=
                                                  results[7].final.precision));
    fputs("- *Each adaptive activation beats its fixed form* (study: ASigmoid 0.4797 > sigmoid "
          "0.3284, ATanh 0.6683 > tanh 0.4645, AReLU 0.6677 > ReLU 0.5872). Here", md);
    for (i = 0; i < 3; i++) {
        const run_result *a = &results[adaptive[i][0]], *f = &results[adaptive[i][1]];
        better += a->final.precision > f->final.precision;
        fprintf(md, "%s %s %.4f vs %s %.4f", i ? "," : "", runs[adaptive[i][0]].label,
                a->final.precision, runs[adaptive[i][1]].label, f->final.precision);
    }
    fprintf(md, ": %s.\n", study_verdict(j, better == 3));
    for (i = 6; i < N_COMPARED; i++)
        for (layer = 0; layer < N_ACT_LAYERS; layer++)
            for (k = 0; k < 3; k++)
                if (fabs(results[i].xyz[layer][k] - 1.0 / 3.0) > worst_gap)
                    worst_gap = fabs(results[i].xyz[layer][k] - 1.0 / 3.0);
    fprintf(md, "- *The learned X, Y, Z stay about 1/3 in every layer* (taken as: within 0.1). "
            "The farthest from 1/3 here is %.3f away: %s.\n\n", worst_gap,
            study_verdict(j, worst_gap <= 0.1));
}

static int write_report(const options *o, int train_count, const run_result *results,
                        double seconds)
{
    static const char *const table_header[] = {
        "Activation", "Test accuracy", "Macro precision", "Best precision", "at epoch",
        "Study (LeNet, max precision)"};
    static const double study_lenet[N_COMPARED] = {0.3284, 0.4797, 0.4645, 0.6683,
                                                   0.5872, 0.6677, 0.6771, 0.5692};
    static const char *const xyz_header[] = {"Run, layer", "X (tanh)", "Y (sigmoid)", "Z (ReLU)"};
    static const char *const retrain_header[] = {"Run", "Test accuracy", "Macro precision",
                                                 "Best precision", "at epoch"};
    FILE *md = study_report_open(o->common.out);
    char label[96];
    int i, layer;
    study_judgement judgement;
    if (md == NULL) return -1;
    study_judge(&judgement, results[4].train_loss[o->common.epochs - 1], results[4].final.accuracy,
                10); /* ReLU */
    fprintf(md, "# Customization of Activation Layer for Classification: LeNet on CIFAR-10\n\n"
            "The study's LeNet experiment, reproduced with relunet "
            "(`examples/adaptive_mixtures.c`). Network: conv 5x5 3->6 (same padding) -> batch "
            "norm -> activation -> max pool 2 -> conv %s 6->16 (same padding) -> batch norm -> "
            "activation -> max pool 2 -> linear 1024->120 -> batch norm -> activation -> dropout "
            "0.1 -> linear 120->10. One set of activation parameters per layer (a = b = 1, "
            "c = d = 0 and alpha = beta = gamma = 1 at the start: AReLU starts as the identity, "
            "X = Y = Z = 1/3). Every image standardised on its own; no augmentation; Glorot-"
            "uniform weights (TensorFlow's default).\n\n",
            o->study_arch ? "14x14 (the study's code; symmetric padding 7, so the map is "
                            "shifted by one pixel against TensorFlow's 6/7)"
                          : "5x5 (`--arch lenet5`)");
    fprintf(md, "**This run:** %d training images, %d test images, %d epoch%s of SGD (batch 64, "
            "learning rate %g, divided by 10 from epoch %d on), seed %d; %.0f s in all.\n\n",
            train_count, o->common.test_size, o->common.epochs, o->common.epochs == 1 ? "" : "s",
            o->lr, lr_drop_epoch(o), o->common.seed, seconds);
    fprintf(md, "**How it differs from the study.** The study trained 80 epochs (learning rate "
            "divided by 10 at epoch 70) on all 50,000 images; the default here is shorter so "
            "that the 12 trainings finish in about an hour on 2 cores (run with `--epochs 80 "
            "--train 50000` for the full length: about %.0f times longer). The loss is the "
            "cross-entropy of the logits; the study's code applied softmax twice (a softmax "
            "layer, then a loss that applies it again), which flattens the gradients. The study "
            "scored precision on 64 test images per epoch; here every number is on all %d test "
            "images.\n\n",
            (80.0 * 50000.0) / ((double)o->common.epochs * train_count), o->common.test_size);
    study_judgement_note(md, &judgement);

    fprintf(md, "## Test accuracy and macro precision (after the last epoch)\n\n");
    report_md_header(md, table_header, 6);
    for (i = 0; i < N_COMPARED; i++) md_result_row(md, runs[i].label, &results[i], study_lenet[i]);
    fprintf(md, "\nThe study's column is its Table 1 (LeNet, the best precision it reached in "
            "its 80 epochs, batch 64); this run reports the last epoch's of %d: compare the "
            "ordering, not the values.\n\n", o->common.epochs);
    report_md_image(md, "Test macro precision per epoch", "test_precision.svg");
    report_md_image(md, "Test loss per epoch", "test_loss.svg");
    report_md_image(md, "Training loss per epoch", "train_loss.svg");

    fprintf(md, "\n## Learned X, Y, Z per activation layer\n\n"
            "The study found about 1/3 everywhere, with the last layer shifting from sigmoid "
            "towards ReLU.\n\n");
    report_md_header(md, xyz_header, 4);
    for (i = 6; i < N_COMPARED; i++)
        for (layer = 0; layer < N_ACT_LAYERS; layer++) {
            snprintf(label, sizeof label, "%s, act%d", runs[i].label, layer + 1);
            md_row(md, label, results[i].xyz[layer], 3);
        }

    fprintf(md, "\n## Retraining with X, Y, Z frozen\n\n"
            "\"1/3 frozen\": the normalised weights held at X = Y = Z = 1/3; \"weights 1 "
            "frozen\": the unnormalised sum X tanh + Y sigmoid + Z ReLU with X = Y = Z = 1. "
            "The study did this for AlexNet only.\n\n");
    report_md_header(md, retrain_header, 5);
    for (i = 6; i < N_RUNS; i++) md_result_row(md, runs[i].label, &results[i], 0.0);
    fprintf(md, "\n");
    report_md_image(md, "Mixtures: learned vs frozen weights", "mixtures_precision.svg");
    if (o->trials > 1) write_trials(md, o, results);
    report_findings(md, &judgement, results);
    fprintf(md, "Files: `results.csv` (the tables), `curves.csv` (every epoch of every run), "
            "`xyz.csv` (X, Y, Z per layer, also for the frozen runs).\n");
    return report_fclose(md) == 0 ? 0 : -1;
}

static void print_results(const run_result *results)
{
    int i;
    for (i = 0; i < N_RUNS; i++)
        printf("%-28s accuracy %.4f  macro precision %.4f  (%.0f s, %.0f img/s)\n",
               runs[i].label, results[i].final.accuracy, results[i].final.precision,
               results[i].seconds, results[i].images_per_second);
}

/* A study_unit_name_fn: the training's label as a name. */
static void unit_name(int task, void *context, char *name, size_t size)
{
    size_t n;
    study_unit_name_from(runs[task % N_RUNS].label, name, size);
    n = strlen(name);
    if (((const study *)context)->o.trials > 1) snprintf(name + n, size - n, "_trial_%d", task / N_RUNS + 1);
}

/* The trainings the options ask for (see study_run_units): 0 when every
   result is in, 1 when there is nothing more to do, -1 on failure. */
static int train_all(study *s, run_result *results)
{
    study_units units;
    study_units_init(&units, N_RUNS * s->o.trials, train_one, unit_name, s, results, sizeof *results);
    study_units_setting(&units, "trials", "%d", s->o.trials);
    study_units_setting(&units, "arch", "%s", s->o.study_arch ? "study" : "lenet5");
    study_units_setting(&units, "lr", "%.15g", s->o.lr);
    return study_run_units(&s->o.common, &units);
}

int main(int argc, char **argv)
{
    static study s;
    run_result *results;
    double start = report_seconds();
    int trained, written = 0, status = parse_options(argc, argv, &s.o);
    const study_options *c = &s.o.common;
    if (status != 0) return status > 0 ? 0 : 2;
    if (!c->list && (study_make_folder(c->out) != 0 ||
        study_load_cifar10(c->data, c->train_size, c->test_size, (uint64_t)c->seed, &s.train,
                           &s.test) != 0))
        return 1;
    results = (run_result *)calloc((size_t)N_RUNS * s.o.trials, sizeof *results);
    trained = results ? train_all(&s, results) : -1;
    if (trained == 0) {
        print_results(results);
        written = write_csv_files(&s.o, results) == 0 && write_charts(&s.o, results) == 0 &&
                  write_report(&s.o, s.train.inputs.shape[0], results,
                               report_seconds() - start) == 0;
    }
    status = study_exit_status(trained, written, c->out);
    free(results);
    rn_dataset_free(&s.train);
    rn_dataset_free(&s.test);
    return status;
}
