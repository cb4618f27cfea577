/* relu_alpha_sweep.c - the ReLU_alpha lambda sweep of "Advanced Topics in
 * Machine Learning, Challenge 2" (P. Pettenà, 2024) on Fashion-MNIST.
 *
 * ReLU_alpha(x) = ReLU(x) - (1 - alpha) ReLU(-x): alpha = 1 is ReLU, alpha = 0
 * the identity. A tiny CNN with one alpha per activation layer is trained
 * with cross-entropy + lambda * ||alpha||, for lambda from 0 to 0.05, several
 * runs each from random alphas, and the report counts how many alphas the
 * penalty drives to zero (the layer becomes linear).
 *
 *     cc -O2 -I/usr/include/stb examples/relu_alpha_sweep.c -o relu_alpha_sweep -lm
 *     ./relu_alpha_sweep             # the study: 11 lambdas x 6 runs, REPORT.md
 *     ./relu_alpha_sweep --help
 *
 * Runs are independent: they run in parallel child processes (--jobs), or
 * spread over a cluster with --shard i/n (each shard writes the CSV files of
 * its runs) and --merge DIR... (one report from all shards' CSV files). A
 * run's result depends on its lambda, run number and --seed only, so any
 * split gives the same numbers.
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

enum { LAYERS = 3, MAX_LAMBDAS = 64, MAX_RUNS = 1000, RECORD_EVERY = 100, ALPHA_LEVELS = 20 };
#define ZERO_BELOW 0.05 /* the study's "converged to zero" */
#define ONE_FROM 0.95   /* settled at ReLU */
#define TRAJECTORY_LAMBDA 0.02

static const char *const usage =
    "usage: relu_alpha_sweep [options]\n"
    "  The ReLU_alpha lambda sweep on Fashion-MNIST; writes OUT/REPORT.md, CSV and SVG files.\n"
    "  --quick            a small sweep in seconds (2000 images, 1 epoch, 3 lambdas, 2 runs)\n"
    "  --data DIR         Fashion-MNIST: the folder with its IDX files, or one that\n"
    "                     holds fashion-mnist/ (default $RELUNET_DATA, the same rule;\n"
    "                     without it /usr/share/datasets/fashion-mnist)\n"
    "  --out DIR          output folder (default results/relu_alpha_sweep)\n"
    "  --seed N           training subsample, weights, alphas and batch order (default 1)\n"
    "  --lambdas LIST     comma-separated penalty weights (default 0,0.005,...,0.05)\n"
    "  --runs N           runs per lambda (default 6)\n"
    "  --repetitions K    the runs of a lambda in K groups, each group's share of zeros\n"
    "                     reported beside the pooled one (default 1)\n"
    "  --protocol P       text (default): the study's text, L1 penalty, 10,000 images;\n"
    "                     code: the author's code as published: penalty lambda*||alpha||_2\n"
    "                     unsquared, all 60,000 images, alphas logged before the step of\n"
    "                     every batch whose index in its epoch is divisible by 100 and the\n"
    "                     last logged one taken as final (batch 900 of epoch 10), 6 runs\n"
    "                     repeated 5 times (--runs 30 --repetitions 5); SGD lr 0.01, batch\n"
    "                     64, 10 epochs, alphas from {0, 0.05, ..., 0.95} clamped to [0, 1]\n"
    "                     after every step in both\n"
    "  --penalty l1|l2    lambda*||alpha||_1 (default, the study's formula) or\n"
    "                     lambda*||alpha||_2 unsquared (what its published numbers used)\n"
    "  --train-size N     training images, a stratified subsample (default 10000)\n"
    "  --test-size N      test images (default 10000, the whole test set)\n"
    "  --epochs N         epochs per run (default 10)\n"
    "  --jobs N           runs at a time, in child processes (default: processors)\n"
    STUDY_UNITS_USAGE;

typedef struct options {
    study_options common; /* --data, --out, --seed, --jobs, --*-size, --epochs */
    int n_lambdas;
    double lambdas[MAX_LAMBDAS];
    int runs, penalty_norm;
    int repetitions;   /* the runs of a lambda in this many groups */
    int code_protocol; /* 1: --protocol code */
} options;

/* One run read back from its CSV file. */
typedef struct run_result {
    double lambda;
    int run;
    study_result result;
} run_result;

/* What a child process needs to train one run. */
typedef struct sweep {
    const options *opt;
    const rn_dataset *train, *test;
    char runs_dir[1024];
} sweep;

/* ---- command line ---------------------------------------------------------- */

/* The defaults of --quick and --protocol code (the other options change them). */
static void set_defaults(options *o, int quick, int code)
{
    int i;
    memset(o, 0, sizeof *o);
    study_defaults(&o->common, "results/relu_alpha_sweep", quick ? 1 : 10,
                   quick ? 2000 : code ? 60000 : 10000, quick ? 1000 : 10000);
    o->code_protocol = code;
    o->repetitions = code ? (quick ? 2 : 5) : 1;
    o->runs = (quick ? 2 : 6) * o->repetitions;
    o->penalty_norm = code ? 2 : 1;
    o->n_lambdas = quick ? 3 : 11;
    for (i = 0; i < o->n_lambdas; i++)
        o->lambdas[i] = quick ? (double[]){0.0, 0.02, 0.05}[i] : 0.005 * i;
}

/* 1 when the value is good, else -1 after saying why. */
static int parse_penalty(const char *text, options *o)
{
    o->penalty_norm = strcmp(text, "l1") == 0 ? 1 : strcmp(text, "l2") == 0 ? 2 : 0;
    if (o->penalty_norm != 0) return 1;
    fprintf(stderr, "--penalty: '%s' is neither l1 nor l2\n", text);
    return -1;
}

/* --protocol: text or code, chosen before the other options (it sets their defaults). */
static int protocol_option(int argc, char **argv, int *i, options *o)
{
    const char *v = NULL;
    int found = study_option_value(argc, argv, i, "--protocol", &v);
    if (found <= 0) return found;
    o->code_protocol = strcmp(v, "code") == 0;
    if (o->code_protocol || strcmp(v, "text") == 0) return 1;
    fprintf(stderr, "--protocol: '%s' is neither text nor code\n", v);
    return -1;
}

/* A study_option_fn for the sweep's own options. */
static int sweep_option(int argc, char **argv, int *i, void *context)
{
    options *o = (options *)context;
    const char *v = NULL;
    int found;
    if ((found = study_list_option(argc, argv, i, "--lambdas", o->lambdas, MAX_LAMBDAS, &o->n_lambdas)) != 0)
        return found;
    if ((found = study_int_option(argc, argv, i, "--runs", 1, MAX_RUNS, &o->runs)) != 0) return found;
    if ((found = study_int_option(argc, argv, i, "--repetitions", 1, MAX_RUNS, &o->repetitions)) != 0)
        return found;
    if ((found = protocol_option(argc, argv, i, o)) != 0) return found;
    if ((found = study_option_value(argc, argv, i, "--penalty", &v)) != 0)
        return found > 0 ? parse_penalty(v, o) : found;
    return 0;
}

/* 0: go on; 1: done (help shown); -1: bad arguments. */
static int parse_options(int argc, char **argv, options *o)
{
    int i, code = 0;
    if (study_help(argc, argv, usage)) return 1;
    for (i = 1; i + 1 < argc; i++) /* a bad value is refused below */
        if (strcmp(argv[i], "--protocol") == 0) code = strcmp(argv[i + 1], "code") == 0;
    set_defaults(o, study_has_flag(argc, argv, "--quick"), code);
    if (study_parse_options(argc, argv, &o->common, sweep_option, o) != 0) return -1;
    if (o->runs % o->repetitions == 0) return 0;
    fprintf(stderr, "--repetitions: %d runs per lambda do not split into %d groups\n", o->runs,
            o->repetitions);
    return -1;
}

/* ---- one run ---------------------------------------------------------------- */

/* conv(1->15, k2, s2) -> ReLU_alpha -> conv(15->15, k2, s2) -> ReLU_alpha ->
   conv(15->1, k2, s1) -> ReLU_alpha -> flatten (36) -> linear(36->10). */
static rn_net *make_net(void)
{
    rn_act_desc relu_alpha = {.kind = RN_ACT_RELU_ALPHA};
    rn_net *net = rn_net_new(3, (int[]){1, 28, 28});
    if (!net || rn_net_add_conv2d(net, 15, 2, 2, 0) || rn_net_add_activation_ex(net, &relu_alpha) ||
        rn_net_add_conv2d(net, 15, 2, 2, 0) || rn_net_add_activation_ex(net, &relu_alpha) ||
        rn_net_add_conv2d(net, 1, 2, 1, 0) || rn_net_add_activation_ex(net, &relu_alpha) ||
        rn_net_add_flatten(net) || rn_net_add_linear(net, 10)) {
        fprintf(stderr, "building the network: %s\n", rn_last_error());
        rn_net_free(net);
        return NULL;
    }
    return net;
}

/* Run r has the same weights, alphas and batch order at every lambda, so
   that what differs between lambdas is lambda alone. */
static uint64_t run_seed(const options *o, int run)
{
    return (uint64_t)o->common.seed * 1000003u + (uint64_t)run;
}

/* Each alpha from {0, 0.05, ..., 0.95}, as in the study. */
static void draw_alphas(rn_net *net, uint64_t seed)
{
    rn_param *alphas[LAYERS];
    int n = rn_net_select(net, RN_PARAMS_NAMED("alpha"), alphas, LAYERS), i;
    rn_rng rng;
    rn_rng_seed(&rng, seed, 3);
    for (i = 0; i < n && i < LAYERS; i++)
        alphas[i]->value.data[0] = (float)(1.0 / ALPHA_LEVELS) * (float)rn_rng_below(&rng, ALPHA_LEVELS);
}

static void run_file_name(char *name, size_t size, double lambda, int run)
{
    snprintf(name, size, "lambda_%g_run_%d.csv", lambda, run + 1);
}

/* --protocol code logs as the author's code does: the alphas before the
   step of every batch whose index in its epoch is divisible by
   RECORD_EVERY, so the last row is before batch 900 of the last epoch. */
typedef struct code_log {
    study_log *log;
    long batches_per_epoch, last_step;
} code_log;

/* A study_record_fn called after every step: after `step` steps come the
   alphas before the step of batch step % batches_per_epoch. */
static void record_before_step(void *context, long step, int epoch, double loss, double accuracy)
{
    const code_log *c = (const code_log *)context;
    long batch = step % c->batches_per_epoch;
    (void)epoch;
    if (step < c->last_step && batch % RECORD_EVERY == 0)
        study_log_record(c->log, step, (int)(step / c->batches_per_epoch) + 1, loss, accuracy);
}

static const char *const setting_names[] = {"lambda", "run", "penalty_norm", "train_size", "epochs"};
enum { SETTINGS = sizeof setting_names / sizeof setting_names[0] };

/* A study_task_fn: run `task` leaves its CSV file in runs_dir. */
static int train_run(int task, void *context, void *result)
{
    const sweep *s = (const sweep *)context;
    const options *o = s->opt;
    int run = task % o->runs, failed;
    double lambda = o->lambdas[task / o->runs];
    double settings[SETTINGS] = {lambda, run + 1, o->penalty_norm, o->common.train_size,
                                 o->common.epochs};
    uint64_t seed = run_seed(o, run);
    rn_net *net = make_net();
    study_training t;
    study_log log;
    code_log before_step;
    char name[128];
    (void)result;
    if (!net) return -1;
    rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, seed);
    draw_alphas(net, seed);
    rn_net_set_range(net, RN_PARAMS_NAMED("alpha"), 0.0f, 1.0f);
    memset(&t, 0, sizeof t);
    t.net = net;
    t.opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = 0.01f});
    t.train = s->train;
    t.batch_size = 64;
    t.epochs = o->common.epochs;
    t.penalty = o->penalty_norm == 1 ? RN_PENALTY_L1 : RN_PENALTY_L2_NORM;
    t.lambda = (float)lambda;
    t.shuffle_seed = seed;
    t.record_every = RECORD_EVERY;
    t.record = study_log_record;
    t.context = &log;
    t.log = &log;
    if (o->code_protocol) {
        before_step.log = &log;
        before_step.batches_per_epoch = (s->train->inputs.shape[0] + t.batch_size - 1) / t.batch_size;
        before_step.last_step = before_step.batches_per_epoch * t.epochs;
        t.record_every = 1;
        t.record = record_before_step;
        t.context = &before_step;
    }
    run_file_name(name, sizeof name, lambda, run);
    failed =
        !t.opt || study_log_open(&log, s->runs_dir, name, net, setting_names, settings, SETTINGS) != 0;
    if (!failed) {
        failed = study_train(&t) != 0;
        failed |= study_log_close(&log, failed ? NULL : s->test) != 0;
    }
    if (failed && !study_interrupted())
        fprintf(stderr, "run %d at lambda %g failed (%s/%s)\n", run + 1, lambda, s->runs_dir, name);
    rn_optim_free(t.opt);
    rn_net_free(net);
    return failed ? -1 : 0;
}

/* A study_unit_name_fn: run k's file name without .csv. */
static void unit_name(int task, void *context, char *name, size_t size)
{
    const options *o = ((const sweep *)context)->opt;
    snprintf(name, size, "lambda_%g_run_%d", o->lambdas[task / o->runs], task % o->runs + 1);
}

/* Trains the runs the options ask for (see study_run_units): 0 when every
   run's file is in OUT/runs, 1 when there is nothing more to do, -1 on failure. */
static int run_sweep(const options *o, const char *runs_dir)
{
    rn_dataset train, test;
    sweep s;
    study_units units;
    int status;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    s.opt = o;
    s.train = &train;
    s.test = &test;
    snprintf(s.runs_dir, sizeof s.runs_dir, "%s", runs_dir);
    study_units_init(&units, o->n_lambdas * o->runs, train_run, unit_name, &s, NULL, 0);
    units.files = "runs";
    units.label = "runs";
    study_units_list_setting(&units, "lambdas", o->lambdas, o->n_lambdas);
    study_units_setting(&units, "protocol", "%s", o->code_protocol ? "code" : "text");
    study_units_setting(&units, "runs", "%d", o->runs);
    study_units_setting(&units, "penalty_norm", "%d", o->penalty_norm);
    if (!o->common.list && o->common.n_merge_dirs == 0) {
        if (study_load_fashion_mnist(o->common.data, o->common.train_size, o->common.test_size,
                                     (uint64_t)o->common.seed, &train, &test) != 0)
            return -1;
        printf("%d lambdas x %d runs, %d at a time: %d training images, %d epoch%s, batch 64\n",
               o->n_lambdas, o->runs, o->common.jobs, train.inputs.shape[0], o->common.epochs,
               o->common.epochs == 1 ? "" : "s");
    }
    status = study_run_units(&o->common, &units);
    rn_dataset_free(&train);
    rn_dataset_free(&test);
    return status;
}

/* ---- reading the runs back -------------------------------------------------- */

static int read_run(const options *o, const char *runs_dir, int task, run_result *r)
{
    char name[128];
    r->lambda = o->lambdas[task / o->runs];
    r->run = task % o->runs;
    run_file_name(name, sizeof name, r->lambda, r->run);
    if (study_result_read(runs_dir, name, &r->result) != 0) return -1;
    if (o->code_protocol) { /* the author's "final": the last logged alphas, not those after the last step */
        int k, last = r->result.table.rows - 1;
        for (k = 0; k < LAYERS; k++) {
            char column[16];
            snprintf(column, sizeof column, "alpha%d", k + 1);
            r->result.final[k] = study_table_get(&r->result.table, last, column);
        }
    }
    return 0;
}

/* ---- statistics ------------------------------------------------------------- */

/* Per lambda: the shares and means of table (5) and the accuracy of (6). */
typedef struct lambda_stats {
    double zero[LAYERS + 1]; /* share of alphas < ZERO_BELOW per layer, then all layers */
    double mean[LAYERS];     /* mean final alpha per layer */
    double one;              /* share of alphas >= ONE_FROM, all layers */
    double between;          /* share strictly between the two */
    double accuracy_mean, accuracy_sd, accuracy_min, accuracy_max;
} lambda_stats;

static void lambda_summary(const run_result *runs, int n_runs, lambda_stats *s)
{
    int r, k;
    double sum = 0.0, squares = 0.0;
    memset(s, 0, sizeof *s);
    s->accuracy_min = 1.0;
    for (r = 0; r < n_runs; r++) {
        double a = runs[r].result.test_accuracy;
        for (k = 0; k < LAYERS; k++) {
            double alpha = runs[r].result.final[k];
            int zero = alpha < ZERO_BELOW, one = alpha >= ONE_FROM;
            s->zero[k] += zero;
            s->zero[LAYERS] += zero;
            s->one += one;
            s->between += !zero && !one;
            s->mean[k] += alpha;
        }
        sum += a;
        squares += a * a;
        if (a < s->accuracy_min) s->accuracy_min = a;
        if (a > s->accuracy_max) s->accuracy_max = a;
    }
    for (k = 0; k < LAYERS; k++) {
        s->zero[k] /= n_runs;
        s->mean[k] /= n_runs;
    }
    s->zero[LAYERS] /= (double)n_runs * LAYERS;
    s->one /= (double)n_runs * LAYERS;
    s->between /= (double)n_runs * LAYERS;
    s->accuracy_mean = sum / n_runs;
    /* sample standard deviation; 0 for a single run */
    s->accuracy_sd = n_runs > 1 ? sqrt(fmax(0.0, (squares - sum * sum / n_runs) / (n_runs - 1))) : 0.0;
}

/* ---- the report ------------------------------------------------------------- */

typedef struct report_data {
    const options *opt;
    const char *out;
    run_result *runs; /* lambda-major: runs[l * opt->runs + r] */
    lambda_stats *stats;
    study_judgement judgement; /* of the sweep's mean final training loss and test accuracy */
    FILE *md;
} report_data;

static const char *const layer_names[] = {"alpha1 (layer 1)", "alpha2 (layer 2)", "alpha3 (layer 3)",
                                          "all layers"};

/* The share of alphas below ZERO_BELOW over runs [first, first + n) of a lambda, all layers. */
static double share_zero(const run_result *runs, int first, int n)
{
    int r, k, zeros = 0;
    for (r = first; r < first + n; r++)
        for (k = 0; k < LAYERS; k++) zeros += runs[r].result.final[k] < ZERO_BELOW;
    return (double)zeros / ((double)n * LAYERS);
}

/* (1, --repetitions) the share of zeros of every group of runs beside the
   pooled one, as the author's plots give them: table and CSV. */
static int report_share_zero_repetitions(report_data *d)
{
    const options *o = d->opt;
    int group = o->runs / o->repetitions, l, g, failed;
    const char *header[3] = {"lambda", "repetition", "share_zero_all"};
    report_csv csv;
    failed = report_csv_open(&csv, d->out, "share_zero_repetitions.csv", header, 3);
    fprintf(d->md, "Per repetition (%d groups of %d runs; percent of all alphas below %g) and pooled:\n\n",
            o->repetitions, group, ZERO_BELOW);
    fputs("| lambda |", d->md);
    for (g = 0; g < o->repetitions; g++) fprintf(d->md, " rep. %d |", g + 1);
    fputs(" pooled |\n|---|", d->md);
    for (g = 0; g <= o->repetitions; g++) fputs("---|", d->md);
    fputs("\n", d->md);
    for (l = 0; l < o->n_lambdas; l++) {
        fprintf(d->md, "| %g |", o->lambdas[l]);
        for (g = 0; g <= o->repetitions; g++) {
            double share = g < o->repetitions ? share_zero(d->runs + l * o->runs, g * group, group)
                                              : d->stats[l].zero[LAYERS];
            fprintf(d->md, " %.1f |", 100 * share);
            report_csv_num(&csv, o->lambdas[l]);
            if (g < o->repetitions) report_csv_int(&csv, g + 1);
            else report_csv_str(&csv, "pooled");
            report_csv_num(&csv, share);
        }
        fputs("\n", d->md);
    }
    fputs("\n", d->md);
    return failed | report_csv_close(&csv);
}

/* (1) share of alphas at zero per lambda: chart, table and CSV. */
static int report_share_zero(report_data *d)
{
    int n = d->opt->n_lambdas, k, l, failed;
    double *y = (double *)malloc((size_t)n * (LAYERS + 1) * sizeof *y);
    report_series series[LAYERS + 1];
    report_chart chart = {.title = "Share of alphas < 0.05 after training",
                          .x_label = "lambda",
                          .y_label = "share of alphas"};
    if (!y) return -1;
    chart.y_min = 0.0;
    chart.y_max = 1.0;
    for (k = 0; k <= LAYERS; k++) {
        for (l = 0; l < n; l++) y[k * n + l] = d->stats[l].zero[k];
        series[k].name = layer_names[k];
        series[k].x = d->opt->lambdas;
        series[k].y = y + k * n;
        series[k].n = n;
    }
    failed = report_svg_line(d->out, "share_zero.svg", &chart, series, LAYERS + 1) |
        report_csv_series(d->out, "share_zero.csv", series, LAYERS + 1);
    free(y);
    fprintf(d->md,
            "## 1. Share of alphas driven to zero\n\n"
            "An alpha counts as \"converged to zero\" when it is below %g after the last "
            "epoch. Share over the %d runs of each lambda, per layer and over all %d alphas of "
            "the runs.\n\n",
            ZERO_BELOW, d->opt->runs, LAYERS * d->opt->runs);
    report_md_image(d->md, "Share of alphas below 0.05 per lambda", "share_zero.svg");
    report_md_header(d->md, (const char *const[]){"lambda", "layer 1", "layer 2", "layer 3", "all"}, 5);
    for (l = 0; l < n; l++) {
        char label[32];
        double percent[LAYERS + 1];
        for (k = 0; k <= LAYERS; k++) percent[k] = 100.0 * d->stats[l].zero[k];
        snprintf(label, sizeof label, "%g", d->opt->lambdas[l]);
        report_md_row_numbers(d->md, label, percent, LAYERS + 1, 1);
    }
    fputs("\n(percent of alphas below 0.05)\n\n", d->md);
    return failed | (d->opt->repetitions > 1 ? report_share_zero_repetitions(d) : 0);
}

/* The lambda in the sweep closest to TRAJECTORY_LAMBDA. */
static int trajectory_lambda(const options *o)
{
    int l, best = 0;
    for (l = 1; l < o->n_lambdas; l++)
        if (fabs(o->lambdas[l] - TRAJECTORY_LAMBDA) <
            fabs(o->lambdas[best] - TRAJECTORY_LAMBDA))
            best = l;
    return best;
}

/* (2) alpha trajectories of every run at lambda = 0.02: one chart per layer. */
static int report_trajectories(report_data *d)
{
    int l = trajectory_lambda(d->opt), runs = d->opt->runs, n = runs * LAYERS, k, r, failed = 0;
    report_series *series = (report_series *)calloc((size_t)n, sizeof *series);
    char(*names)[32] = (char(*)[32])calloc((size_t)n, sizeof *names);
    failed = !series || !names;
    for (k = 0; k < LAYERS && !failed; k++) {
        for (r = 0; r < runs && !failed; r++) {
            char column[16];
            snprintf(names[k * runs + r], sizeof names[0], "run %d (alpha%d)", r + 1, k + 1);
            snprintf(column, sizeof column, "alpha%d", k + 1);
            failed = study_series_from_table(&series[k * runs + r], names[k * runs + r],
                                             &d->runs[l * runs + r].result.table, "step", column);
        }
    }
    fprintf(d->md,
            "## 2. Alpha trajectories at lambda = %g\n\n"
            "Every run's alphas every %d batches and at the end; run r starts from the same "
            "weights, alphas and batch order at every lambda.\n\n",
            d->opt->lambdas[l], RECORD_EVERY);
    for (k = 0; k < LAYERS && !failed; k++) {
        char title[64], file[32];
        report_chart chart;
        memset(&chart, 0, sizeof chart);
        snprintf(title, sizeof title, "alpha%d during training, lambda = %g", k + 1,
                 d->opt->lambdas[l]);
        snprintf(file, sizeof file, "trajectory_alpha%d.svg", k + 1);
        chart.title = title;
        chart.x_label = "batch";
        chart.y_label = "alpha";
        chart.y_min = 0.0;
        chart.y_max = 1.0;
        failed |= report_svg_line(d->out, file, &chart, series + k * runs, runs);
        report_md_image(d->md, title, file);
    }
    if (!failed) failed = report_csv_series(d->out, "trajectories.csv", series, n);
    if (series) study_series_free(series, n);
    free(names);
    free(series);
    return failed;
}

/* (3) histograms and (4) scatter of the final alphas, and their CSV. */
static int report_final_alphas(report_data *d)
{
    int n = d->opt->n_lambdas * d->opt->runs, k, i, failed;
    double *values = (double *)malloc((size_t)n * (LAYERS + 1) * sizeof *values);
    report_series series[LAYERS];
    report_chart histogram = {
        .title = "Final alphas, all lambdas and runs", .x_label = "final alpha", .y_label = "runs"};
    report_chart scatter = {
        .title = "Final alpha against lambda", .x_label = "lambda", .y_label = "final alpha"};
    report_csv csv;
    static const char *const header[] = {
        "lambda",         "run",          "initial_alpha1", "initial_alpha2",
        "initial_alpha3", "final_alpha1", "final_alpha2",   "final_alpha3",
        "test_accuracy",  "seconds",      "cpu_seconds"};
    if (!values) return -1;
    for (i = 0; i < n; i++) {
        values[i] = d->runs[i].lambda;
        for (k = 0; k < LAYERS; k++) values[(k + 1) * n + i] = d->runs[i].result.final[k];
    }
    for (k = 0; k < LAYERS; k++) {
        series[k].name = layer_names[k];
        series[k].x = values;
        series[k].y = values + (k + 1) * n;
        series[k].n = n;
    }
    histogram.x_min = scatter.y_min = 0.0;
    histogram.x_max = scatter.y_max = 1.0;
    failed = report_svg_histogram(d->out, "final_alpha_histogram.svg", &histogram, series, LAYERS, 20) |
        report_svg_scatter(d->out, "final_alpha_scatter.svg", &scatter, series, LAYERS);
    failed |= report_csv_open(&csv, d->out, "final_alphas.csv", header, 11);
    for (i = 0; i < n && !failed; i++) {
        report_csv_num(&csv, d->runs[i].lambda);
        report_csv_int(&csv, d->runs[i].run + 1);
        for (k = 0; k < LAYERS; k++) report_csv_num(&csv, d->runs[i].result.initial[k]);
        for (k = 0; k < LAYERS; k++) report_csv_num(&csv, d->runs[i].result.final[k]);
        report_csv_num(&csv, d->runs[i].result.test_accuracy);
        report_csv_num(&csv, d->runs[i].result.seconds);
        report_csv_num(&csv, d->runs[i].result.cpu_seconds);
    }
    failed |= report_csv_close(&csv);
    free(values);
    fputs("## 3. Histograms of the final alphas\n\n"
          "Final alpha of each layer over every lambda and run, in 20 bins of width 0.05.\n\n",
          d->md);
    report_md_image(d->md, "Histograms of the final alphas per layer", "final_alpha_histogram.svg");
    fputs("## 4. Final alpha against lambda\n\n", d->md);
    report_md_image(d->md, "Final alphas against lambda", "final_alpha_scatter.svg");
    return failed;
}

/* (5) the per-lambda table and (6) test accuracy, with their CSV. */
static int report_per_lambda(report_data *d)
{
    static const char *const header[] = {
        "lambda",      "zero_layer1",  "zero_layer2", "zero_layer3",         "zero_all",
        "mean_alpha1", "mean_alpha2",  "mean_alpha3", "share_at_least_0.95", "accuracy_mean",
        "accuracy_sd", "accuracy_min", "accuracy_max"};
    int n = d->opt->n_lambdas, l, k, failed;
    double *y = (double *)malloc((size_t)n * 3 * sizeof *y);
    report_series series[3] = {{.name = "mean"}, {.name = "lowest"}, {.name = "highest"}};
    report_chart chart = {
        .title = "Test accuracy per lambda", .x_label = "lambda", .y_label = "test accuracy"};
    report_csv csv;
    if (!y) return -1;
    failed = report_csv_open(&csv, d->out, "per_lambda.csv", header, 13);
    fputs("## 5. Per lambda: alphas at zero, mean final alpha, alphas at ReLU\n\n", d->md);
    report_md_header(d->md,
                     (const char *const[]){"lambda", "% zero L1", "% zero L2", "% zero L3", "mean a1",
                                           "mean a2", "mean a3", "% >= 0.95"},
                     8);
    for (l = 0; l < n; l++) {
        const lambda_stats *s = &d->stats[l];
        double row[7] = {100 * s->zero[0], 100 * s->zero[1], 100 * s->zero[2], s->mean[0],
                         s->mean[1],       s->mean[2],       100 * s->one};
        double all[12] = {s->zero[0],       s->zero[1],     s->zero[2],      s->zero[3],
                          s->mean[0],       s->mean[1],     s->mean[2],      s->one,
                          s->accuracy_mean, s->accuracy_sd, s->accuracy_min, s->accuracy_max};
        char label[32];
        snprintf(label, sizeof label, "%g", d->opt->lambdas[l]);
        report_md_row_numbers(d->md, label, row, 7, 2);
        report_csv_num(&csv, d->opt->lambdas[l]);
        for (k = 0; k < 12; k++) report_csv_num(&csv, all[k]);
        y[l] = s->accuracy_mean;
        y[n + l] = s->accuracy_min;
        y[2 * n + l] = s->accuracy_max;
    }
    failed |= report_csv_close(&csv);
    for (k = 0; k < 3; k++) {
        series[k].x = d->opt->lambdas;
        series[k].y = y + k * n;
        series[k].n = n;
    }
    failed |= report_svg_line(d->out, "test_accuracy.svg", &chart, series, 3);
    free(y);
    fprintf(d->md,
            "\n## 6. Test accuracy per lambda\n\n"
            "The study never measured it. Accuracy on %s test images after the last epoch, "
            "over the %d runs of each lambda (sd: sample standard deviation).\n\n",
            d->opt->common.test_size == 10000 ? "all 10,000" : "a subsample of the", d->opt->runs);
    report_md_image(d->md, "Test accuracy per lambda: mean, lowest and highest run",
                    "test_accuracy.svg");
    report_md_header(d->md, (const char *const[]){"lambda", "mean %", "sd", "lowest %", "highest %"}, 5);
    for (l = 0; l < n; l++) {
        const lambda_stats *s = &d->stats[l];
        double row[4] = {100 * s->accuracy_mean, 100 * s->accuracy_sd, 100 * s->accuracy_min,
                         100 * s->accuracy_max};
        char label[32];
        snprintf(label, sizeof label, "%g", d->opt->lambdas[l]);
        report_md_row_numbers(d->md, label, row, 4, 2);
    }
    fputs("\n", d->md);
    return failed;
}

/* The lambdas (as text) at which some run ended with alpha_k >= ONE_FROM;
   returns the largest of them, or -1 when there is none. */
static double lambdas_with_relu(const report_data *d, int k, char *text, size_t size)
{
    int l, r;
    size_t used = 0;
    double largest = -1.0;
    snprintf(text, size, "none");
    for (l = 0; l < d->opt->n_lambdas; l++) {
        int hit = 0;
        for (r = 0; r < d->opt->runs; r++)
            hit |= d->runs[l * d->opt->runs + r].result.final[k] >= ONE_FROM;
        if (hit && used < size)
            used += (size_t)snprintf(text + used, size - used, "%s%g", largest >= 0 ? ", " : "",
                                     d->opt->lambdas[l]);
        if (hit && d->opt->lambdas[l] > largest) largest = d->opt->lambdas[l];
    }
    return largest;
}

/* Pearson correlation of lambda with the share of alphas at zero. */
static double share_trend(const report_data *d)
{
    int n = d->opt->n_lambdas, l;
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (l = 0; l < n; l++) mx += d->opt->lambdas[l] / n, my += d->stats[l].zero[LAYERS] / n;
    for (l = 0; l < n; l++) {
        double dx = d->opt->lambdas[l] - mx, dy = d->stats[l].zero[LAYERS] - my;
        sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0.0;
}

/* The study's findings, each checked against this sweep. */
static void report_findings(report_data *d)
{
    int n = d->opt->n_lambdas, peak = -1, l;
    double largest1, largest3, trend = share_trend(d), between_low = 0, between_high = 0;
    char relu1[512], relu3[512];
    for (l = 0; l < n; l++)
        if (fabs(d->opt->lambdas[l] - 0.02) < 1e-9) peak = l;
    largest1 = lambdas_with_relu(d, 0, relu1, sizeof relu1);
    largest3 = lambdas_with_relu(d, 2, relu3, sizeof relu3);
    for (l = 0; l < n; l++) *(l < (n + 1) / 2 ? &between_low : &between_high) += d->stats[l].between;
    study_findings_begin(d->md, &d->judgement);
    fprintf(d->md,
            "- *Higher lambda drives more alphas to zero.* Correlation of lambda with the share "
            "at zero: %.2f; share %.0f%% at lambda = %g, %.0f%% at lambda = %g: %s.\n",
            trend, 100 * d->stats[0].zero[LAYERS], d->opt->lambdas[0],
            100 * d->stats[n - 1].zero[LAYERS], d->opt->lambdas[n - 1],
            study_verdict(&d->judgement, trend > 0 && d->stats[n - 1].zero[LAYERS] > d->stats[0].zero[LAYERS]));
    if (peak >= 0 && peak + 1 < n)
        fprintf(d->md,
                "- *The share drops after lambda = 0.02* (the study could not explain it). Here "
                "%.0f%% at 0.02 and %.0f%% at %g: %s.\n",
                100 * d->stats[peak].zero[LAYERS], 100 * d->stats[peak + 1].zero[LAYERS],
                d->opt->lambdas[peak + 1],
                study_verdict(&d->judgement, d->stats[peak + 1].zero[LAYERS] < d->stats[peak].zero[LAYERS]));
    else
        fputs("- *The share drops after lambda = 0.02*: not testable, the sweep does not have 0.02 and "
              "a larger lambda.\n",
              d->md);
    fprintf(d->md,
            "- *alpha1 rarely settles at 1, only for lambda = 0 and 0.005.* Lambdas with a final "
            "alpha1 >= %g here: %s: %s.\n",
            ONE_FROM, relu1, study_verdict(&d->judgement, largest1 >= 0 && largest1 <= 0.005 + 1e-9));
    fprintf(d->md,
            "- *alpha3 (the study's alpha_2, last layer) never goes to 1.* Lambdas with a final "
            "alpha3 >= %g: %s: %s.\n",
            ONE_FROM, relu3, study_verdict(&d->judgement, largest3 < 0));
    fprintf(d->md,
            "- *Intermediate alphas are seldom and come with small lambdas.* Alphas ending in "
            "[%g, %g): %.0f%% over the smaller half of the lambdas, %.0f%% over the larger: "
            "%s.\n\n",
            ZERO_BELOW, ONE_FROM, 100 * between_low / ((n + 1) / 2),
            n > 1 ? 100 * between_high / (n / 2) : 0.0, study_verdict(&d->judgement, between_low > between_high));
}

static void report_intro(report_data *d, int n_dirs, double seconds)
{
    const options *o = d->opt;
    double wall = 0.0, cpu = 0.0;
    int i;
    for (i = 0; i < o->n_lambdas * o->runs; i++)
        wall += d->runs[i].result.seconds, cpu += d->runs[i].result.cpu_seconds;
    fprintf(d->md,
            "# ReLU_alpha lambda sweep on Fashion-MNIST\n\n"
            "Protocol: %s\n\n",
            o->code_protocol
                ? "`--protocol code`, the author's code as published: penalty lambda * ||alpha||_2 "
                  "(unsquared), all 60,000 training images, SGD lr 0.01, batch 64, 10 epochs, alpha "
                  "clamped to [0, 1] after every step, alphas from {0, 0.05, ..., 0.95}, alphas logged "
                  "before the step of every batch whose index in its epoch is divisible by 100, final "
                  "= the last logged value (batch 900 of epoch 10), 6 runs x 5 repetitions per lambda "
                  "(the lines below say what this run used)."
                : "`--protocol text` (the default), the study's text: penalty lambda * ||alpha||_1, a "
                  "10,000-image subsample, the alphas after the last step (`--protocol code` runs "
                  "the author's code as published).");
    fprintf(d->md,
            "Reproduces \"Advanced Topics in Machine Learning, Challenge 2\" (P. Pettenà, 2024): "
            "ReLU_alpha(x) = ReLU(x) - (1 - alpha) ReLU(-x), one alpha per layer (alpha = 1: "
            "ReLU, alpha = 0: the identity).\n\n");
    study_judgement_note(d->md, &d->judgement);
    fprintf(d->md,
            "- Network: conv(1->15, k2, s2) -> ReLU_alpha -> conv(15->15, k2, s2) -> "
            "ReLU_alpha -> conv(15->1, k2, s1) -> ReLU_alpha -> flatten (36) -> "
            "linear(36->10), PyTorch's default initialisation; pixels in [0, 1].\n"
            "- Training: SGD, learning rate 0.01, no momentum, batch 64, %d epoch(s) on a "
            "stratified subsample of %d training images (seed %d); every alpha drawn from "
            "{0, 0.05, ..., 0.95} and clamped to [0, 1] after every step.\n",
            o->common.epochs, o->common.train_size, o->common.seed);
    fprintf(d->md,
            "- Loss: cross-entropy + lambda * %s. The study's text gives the penalty as "
            "lambda * ||alpha||_1, but its published figures were produced with the unsquared L2 "
            "norm lambda * ||alpha||_2; `--penalty l1` and `--penalty l2` run either.\n",
            o->penalty_norm == 1 ? "||alpha||_1 (`--penalty l1`)"
                                 : "||alpha||_2, unsquared (`--penalty l2`)");
    fprintf(d->md,
            "- Sweep: %d lambdas x %d runs = %d trainings; the runs took %.0f s in all (%.0f s of "
            "processor time)",
            o->n_lambdas, o->runs, o->n_lambdas * o->runs, wall, cpu);
    if (o->repetitions > 1) fprintf(d->md, " in %d repetitions per lambda", o->repetitions);
    if (n_dirs > 0)
        fprintf(d->md, ", merged from %d folders of shards.\n\n", n_dirs);
    else
        fprintf(d->md, "; wall time %.0f s (`--jobs %d`).\n", seconds, o->common.jobs);
    fprintf(d->md, "- Final alpha: %s.\n\n",
            o->code_protocol ? "the last logged one, logged before the step of every batch whose index "
                               "in its epoch is divisible by 100"
                             : "after the last step");
}

/* The training loss of run 1 at every lambda against the batch, from its
   records (row 0, before training, has none). */
static int report_loss_curves(report_data *d)
{
    int n = d->opt->n_lambdas, l, i, failed = 0;
    report_series *series = (report_series *)calloc((size_t)n, sizeof *series);
    char(*names)[32] = (char(*)[32])calloc((size_t)n, sizeof *names);
    report_chart chart;
    failed = !series || !names;
    for (l = 0; l < n && !failed; l++) {
        const study_table *t = &d->runs[l * d->opt->runs].result.table;
        double *x = study_table_column(t, "step"), *y = study_table_column(t, "train_loss");
        int kept = 0;
        for (i = 0; x && y && i < t->rows; i++)
            if (y[i] == y[i]) { /* finite: a record */
                x[kept] = x[i];
                y[kept++] = y[i];
            }
        snprintf(names[l], sizeof names[0], "lambda = %g", d->opt->lambdas[l]);
        series[l].name = names[l];
        series[l].x = x;
        series[l].y = y;
        series[l].n = kept;
        failed = !x || !y;
    }
    memset(&chart, 0, sizeof chart);
    chart.title = "Training loss (cross-entropy) of run 1";
    chart.x_label = "batch";
    chart.y_label = "mean cross-entropy since the last point";
    fprintf(d->md, "## Training loss\n\nRun 1 at every lambda, the mean over each %d batches "
            "(ln 10 = 2.303 is chance).\n\n", RECORD_EVERY);
    if (!failed) failed = report_svg_line(d->out, "train_loss.svg", &chart, series, n);
    if (!failed) report_md_image(d->md, "Training loss of run 1 per lambda", "train_loss.svg");
    if (!failed) failed = report_csv_series(d->out, "train_loss.csv", series, n);
    if (series) study_series_free(series, n);
    free(names);
    free(series);
    return failed;
}

/* The sweep as a whole: its runs' mean final training loss and test accuracy. */
static void judge_sweep(report_data *d)
{
    int total = d->opt->n_lambdas * d->opt->runs, i;
    double loss = 0.0, accuracy = 0.0;
    for (i = 0; i < total; i++) {
        const study_table *t = &d->runs[i].result.table;
        loss += study_table_get(t, t->rows - 1, "train_loss") / total;
        accuracy += d->runs[i].result.test_accuracy / total;
    }
    study_judge(&d->judgement, loss, accuracy, 10);
}

static void report_files(FILE *md)
{
    fputs(
        "## Files\n\n"
        "- `runs/lambda_<lambda>_run_<r>.csv`: each run's alphas every 100 batches (step 0: the "
        "initial ones), then a summary row with the test accuracy.\n"
        "- `final_alphas.csv`: initial and final alphas, test accuracy and training time of every run.\n"
        "- `per_lambda.csv`: tables 5 and 6 as numbers (shares in [0, 1]).\n"
        "- `share_zero.csv`, `trajectories.csv`, `train_loss.csv`: the series of the charts.\n",
        md);
}

static int write_report(options *o, const char *runs_dir, int n_dirs, double seconds)
{
    int total = o->n_lambdas * o->runs, read = 0, l, failed = 0;
    report_data d;
    memset(&d, 0, sizeof d);
    d.opt = o;
    d.out = o->common.out;
    d.runs = (run_result *)calloc((size_t)total, sizeof *d.runs);
    d.stats = (lambda_stats *)calloc((size_t)o->n_lambdas, sizeof *d.stats);
    if (!d.runs || !d.stats) failed = -1;
    for (; read < total && !failed; read++) failed = read_run(o, runs_dir, read, &d.runs[read]);
    for (l = 0; l < o->n_lambdas && !failed; l++)
        lambda_summary(d.runs + l * o->runs, o->runs, &d.stats[l]);
    if (!failed) judge_sweep(&d);
    if (!failed && !(d.md = study_report_open(o->common.out))) failed = -1;
    if (!failed) {
        report_intro(&d, n_dirs, seconds);
        failed |= report_share_zero(&d) | report_trajectories(&d) | report_final_alphas(&d) |
            report_per_lambda(&d) | report_loss_curves(&d);
        report_findings(&d);
        report_files(d.md);
        failed |= report_fclose(d.md) != 0;
        if (failed) fprintf(stderr, "writing the report's files in %s failed\n", o->common.out);
    }
    while (read-- > 0) study_table_free(&d.runs[read].result.table);
    free(d.runs);
    free(d.stats);
    return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    options o;
    char runs_dir[1024];
    double start = report_seconds();
    int status = parse_options(argc, argv, &o);
    if (status != 0) return status > 0 ? 0 : 2;
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", o.common.out);
    if (!o.common.list && (study_make_folder(o.common.out) != 0 || study_make_folder(runs_dir) != 0))
        return 1;
    status = run_sweep(&o, runs_dir);
    if (status != 0) return status > 0 ? 0 : 1;
    if (write_report(&o, runs_dir, o.common.n_merge_dirs, report_seconds() - start) != 0) return 1;
    printf("report: %s/REPORT.md\n", o.common.out);
    return 0;
}
