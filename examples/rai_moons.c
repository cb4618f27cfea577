/* rai_moons.c - relaxed activation identity (RAI) against backpropagation on
 * two moons, after D. A. Mertens Velasquez, "An Empirical Study of Relaxed
 * Activation Identity's Effects on First-Order Optimization".
 *
 * Four experiments, each trained full batch with Rprop (lr 0.1) on
 * scikit-learn's make_moons(n_samples=100, noise=0.1, random_state=42):
 *   shallow backprop   MLP (2, 42, 100, 100, 42, 1), ReLU hidden, sigmoid output
 *   shallow RAI        the same network trained by RAI
 *   deep backprop      MLP (2, 100 hidden layers of 100, 1), sigmoid everywhere
 *   deep RAI           the same network trained by RAI
 * The output sigmoid is part of the loss (binary cross-entropy with logits),
 * so the networks end in their last linear layer; the landscapes show the
 * sigmoid of the output. Backprop and RAI start from the same weights in each
 * run. Inference, for both, is the ordinary forward pass.
 *
 *   cc -O2 -I/usr/include/stb examples/rai_moons.c -o rai_moons -lm
 *   ./rai_moons --help
 */
#define _POSIX_C_SOURCE 200809L
#define RELUNET_IMPLEMENTATION
#include "../relunet_data.h"
#define REPORT_IMPLEMENTATION
#include "report.h"
#define STUDY_IMPLEMENTATION
#include "study.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TRAIN_POINTS 100
#define TRAIN_NOISE 0.1
#define TRAIN_SEED 42
#define TEST_POINTS 1000
#define TEST_SEED 43       /* a fresh sample: the study had no test set */
#define LEARNING_RATE 0.1f
#define GRID 100           /* landscape: GRID x GRID cells on [-EXTENT, EXTENT]^2 */
#define EXTENT 3.0
#define CHUNK 250          /* points per forward pass when predicting */
#define CURVE_POINTS 500   /* loss curves keep about this many points */
#define CURVE_CAPACITY (2 * CURVE_POINTS + 2) /* the most they can keep (see train) */
#define N_EXPERIMENTS 4
#define STUDY_DEPTH 100    /* hidden layers of the study's deep network */

typedef struct options {
    study_options common; /* --out, --seed, --jobs and the runner's options */
    int iterations, runs, depth, resync_every;
} options;

typedef struct experiment {
    const char *name, *slug;
    int deep, rai;
} experiment;

static const experiment experiments[N_EXPERIMENTS] = {
    {"shallow backprop", "shallow_backprop", 0, 0},
    {"shallow RAI", "shallow_rai", 0, 1},
    {"deep backprop", "deep_backprop", 1, 0},
    {"deep RAI", "deep_rai", 1, 1}};

/* One loss curve: values at iterations[0..n). The objective is what the
   optimizer minimises: BCE for backprop, the RAI loss L_y + sum L_h for RAI.
   forward_bce is the BCE of the ordinary forward pass, the same for both. */
typedef struct curve {
    double iterations[CURVE_CAPACITY], objective[CURVE_CAPACITY], output_loss[CURVE_CAPACITY];
    double hidden_loss[CURVE_CAPACITY], forward_bce[CURVE_CAPACITY];
    int n;
} curve;

/* Everything one training run produced: plain data, saved as a unit of
   the study (see study_run_units). */
typedef struct run_result {
    unsigned long seed;
    double objective, output_loss, hidden_loss, forward_bce;
    double train_accuracy, test_accuracy, seconds;
    float landscape[GRID * GRID]; /* sigmoid(output) at the cell centres */
    curve curve;
} run_result;

/* The data every run shares. */
typedef struct problem {
    rn_dataset train, test;
    float train_targets[TRAIN_POINTS];
    rn_tensor grid;               /* GRID * GRID x 2 cell centres, row by row from y = -EXTENT */
} problem;

/* ---- options -------------------------------------------------------------- */

static const char usage[] =
    "usage: rai_moons [options]\n"
    "Backpropagation against relaxed activation identity (RAI) training on two moons:\n"
    "shallow (2,42,100,100,42,1) ReLU and deep (2, 100 x 100, 1) sigmoid MLPs, Rprop lr 0.1.\n"
    "\n"
    "  --iterations N     full-batch training iterations per run (default 10000)\n"
    "  --runs R           weight-initialisation seeds per experiment (default 3)\n"
    "  --seed S           seed of the first run; run r uses S + r (default 1)\n"
    "  --depth D          hidden layers of the deep network (default 100)\n"
    "  --resync K         RAI: reset Z from a forward pass every K iterations (default 0: never)\n"
    "  --out DIR          report folder (default results/rai_moons)\n"
    "  --jobs N           runs at a time, in child processes (default: processors)\n"
    "  --quick            200 iterations, 1 run, depth 2: a check that takes seconds\n"
    "  --help             this text\n"
    STUDY_UNITS_USAGE
    "\n"
    "The other examples' --data, --epochs, --train-size and --test-size do not apply:\n"
    "the study makes its own points and trains full batch for --iterations.\n"
    "The defaults reproduce the study; the deep runs dominate the time (about 0.1 s per\n"
    "iteration each with scalar kernels).\n";

/* A study_option_fn for this example's own options. */
static int own_option(int argc, char **argv, int *i, void *context)
{
    options *o = (options *)context;
    int found;
    if ((found = study_int_option(argc, argv, i, "--iterations", 1, 100000000L, &o->iterations)) != 0)
        return found;
    if ((found = study_int_option(argc, argv, i, "--runs", 1, 100000000L, &o->runs)) != 0) return found;
    if ((found = study_int_option(argc, argv, i, "--depth", 1, 100000000L, &o->depth)) != 0) return found;
    return study_int_option(argc, argv, i, "--resync", 0, 100000000L, &o->resync_every);
}

/* The options every example shares that this one has no use for are
   refused, not ignored. Their fields start at 0, which no value given can
   be; -1 after naming the first one given. */
static int refuse_unused_options(const study_options *c)
{
    static const char *const unused[4][2] = {
        {"--data", "the study makes its own points (scikit-learn's make_moons) and reads no files"},
        {"--epochs", "training is full batch; --iterations sets how long"},
        {"--train-size (--train)", "the study trains on make_moons' 100 points"},
        {"--test-size (--test)", "the test set is 1000 fresh points from make_moons"}};
    const int given[4] = {c->data != NULL, c->epochs != 0, c->train_size != 0, c->test_size != 0};
    int k;
    for (k = 0; k < 4; k++)
        if (given[k]) {
            fprintf(stderr, "rai_moons: %s does not apply: %s\n", unused[k][0], unused[k][1]);
            return -1;
        }
    return 0;
}

/* 0: go on; 1: done (help shown); -1: bad arguments. */
static int parse_options(int argc, char **argv, options *o)
{
    int quick = study_has_flag(argc, argv, "--quick"), status;
    if (study_help(argc, argv, usage)) return 1;
    memset(o, 0, sizeof *o);
    study_defaults(&o->common, "results/rai_moons", 0, 0, 0); /* 0: not given */
    o->iterations = quick ? 200 : 10000;
    o->runs = quick ? 1 : 3;
    o->depth = quick ? 2 : STUDY_DEPTH;
    status = study_parse_options(argc, argv, &o->common, own_option, o);
    if (status == 0) status = refuse_unused_options(&o->common);
    /* what the units' settings say: one pass over the fixed points */
    o->common.epochs = 1;
    o->common.train_size = TRAIN_POINTS;
    o->common.test_size = TEST_POINTS;
    return status;
}

/* ---- data and networks ------------------------------------------------------ */

static int make_problem(problem *p)
{
    int status, i;
    memset(p, 0, sizeof *p);
    status = rn_data_moons(TRAIN_POINTS, TRAIN_NOISE, 1, TRAIN_SEED, &p->train);
    if (status == RN_OK) status = rn_data_moons(TEST_POINTS, TRAIN_NOISE, 1, TEST_SEED, &p->test);
    if (status == RN_OK) status = rn_tensor_new(&p->grid, 2, (int[]){GRID * GRID, 2});
    if (status != RN_OK) return status;
    for (i = 0; i < TRAIN_POINTS; i++) p->train_targets[i] = (float)p->train.labels[i];
    for (i = 0; i < GRID * GRID; i++) {
        p->grid.data[2 * i] = (float)(-EXTENT + 2.0 * EXTENT * (i % GRID + 0.5) / GRID);
        p->grid.data[2 * i + 1] = (float)(-EXTENT + 2.0 * EXTENT * (i / GRID + 0.5) / GRID);
    }
    return RN_OK;
}

static void free_problem(problem *p)
{
    rn_dataset_free(&p->train);
    rn_dataset_free(&p->test);
    rn_tensor_free(&p->grid);
}

/* Shallow: (2, 42, 100, 100, 42, 1) with ReLU; deep: (2, 100 x depth, 1)
   with sigmoid. No activation after the last layer: the loss applies it. */
static rn_net *make_network(int deep, int depth, unsigned long seed)
{
    static const int shallow_widths[] = {42, 100, 100, 42};
    rn_net *net = rn_net_new(1, (int[]){2});
    int hidden = deep ? depth : 4, i, status = net != NULL ? RN_OK : RN_ERR_MEMORY;
    for (i = 0; i < hidden && status == RN_OK; i++) {
        status = rn_net_add_linear(net, deep ? 100 : shallow_widths[i]);
        if (status == RN_OK) status = rn_net_add_activation(net, deep ? RN_ACT_SIGMOID : RN_ACT_RELU);
    }
    if (status == RN_OK) status = rn_net_add_linear(net, 1);
    if (status == RN_OK) status = rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, seed);
    if (status != RN_OK) {
        rn_net_free(net);
        return NULL;
    }
    return net;
}

/* Output logits for any number of points, CHUNK at a time so that a deep
   network's cached activations stay small. */
static int predict(rn_net *net, const rn_tensor *x, float *logits)
{
    int first, status = RN_OK;
    for (first = 0; first < x->shape[0] && status == RN_OK; first += CHUNK) {
        int count = x->shape[0] - first < CHUNK ? x->shape[0] - first : CHUNK;
        rn_tensor part = rn_tensor_slice(x, first, count);
        status = rn_net_forward(net, &part, RN_EVAL);
        if (status == RN_OK) memcpy(logits + first, rn_net_output(net)->data, count * sizeof(float));
    }
    return status;
}

static double accuracy(const float *logits, const int *labels, int n)
{
    int i, correct = 0;
    for (i = 0; i < n; i++) correct += (logits[i] > 0.0f) == (labels[i] == 1);
    return (double)correct / n;
}

/* BCE of the ordinary forward pass on the training set. */
static int forward_bce(rn_net *net, const problem *p, double *bce)
{
    float loss = NAN;
    int status = rn_net_forward(net, &p->train.inputs, RN_EVAL);
    if (status == RN_OK)
        status = rn_loss_bce_logits(rn_net_output(net), p->train_targets, &loss, NULL);
    *bce = loss;
    return status;
}

/* ---- training ----------------------------------------------------------------- */

/* One full-batch backprop step; *loss is the BCE before it. */
static int backprop_step(rn_net *net, rn_optim *opt, const problem *p, double *loss)
{
    float value = NAN;
    int status = rn_net_forward(net, &p->train.inputs, RN_TRAIN);
    rn_net_zero_grad(net);
    if (status == RN_OK)
        status = rn_loss_bce_logits(rn_net_output(net), p->train_targets, &value,
                                    rn_net_output_grad(net));
    if (status == RN_OK) status = rn_net_backward(net);
    if (status == RN_OK) status = rn_optim_step(opt);
    *loss = value;
    return status;
}

/* What a checkpoint of a training holds (see study_checkpoint_save): the
   network, the optimizer, RAI's Z (z, n_z; NULL, 0 for backprop) and the
   iteration in hand, *it; the curve so far is in the unit's result. */
static study_state checkpoint_state(rn_net *net, rn_optim *opt, rn_param **z, int n_z, int *it)
{
    study_state state;
    memset(&state, 0, sizeof state);
    state.net = net;
    state.opt = opt;
    state.extra = z;
    state.n_extra = n_z;
    state.progress = it;
    state.progress_size = sizeof *it;
    return state;
}

/* RAI's Z, one per linear layer, in a new array; NULL when out of memory. */
static rn_param **auxiliaries(rn_rai *rai, int *count)
{
    rn_param **z;
    int t;
    for (*count = 0; rn_rai_aux(rai, *count) != NULL; ++*count) continue;
    z = (rn_param **)malloc(sizeof *z * (size_t)(*count > 0 ? *count : 1));
    for (t = 0; z != NULL && t < *count; t++) z[t] = rn_rai_aux(rai, t);
    return z;
}

/* Trains one network for o->iterations and fills r with the curve and the
   final losses (after the last step). Interrupted, it leaves a checkpoint
   and returns STUDY_STOPPED; with one, it goes on from there. */
static int train(const experiment *e, rn_net *net, const problem *p, const options *o,
                 run_result *r, report_progress *bar)
{
    rn_rai_desc desc;
    rn_rai_losses losses;
    rn_rai *rai = NULL;
    rn_optim *opt = NULL;
    rn_param **z = NULL;
    study_state state;
    int every = o->iterations / CURVE_POINTS > 1 ? o->iterations / CURVE_POINTS : 1;
    int it = 0, n_z = 0, status = RN_OK;
    memset(&desc, 0, sizeof desc);
    desc.optim.kind = RN_RPROP;
    desc.optim.lr = LEARNING_RATE;
    desc.resync_every = o->resync_every;
    if (status == RN_OK && e->rai) {
        rai = rn_rai_new(net, &p->train.inputs, p->train_targets, NULL, &desc);
        if (rai == NULL) status = RN_ERR_ARGUMENT;
    } else if (status == RN_OK) {
        opt = rn_optim_new(net, &desc.optim);
        if (opt == NULL) status = RN_ERR_ARGUMENT;
    }
    if (status == RN_OK && rai && (z = auxiliaries(rai, &n_z)) == NULL) status = RN_ERR_MEMORY;
    state = checkpoint_state(net, rai ? rn_rai_optim(rai) : opt, z, n_z, &it);
    if (status == RN_OK && study_checkpoint_load(&state) < 0) status = RN_ERR_IO;
    /* Every value recorded at iteration it is measured before step it + 1;
       the final one evaluates the trained network without stepping. */
    for (; it <= o->iterations && status == RN_OK; it++) {
        int last = it == o->iterations, logged = it % every == 0 || last;
        double bce = NAN;
        curve *c = &r->curve;
        if (study_interrupted()) {
            status = study_checkpoint_save(&state) == 0 ? STUDY_STOPPED : RN_ERR_IO;
            break;
        }
        if (e->rai) {
            if (logged) status = forward_bce(net, p, &bce);
            if (status == RN_OK) status = last ? rn_rai_loss(rai, &losses) : rn_rai_step(rai, &losses);
        } else {
            status = last ? forward_bce(net, p, &bce) : backprop_step(net, opt, p, &bce);
            losses.total = losses.output = bce;
            losses.hidden = NAN;
        }
        if (!last) study_step_done();
        if (status != RN_OK || !logged) continue;
        c->iterations[c->n] = it;
        c->objective[c->n] = losses.total;
        c->output_loss[c->n] = losses.output;
        c->hidden_loss[c->n] = losses.hidden;
        c->forward_bce[c->n] = bce;
        c->n++;
        if (!last) report_progress_update(bar, it + 1, "loss %.4f", losses.total);
    }
    if (status == RN_OK) {
        const curve *c = &r->curve;
        r->objective = c->objective[c->n - 1];
        r->output_loss = c->output_loss[c->n - 1];
        r->hidden_loss = c->hidden_loss[c->n - 1];
        r->forward_bce = c->forward_bce[c->n - 1];
    }
    free(z);
    rn_rai_free(rai);
    rn_optim_free(opt);
    return status;
}

/* Accuracy on the training and test sets and the landscape, all through the
   ordinary forward pass. */
static int evaluate(rn_net *net, const problem *p, run_result *r)
{
    float *logits = (float *)malloc(sizeof(float) * (GRID * GRID > TEST_POINTS ? GRID * GRID : TEST_POINTS));
    int status = logits != NULL ? RN_OK : RN_ERR_MEMORY, i;
    if (status == RN_OK) status = predict(net, &p->train.inputs, logits);
    if (status == RN_OK) r->train_accuracy = accuracy(logits, p->train.labels, TRAIN_POINTS);
    if (status == RN_OK) status = predict(net, &p->test.inputs, logits);
    if (status == RN_OK) r->test_accuracy = accuracy(logits, p->test.labels, TEST_POINTS);
    if (status == RN_OK) status = predict(net, &p->grid, logits);
    for (i = 0; status == RN_OK && i < GRID * GRID; i++)
        r->landscape[i] = 1.0f / (1.0f + expf(-logits[i]));
    free(logits);
    return status;
}

static int run_experiment(const experiment *e, int run, const problem *p, const options *o,
                          run_result *r)
{
    report_progress bar;
    char label[64];
    double start = report_seconds();
    rn_net *net;
    int status;
    r->seed = (unsigned long)o->common.seed + (unsigned long)run;
    net = make_network(e->deep, o->depth, r->seed);
    if (net == NULL) return RN_ERR_MEMORY;
    snprintf(label, sizeof label, "%s, run %d/%d", e->name, run + 1, o->runs);
    report_progress_begin(&bar, label, o->iterations);
    bar.tty = bar.tty && o->common.jobs == 1; /* several runs share the terminal */
    status = train(e, net, p, o, r, &bar);
    report_progress_end(&bar);
    r->seconds = report_seconds() - start;
    if (status == RN_OK) status = evaluate(net, p, r);
    rn_net_free(net);
    return status;
}

/* ---- report ----------------------------------------------------------------- */

typedef struct spread {
    double mean, min, max;
} spread;

/* Mean, min and max over the runs of the value at byte offset `field`. */
static spread spread_of(const run_result *runs, int n, size_t field)
{
    spread s = {0.0, INFINITY, -INFINITY};
    int i;
    for (i = 0; i < n; i++) {
        double v = *(const double *)((const char *)&runs[i] + field);
        s.mean += v / n;
        s.min = v < s.min ? v : s.min;
        s.max = v > s.max ? v : s.max;
    }
    return s;
}

static void format_spread(char *cell, size_t size, spread s, int runs, int decimals)
{
    if (s.mean != s.mean) snprintf(cell, size, "n/a");
    else if (runs == 1) snprintf(cell, size, "%.*f", decimals, s.mean);
    else snprintf(cell, size, "%.*f [%.*f, %.*f]", decimals, s.mean, decimals, s.min, decimals, s.max);
}

/* Share of grid cells whose predicted class differs between two runs,
   averaged over all pairs of runs: how much the boundary moves with the seed. */
static double boundary_disagreement(const run_result *runs, int n)
{
    double total = 0.0;
    int a, b, i, pairs = 0;
    for (a = 0; a < n; a++)
        for (b = a + 1; b < n; b++, pairs++) {
            int differ = 0;
            for (i = 0; i < GRID * GRID; i++)
                differ += (runs[a].landscape[i] > 0.5f) != (runs[b].landscape[i] > 0.5f);
            total += (double)differ / (GRID * GRID);
        }
    return pairs > 0 ? total / pairs : NAN;
}

static int write_landscape(const char *dir, const experiment *e, int run, const run_result *r,
                           const problem *p, char *name, size_t name_size)
{
    static const char *const classes[2] = {"moon 0", "moon 1"};
    double xs[TRAIN_POINTS], ys[TRAIN_POINTS];
    char title[96];
    report_chart chart;
    report_heatmap map;
    report_points points;
    int i;
    for (i = 0; i < TRAIN_POINTS; i++) {
        xs[i] = p->train.inputs.data[2 * i];
        ys[i] = p->train.inputs.data[2 * i + 1];
    }
    snprintf(name, name_size, "landscape_%s_run%d.svg", e->slug, run + 1);
    snprintf(title, sizeof title, "%s (seed %lu)", e->name, r->seed);
    memset(&chart, 0, sizeof chart);
    chart.title = title;
    chart.x_label = "x1";
    chart.y_label = "x2";
    chart.width = 420;
    chart.height = 360;
    chart.x_min = chart.y_min = -EXTENT;
    chart.x_max = chart.y_max = EXTENT;
    memset(&map, 0, sizeof map);
    map.values = r->landscape;
    map.rows = map.columns = GRID;
    map.colormap = REPORT_VIRIDIS;
    map.value_min = 0.0;
    map.value_max = 1.0;
    map.value_label = "model output";
    memset(&points, 0, sizeof points);
    points.x = xs;
    points.y = ys;
    points.label = p->train.labels;
    points.n = TRAIN_POINTS;
    points.class_names = classes;
    points.n_classes = 2;
    return report_svg_heatmap(dir, name, &chart, &map, &points);
}

/* log10 of a curve, so that ln 2 and 1e-4 both show. */
static double *log_curve(const double *values, int n)
{
    double *logs = (double *)malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    int i;
    for (i = 0; logs != NULL && i < n; i++) logs[i] = log10(values[i] > 1e-12 ? values[i] : 1e-12);
    return logs;
}

/* Objective and forward BCE of every run of one architecture's experiments. */
static int write_loss_chart(const char *dir, int deep, run_result *const *results,
                            const options *o, const char *name)
{
    report_series series[2 * N_EXPERIMENTS * 8];
    char names[2 * N_EXPERIMENTS * 8][64];
    double *logs[2 * N_EXPERIMENTS * 8];
    report_chart chart;
    int e, run, n = 0, status, k, shown_runs = o->runs < 8 ? o->runs : 8;
    for (e = 0; e < N_EXPERIMENTS; e++) {
        if (experiments[e].deep != deep) continue;
        for (run = 0; run < shown_runs; run++) {
            const curve *c = &results[e][run].curve;
            for (k = 0; k < 1 + experiments[e].rai; k++) {
                const char *what = k ? " forward BCE" : experiments[e].rai ? " objective" : "";
                if (o->runs > 1)
                    snprintf(names[n], sizeof names[n], "%s%s, run %d", experiments[e].name, what,
                             run + 1);
                else
                    snprintf(names[n], sizeof names[n], "%s%s", experiments[e].name, what);
                logs[n] = log_curve(k ? c->forward_bce : c->objective, c->n);
                series[n].name = names[n];
                series[n].x = c->iterations;
                series[n].y = logs[n];
                series[n].n = logs[n] != NULL ? c->n : 0;
                n++;
            }
        }
    }
    memset(&chart, 0, sizeof chart);
    chart.title = deep ? "Deep network: training loss" : "Shallow network: training loss";
    chart.x_label = "iteration";
    chart.y_label = "log10(loss)";
    status = report_svg_line(dir, name, &chart, series, n);
    for (k = 0; k < n; k++) free(logs[k]);
    return status;
}

static int write_csvs(const char *dir, run_result *const *results, const options *o)
{
    static const char *const loss_header[8] = {"experiment", "run", "seed", "iteration",
                                               "objective", "output_loss", "hidden_loss",
                                               "forward_bce"};
    static const char *const result_header[10] = {"experiment", "run", "seed", "objective",
                                                  "output_loss", "hidden_loss", "forward_bce",
                                                  "train_accuracy", "test_accuracy", "seconds"};
    static const char *const grid_header[5] = {"experiment", "run", "x1", "x2", "output"};
    report_csv losses, finals, grid;
    int e, run, i, status = 0;
    status |= report_csv_open(&losses, dir, "losses.csv", loss_header, 8);
    status |= report_csv_open(&finals, dir, "results.csv", result_header, 10);
    status |= report_csv_open(&grid, dir, "landscapes.csv", grid_header, 5);
    for (e = 0; e < N_EXPERIMENTS && status == 0; e++)
        for (run = 0; run < o->runs; run++) {
            const run_result *r = &results[e][run];
            for (i = 0; i < r->curve.n; i++) {
                report_csv_str(&losses, experiments[e].slug);
                report_csv_int(&losses, run + 1);
                report_csv_int(&losses, (long)r->seed);
                report_csv_num(&losses, r->curve.iterations[i]);
                report_csv_num(&losses, r->curve.objective[i]);
                report_csv_num(&losses, r->curve.output_loss[i]);
                report_csv_num(&losses, r->curve.hidden_loss[i]);
                report_csv_num(&losses, r->curve.forward_bce[i]);
            }
            report_csv_str(&finals, experiments[e].slug);
            report_csv_int(&finals, run + 1);
            report_csv_int(&finals, (long)r->seed);
            report_csv_num(&finals, r->objective);
            report_csv_num(&finals, r->output_loss);
            report_csv_num(&finals, r->hidden_loss);
            report_csv_num(&finals, r->forward_bce);
            report_csv_num(&finals, r->train_accuracy);
            report_csv_num(&finals, r->test_accuracy);
            report_csv_num(&finals, r->seconds);
            for (i = 0; i < GRID * GRID; i++) {
                report_csv_str(&grid, experiments[e].slug);
                report_csv_int(&grid, run + 1);
                report_csv_num(&grid, -EXTENT + 2.0 * EXTENT * (i % GRID + 0.5) / GRID);
                report_csv_num(&grid, -EXTENT + 2.0 * EXTENT * (i / GRID + 0.5) / GRID);
                report_csv_num(&grid, r->landscape[i]);
            }
        }
    if (losses.file) status |= report_csv_close(&losses);
    if (finals.file) status |= report_csv_close(&finals);
    if (grid.file) status |= report_csv_close(&grid);
    return status;
}

/* Whether the run can judge the study's findings: the shallow plain network
   (the baseline) has trained, as study_judge has it, and the deep network is
   as deep as the study's. */
static void judge_run(study_judgement *j, run_result *const *results, const options *o)
{
    spread loss = spread_of(results[0], o->runs, offsetof(run_result, forward_bce));
    spread accuracy = spread_of(results[0], o->runs, offsetof(run_result, test_accuracy));
    study_judge(j, loss.mean, accuracy.mean, 2);
    if (j->judged && o->depth < STUDY_DEPTH) {
        j->judged = 0;
        snprintf(j->reason, sizeof j->reason, "the deep network has %d hidden layers, the study's %d "
                 "(--depth %d)", o->depth, STUDY_DEPTH, STUDY_DEPTH);
    }
}

/* The study's findings, each with its criterion and this run's numbers:
   the shallow network generalises under RAI as under backprop; the deep
   plain network stays at ln 2 while RAI trains it; RAI's boundaries vary
   more from seed to seed than backprop's. */
static void write_findings(FILE *md, const study_judgement *j, run_result *const *results,
                           const options *o)
{
    spread bp_test = spread_of(results[0], o->runs, offsetof(run_result, test_accuracy));
    spread rai_test = spread_of(results[1], o->runs, offsetof(run_result, test_accuracy));
    spread bp = spread_of(results[2], o->runs, offsetof(run_result, forward_bce));
    spread ra = spread_of(results[3], o->runs, offsetof(run_result, objective));
    spread ra_bce = spread_of(results[3], o->runs, offsetof(run_result, forward_bce));
    spread ra_test = spread_of(results[3], o->runs, offsetof(run_result, test_accuracy));
    double ln2 = log(2.0);
    int stays = fabs(bp.min - ln2) < 0.01 * ln2 && fabs(bp.max - ln2) < 0.01 * ln2;
    study_findings_begin(md, j);
    fprintf(md, "- The shallow network trained by RAI generalises as it does under backprop (the "
                "study's figures 2 and 3). Test accuracy on %d fresh points: RAI %.1f%% [%.1f, "
                "%.1f], backprop %.1f%% [%.1f, %.1f]; criterion: RAI's mean within 5 points of "
                "backprop's: %s.\n",
            TEST_POINTS, 100 * rai_test.mean, 100 * rai_test.min, 100 * rai_test.max,
            100 * bp_test.mean, 100 * bp_test.min, 100 * bp_test.max,
            study_verdict(j, rai_test.mean >= bp_test.mean - 0.05));
    fprintf(md, "- Backprop does not train the deep network (figure 4): final BCE over %d run(s) "
                "mean %.4f [%.4f, %.4f] against ln 2 = %.4f; criterion: within 1%% of ln 2 in "
                "every run: %s.\n",
            o->runs, bp.mean, bp.min, bp.max, ln2, study_verdict(j, stays));
    fprintf(md, "- RAI trains the same deep network (figure 5): final RAI objective mean %.4f "
                "[%.4f, %.4f]; criterion: below ln 2 / 10 in every run: %s. Its ordinary forward "
                "pass has BCE %.4f [%.4f, %.4f] and test accuracy %.1f%% [%.1f, %.1f].\n",
            ra.mean, ra.min, ra.max, study_verdict(j, ra.max < 0.1 * ln2), ra_bce.mean, ra_bce.min,
            ra_bce.max, 100 * ra_test.mean, 100 * ra_test.min, 100 * ra_test.max);
    if (o->runs > 1) {
        double bp_spread = boundary_disagreement(results[0], o->runs);
        double rai_spread = boundary_disagreement(results[1], o->runs);
        fprintf(md, "- RAI's decision boundary depends more on the seed than backprop's (the "
                    "study's discussion): share of the grid whose class changes between two "
                    "runs, shallow RAI %.4f, backprop %.4f; criterion: RAI's larger: %s.\n",
                rai_spread, bp_spread, study_verdict(j, rai_spread > bp_spread));
    } else {
        fprintf(md, "- RAI's decision boundary depends more on the seed than backprop's (the "
                    "study's discussion): takes two runs or more to compare (`--runs`); this "
                    "run has one.\n");
    }
    fprintf(md, "\n%d iterations; the deep network has %d hidden layers.\n\n", o->iterations, o->depth);
}

static void write_summary_table(FILE *md, run_result *const *results, const options *o)
{
    static const char *const header[7] = {"experiment", "objective", "L_y on Z_L",
                                          "forward BCE", "train accuracy", "test accuracy",
                                          "seconds per run"};
    static const size_t fields[6] = {offsetof(run_result, objective),
                                     offsetof(run_result, output_loss),
                                     offsetof(run_result, forward_bce),
                                     offsetof(run_result, train_accuracy),
                                     offsetof(run_result, test_accuracy),
                                     offsetof(run_result, seconds)};
    char cells[7][64];
    const char *row[7];
    int e, k;
    report_md_header(md, header, 7);
    for (e = 0; e < N_EXPERIMENTS; e++) {
        snprintf(cells[0], sizeof cells[0], "%s", experiments[e].name);
        for (k = 0; k < 6; k++) {
            spread s = spread_of(results[e], o->runs, fields[k]);
            if (k == 1 && !experiments[e].rai) /* backprop has no Z, so no hidden loss */
                snprintf(cells[k + 1], sizeof cells[k + 1], "none");
            else
                format_spread(cells[k + 1], sizeof cells[k + 1], s, o->runs, k == 5 ? 1 : 4);
        }
        for (k = 0; k < 7; k++) row[k] = cells[k];
        report_md_row(md, row, 7);
    }
    fprintf(md, "\n");
}

static int write_report(run_result *const *results, const problem *p, const options *o,
                        double seconds)
{
    FILE *md;
    char name[96];
    study_judgement judgement;
    int e, run, status = report_mkdir_p(o->common.out) == 0 ? 0 : -1;
    if (status == 0) status |= write_csvs(o->common.out, results, o);
    if (status == 0) status |= write_loss_chart(o->common.out, 0, results, o, "loss_shallow.svg");
    if (status == 0) status |= write_loss_chart(o->common.out, 1, results, o, "loss_deep.svg");
    md = status == 0 ? report_fopen(o->common.out, "REPORT.md", "wb") : NULL;
    if (md == NULL) return -1;
    judge_run(&judgement, results, o);
    fprintf(md, "# Relaxed activation identity against backpropagation on two moons\n\n");
    fprintf(md, "Reproduces the experiments of D. A. Mertens Velasquez, *An Empirical Study of "
                "Relaxed Activation Identity's Effects on First-Order Optimization*.\n\n");
    fprintf(md, "- Data: `make_moons(n_samples=%d, noise=%.1f, random_state=%d)` (scikit-learn's "
                "exact points); test set: %d points from random_state=%d (the study had none).\n",
            TRAIN_POINTS, TRAIN_NOISE, TRAIN_SEED, TEST_POINTS, TEST_SEED);
    fprintf(md, "- Shallow MLP (2, 42, 100, 100, 42, 1), ReLU hidden; deep MLP (2, %d hidden layers "
                "of 100, 1), sigmoid everywhere (%d linear layers). Sigmoid output with binary "
                "cross-entropy, PyTorch's default initialisation, the same initial weights for "
                "backprop and RAI in a run.\n", o->depth, o->depth + 1);
    fprintf(md, "- Rprop, lr %.1f, full batch, %d iterations, %d run(s) with seeds %lu..%lu%s.\n",
            (double)LEARNING_RATE, o->iterations, o->runs, (unsigned long)o->common.seed,
            (unsigned long)o->common.seed + (unsigned long)o->runs - 1, o->resync_every ? "" : "; Z never re-synced");
    if (o->resync_every) fprintf(md, "- RAI re-syncs Z from a forward pass every %d iterations.\n",
                                 o->resync_every);
    fprintf(md, "- RAI loss: L_y(Z_L) + sum_t mean((Z_t - Zhat_t)^2) over the %d (shallow 5) linear "
                "layers, each mean over all n x d_t elements. *objective* is the loss each method "
                "minimises (BCE for backprop, the RAI loss for RAI); *forward BCE* is the BCE of the "
                "ordinary forward pass, which is also how every accuracy and landscape is "
                "computed.\n", o->depth + 1);
    fprintf(md, "- Total time %.0f s.\n\n", seconds);
    study_judgement_note(md, &judgement);
    write_findings(md, &judgement, results, o);
    fprintf(md, "## Final loss and accuracy\n\nAfter the last iteration; mean [min, max] over the "
                "runs.\n\n");
    write_summary_table(md, results, o);
    if (o->runs > 1) {
        fprintf(md, "Share of the [-3, 3]^2 grid whose predicted class changes between two runs "
                    "(mean over pairs of runs): how much the decision boundary depends on the "
                    "seed.\n\n");
        report_md_header(md, (const char *const[]){"experiment", "boundary disagreement"}, 2);
        for (e = 0; e < N_EXPERIMENTS; e++) {
            double v = boundary_disagreement(results[e], o->runs);
            report_md_row_numbers(md, experiments[e].name, &v, 1, 4);
        }
        fprintf(md, "\n");
    }
    fprintf(md, "## Decision landscapes\n\nModel output (sigmoid of the forward pass) on a %dx%d "
                "grid over [-3, 3]^2, training points on top.\n\n", GRID, GRID);
    report_md_header(md, (const char *const[]){"run", experiments[0].name, experiments[1].name,
                                               experiments[2].name, experiments[3].name}, 5);
    for (run = 0; run < o->runs; run++) {
        fprintf(md, "| %d |", run + 1);
        for (e = 0; e < N_EXPERIMENTS; e++) {
            status |= write_landscape(o->common.out, &experiments[e], run, &results[e][run], p, name,
                                      sizeof name);
            fprintf(md, " ![%s, run %d](%s) |", experiments[e].name, run + 1, name);
        }
        fprintf(md, "\n");
    }
    fprintf(md, "\n## Loss curves\n\n");
    fprintf(md, "log10 of the loss; losses below 1e-12 are drawn at -12.\n\n");
    report_md_image(md, "Shallow network: loss per iteration", "loss_shallow.svg");
    report_md_image(md, "Deep network: loss per iteration", "loss_deep.svg");
    fprintf(md, "## Files\n\n- `losses.csv`: every curve point (experiment, run, seed, iteration, "
                "objective, output_loss, hidden_loss, forward_bce)\n- `results.csv`: final values "
                "per run\n- `landscapes.csv`: every landscape cell\n");
    if (report_fclose(md) != 0) status = -1;
    return status;
}

/* ---- main --------------------------------------------------------------------- */

/* What a run needs. */
typedef struct moons_study {
    const problem *p;
    const options *o;
} moons_study;

/* A study_task_fn: unit k is run k % runs of experiment k / runs. */
static int run_unit(int unit, void *context, void *result)
{
    const moons_study *s = (const moons_study *)context;
    int status = run_experiment(&experiments[unit / s->o->runs], unit % s->o->runs, s->p, s->o,
                                (run_result *)result);
    if (status == STUDY_STOPPED) return status;
    if (status != RN_OK) fprintf(stderr, "rai_moons: %s: %s\n", rn_status_string(status), rn_last_error());
    return status == RN_OK ? 0 : -1;
}

/* A study_unit_name_fn: "deep_rai_run_2". */
static void unit_name(int unit, void *context, char *name, size_t size)
{
    const moons_study *s = (const moons_study *)context;
    snprintf(name, size, "%s_run_%d", experiments[unit / s->o->runs].slug, unit % s->o->runs + 1);
}

/* Every run the options ask for into results, experiment after experiment
   (see study_run_units): 0, 1 when there is nothing more to do, -1. */
static int run_all(const problem *p, const options *o, run_result *results)
{
    moons_study s;
    study_units units;
    s.p = p;
    s.o = o;
    study_units_init(&units, N_EXPERIMENTS * o->runs, run_unit, unit_name, &s, results, sizeof *results);
    study_units_setting(&units, "iterations", "%d", o->iterations);
    study_units_setting(&units, "runs", "%d", o->runs);
    study_units_setting(&units, "depth", "%d", o->depth);
    study_units_setting(&units, "resync", "%d", o->resync_every);
    return study_run_units(&o->common, &units);
}

int main(int argc, char **argv)
{
    options o;
    problem p;
    run_result *all, *results[N_EXPERIMENTS];
    double start = report_seconds();
    int e, status = parse_options(argc, argv, &o);
    if (status != 0) return status > 0 ? 0 : 2;
    if (!o.common.list && study_make_folder(o.common.out) != 0) return 1; /* before the training */
    all = (run_result *)calloc((size_t)N_EXPERIMENTS * o.runs, sizeof *all);
    if (all == NULL || make_problem(&p) != RN_OK) {
        fprintf(stderr, "rai_moons: %s\n", all ? rn_last_error() : "out of memory");
        if (all) free_problem(&p);
        free(all);
        return 1;
    }
    for (e = 0; e < N_EXPERIMENTS; e++) results[e] = all + (size_t)e * o.runs;
    status = run_all(&p, &o, all);
    errno = 0; /* what the system says if writing the report fails */
    if (status == 0 && write_report(results, &p, &o, report_seconds() - start) != 0) {
        fprintf(stderr, "rai_moons: cannot write the report in %s: %s\n", o.common.out,
                errno != 0 ? strerror(errno) : "a chart or table could not be made");
        status = -1;
    } else if (status == 0) {
        for (e = 0; e < N_EXPERIMENTS; e++) {
            spread loss = spread_of(results[e], o.runs, offsetof(run_result, objective));
            spread test = spread_of(results[e], o.runs, offsetof(run_result, test_accuracy));
            printf("%-17s objective %.4f  test accuracy %.3f\n", experiments[e].name, loss.mean,
                   test.mean);
        }
        printf("report: %s/REPORT.md\n", o.common.out);
    }
    free(all);
    free_problem(&p);
    return status < 0 ? 1 : 0;
}
