/* prelu_study.c - He et al. 2015, "Delving Deep into Rectifiers", as read by
 * a course reading group, on CIFAR-10 with a small plain CNN:
 *   1. ReLU vs LReLU (slope 0.01 and 0.1) vs PReLU channel-shared and
 *      channel-wise (slopes start at 0.25, no weight decay on them): top-1
 *      and top-5 test error, and the learned slopes per layer;
 *   2. a deep plain ReLU net (30 conv layers of 8 channels, no batch norm)
 *      trained from He and from Xavier initialisation: loss curves.
 *
 *     cc -O2 -I/usr/include/stb examples/prelu_study.c -o prelu_study -lm
 *     ./prelu_study --data DIR                (see --help)
 *
 * Writes REPORT.md, CSV files and SVG charts to results/prelu_study/.
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
    "usage: prelu_study [options]\n"
    "Trains a plain CNN on CIFAR-10 with ReLU, LReLU 0.01, LReLU 0.1, PReLU channel-shared\n"
    "and PReLU channel-wise, then a 30-layer plain ReLU net from He and from Xavier\n"
    "initialisation, and writes a report.\n"
    "  --epochs N       epochs of the activation comparison (default 8); the learning rate\n"
    "                   is divided by 10 for the last fifth of them\n"
    "  --train N        training images, a stratified subsample (default 50000: all)\n"
    "  --test N         test images (default 10000, all of them)\n"
    "  --lr X           SGD learning rate (default 0.01; momentum 0.9, weight decay 5e-4\n"
    "                   on weights only)\n"
    "  --deep-train N   training images of the deep-net experiment, drawn from the\n"
    "                   --train ones (default 10000)\n"
    "  --deep-epochs N  its epochs (default 4)\n"
    "  --augment        the CIFAR-10 augmentation of He et al. for the comparison: each\n"
    "                   batch randomly cropped from 4 pixels of zero padding and\n"
    "                   flipped left-right with probability 1/2 (seeded by --seed)\n"
    "  --data DIR       CIFAR-10: the cifar-10-batches-bin folder, or one that\n"
    "                   holds it (default $RELUNET_DATA, the same rule;\n"
    "                   scripts/get-cifar10.sh DIR fetches it)\n"
    "  --out DIR        output folder (default results/prelu_study)\n"
    "  --seed N         weights and batch order (default 1)\n"
    "  --jobs N         trainings run side by side (default: processors; 1 on systems\n"
    "                   without fork)\n"
    "  --quick          seconds: 256 training and 200 test images, 1 epoch\n"
    "  --help           this text\n"
    STUDY_UNITS_USAGE;

typedef struct options {
    study_options common; /* --data, --out, --seed, --jobs, --train, --test, --epochs */
    int deep_train, deep_epochs, augment;
    double lr;
} options;

enum { RELU, LRELU_SMALL, LRELU_LARGE, PRELU_SHARED, PRELU_CHANNEL, DEEP_HE, DEEP_XAVIER, N_TASKS };
enum { N_COMPARED = DEEP_HE, MAX_EPOCHS = 200, MAX_POINTS = 2000, DEEP_LAYERS = 30,
       DEEP_CHANNELS = 8, BATCH = 64, LOSS_EVERY = 2 };

static const char *const task_labels[N_TASKS] = {
    "ReLU", "LReLU 0.01", "LReLU 0.1", "PReLU channel-shared", "PReLU channel-wise",
    "30 layers, He init", "30 layers, Xavier init"};

/* The plain CNN: 3x3 conv layers (padding 1) in three stages at 32x32,
   16x16 and 8x8 with a 2x2 max pool between them, then two linear layers.
   Every conv layer and the first linear one are followed by the activation. */
static const int conv_channels[] = {16, 16, 32, 32, 32, 32};
static const int pool_after[] = {0, 1, 0, 1, 0, 0};
enum { N_CONV = sizeof conv_channels / sizeof conv_channels[0], N_ACT_LAYERS = N_CONV + 1,
       HIDDEN = 128 };

/* What one training leaves behind: plain data, so that it can come back
   from a child process. */
typedef struct task_result {
    double train_loss[MAX_EPOCHS];
    study_metrics final;
    double slopes[N_ACT_LAYERS];          /* PReLU: mean learned slope per layer */
    double curve_step[MAX_POINTS], curve_loss[MAX_POINTS]; /* deep nets: loss every few steps */
    int n_points;
    double images, seconds; /* images trained on, and the time it took */
} task_result;

typedef struct study {
    options o;
    rn_dataset train, test, deep_train;
} study;

static void set_defaults(options *o, int quick)
{
    memset(o, 0, sizeof *o);
    study_defaults(&o->common, "results/prelu_study", quick ? 1 : 8, quick ? 256 : 50000,
                   quick ? 200 : 10000);
    o->deep_train = quick ? 128 : 10000;
    o->deep_epochs = quick ? 1 : 4;
    o->lr = 0.01;
}

/* A study_option_fn for this example's own options. */
static int own_option(int argc, char **argv, int *i, void *context)
{
    options *o = (options *)context;
    int found;
    if (strcmp(argv[*i], "--augment") == 0) return o->augment = 1;
    if ((found = study_number_option(argc, argv, i, "--lr", 1e-7, 10.0, &o->lr)) != 0) return found;
    if ((found = study_int_option(argc, argv, i, "--deep-train", 64, 50000, &o->deep_train)) != 0)
        return found;
    return study_int_option(argc, argv, i, "--deep-epochs", 1, MAX_EPOCHS, &o->deep_epochs);
}

/* 0: go on; 1: done (help shown); -1: bad arguments. */
static int parse_options(int argc, char **argv, options *o)
{
    if (study_help(argc, argv, usage)) return 1;
    set_defaults(o, study_has_flag(argc, argv, "--quick"));
    if (study_parse_options(argc, argv, &o->common, own_option, o) != 0) return -1;
    if (o->common.epochs > MAX_EPOCHS) {
        fprintf(stderr, "--epochs: at most %d\n", MAX_EPOCHS);
        return -1;
    }
    if ((long)o->deep_epochs * ((o->deep_train + BATCH - 1) / BATCH) / LOSS_EVERY >= MAX_POINTS) {
        fprintf(stderr, "--deep-train x --deep-epochs is too large for the loss curve\n");
        return -1;
    }
    return 0;
}

/* The activation of one comparison task. */
static rn_act_desc activation_of(int task)
{
    rn_act_desc act;
    memset(&act, 0, sizeof act);
    act.kind = task == LRELU_SMALL || task == LRELU_LARGE ? RN_ACT_LRELU
               : task == PRELU_SHARED || task == PRELU_CHANNEL ? RN_ACT_PRELU
                                                              : RN_ACT_RELU;
    act.slope = task == LRELU_LARGE ? 0.1f : 0.01f;
    act.share = task == PRELU_CHANNEL ? RN_SHARE_CHANNEL : RN_SHARE_LAYER;
    return act;
}

/* The negative slope the He gain assumes: the activation's starting slope. */
static float init_slope_of(int task)
{
    return task == LRELU_SMALL ? 0.01f : task == LRELU_LARGE ? 0.1f
           : task == PRELU_SHARED || task == PRELU_CHANNEL ? 0.25f : 0.0f;
}

static rn_net *network_failed(rn_net *net)
{
    fprintf(stderr, "cannot build the network: %s\n", rn_last_error());
    rn_net_free(net);
    return NULL;
}

static rn_net *build_plain_cnn(const rn_act_desc *act)
{
    rn_net *net = rn_net_new(3, (int[]){3, 32, 32});
    int i, status = net ? RN_OK : RN_ERR_MEMORY;
    for (i = 0; i < N_CONV && status == RN_OK; i++) {
        status = rn_net_add_conv2d(net, conv_channels[i], 3, 1, 1);
        if (status == RN_OK) status = rn_net_add_activation_ex(net, act);
        if (status == RN_OK && pool_after[i]) status = rn_net_add_maxpool2d(net, 2, 2);
    }
    if (status == RN_OK) status = rn_net_add_flatten(net);
    if (status == RN_OK) status = rn_net_add_linear(net, HIDDEN);
    if (status == RN_OK) status = rn_net_add_activation_ex(net, act);
    if (status == RN_OK) status = rn_net_add_linear(net, 10);
    return status == RN_OK ? net : network_failed(net);
}

/* The input channels and side of conv layer `layer` (N_CONV: of the flatten). */
static void conv_input(int layer, int *channels, int *side)
{
    int i;
    *channels = 3;
    *side = 32;
    for (i = 0; i < layer; i++) {
        *channels = conv_channels[i];
        *side >>= pool_after[i];
    }
}

/* "conv3 16->32, 16x16", "... (before pool)", and "fc1 2048->128" last. */
static void act_layer_name(int layer, char *name, size_t size)
{
    int in, side;
    conv_input(layer, &in, &side);
    if (layer == N_CONV)
        snprintf(name, size, "fc1 %d->%d", in * side * side, HIDDEN);
    else
        snprintf(name, size, "conv%d %d->%d, %dx%d%s", layer + 1, in, conv_channels[layer], side,
                 side, pool_after[layer] ? " (before pool)" : "");
}

/* A 2x2 average pool down to 16x16, then 30 conv layers of 8 channels (3x3,
   padding 1) with ReLU and no normalisation, then a linear classifier. 8
   channels at 16x16 cost what 16 at 8x8 would, and lose less to the zero
   padding: on an 8x8 map a third of the taps fall outside, which shrinks
   the signal by 0.77 per layer even from He initialisation. */
static rn_net *build_deep_net(void)
{
    rn_net *net = rn_net_new(3, (int[]){3, 32, 32});
    int i, status = net ? rn_net_add_avgpool2d(net, 2, 2) : RN_ERR_MEMORY;
    for (i = 0; i < DEEP_LAYERS && status == RN_OK; i++) {
        status = rn_net_add_conv2d(net, DEEP_CHANNELS, 3, 1, 1);
        if (status == RN_OK) status = rn_net_add_activation(net, RN_ACT_RELU);
    }
    if (status == RN_OK) status = rn_net_add_flatten(net);
    if (status == RN_OK) status = rn_net_add_linear(net, 10);
    return status == RN_OK ? net : network_failed(net);
}

/* The mean slope of every PReLU layer (over its channels), NaN elsewhere. */
static void read_slopes(rn_net *net, double slopes[N_ACT_LAYERS])
{
    rn_param *found[N_ACT_LAYERS];
    int count = rn_net_select(net, RN_PARAMS_NAMED("slope"), found, N_ACT_LAYERS), i;
    size_t j;
    for (i = 0; i < N_ACT_LAYERS; i++) {
        double sum = 0.0;
        for (j = 0; i < count && j < found[i]->value.size; j++) sum += found[i]->value.data[j];
        slopes[i] = i < count ? sum / (double)found[i]->value.size : NAN;
    }
}

/* A study_epoch_fn: the epoch's training loss into the task_result. */
static int keep_epoch_loss(void *context, int epoch, double loss)
{
    ((task_result *)context)->train_loss[epoch - 1] = loss;
    return 0;
}

/* A study_record_fn: the deep net's loss curve into the task_result. */
static void keep_curve_point(void *context, long step, int epoch, double loss, double accuracy)
{
    task_result *r = (task_result *)context;
    (void)epoch;
    (void)accuracy;
    if (r->n_points == MAX_POINTS) return;
    r->curve_step[r->n_points] = (double)step;
    r->curve_loss[r->n_points++] = loss;
}

/* SGD with momentum 0.9 (and for the comparison weight decay 5e-4 on the
   weights only: not on biases, not on slopes); NULL after saying why. */
static rn_optim *make_optimizer(rn_net *net, const options *o, int weight_decay)
{
    rn_optim *opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = (float)o->lr,
                                                        .momentum = 0.9f});
    if (opt && weight_decay &&
        rn_optim_set_group(opt, RN_PARAMS_OF_KIND(RN_PARAM_WEIGHT), (float)o->lr, 5e-4f) != RN_OK) {
        rn_optim_free(opt);
        opt = NULL;
    }
    if (!opt) fprintf(stderr, "cannot make the optimizer: %s\n", rn_last_error());
    return opt;
}

/* A comparison task: the plain CNN with the task's activation, learning
   rate divided by 10 for the last fifth of the epochs; then the test
   metrics and the learned slopes. */
static int train_comparison(study *s, int task, task_result *r)
{
    const options *o = &s->o;
    rn_act_desc act = activation_of(task);
    study_training t;
    rn_augment augment = {4, 1, {0, 0}};
    int status;
    memset(&t, 0, sizeof t);
    rn_rng_seed(&augment.rng, (uint64_t)o->common.seed, 11);
    if (o->augment) t.augment = &augment;
    if ((t.net = build_plain_cnn(&act)) == NULL) return -1;
    rn_net_init(t.net, RN_INIT_HE_NORMAL, init_slope_of(task), (uint64_t)o->common.seed);
    t.opt = make_optimizer(t.net, o, 1);
    t.train = &s->train;
    t.batch_size = BATCH;
    t.epochs = o->common.epochs;
    t.lr_drop_epoch = o->common.epochs - o->common.epochs / 5 + 1;
    t.shuffle_seed = (uint64_t)o->common.seed;
    t.epoch_end = keep_epoch_loss;
    t.context = r;
    t.label = task_labels[task];
    t.plain_progress = o->common.jobs > 1;
    status = t.opt && study_train(&t) == 0 && study_evaluate(t.net, &s->test, &r->final) == 0 ? 0 : -1;
    r->images = (double)o->common.epochs * s->train.inputs.shape[0];
    read_slopes(t.net, r->slopes);
    rn_optim_free(t.opt);
    rn_net_free(t.net);
    return status;
}

/* A deep-net task: the training loss averaged over every LOSS_EVERY
   batches. A diverging run (a non-finite loss) ends its curve there with a
   NaN point; that is a result, not a failure. */
static int train_deep(study *s, int task, task_result *r)
{
    const options *o = &s->o;
    study_training t;
    memset(&t, 0, sizeof t);
    if ((t.net = build_deep_net()) == NULL) return -1;
    rn_net_init(t.net, task == DEEP_HE ? RN_INIT_HE_NORMAL : RN_INIT_XAVIER_NORMAL, 0.0f,
                (uint64_t)o->common.seed);
    t.opt = make_optimizer(t.net, o, 0);
    t.train = &s->deep_train;
    t.batch_size = BATCH;
    t.epochs = o->deep_epochs;
    t.shuffle_seed = (uint64_t)o->common.seed + 1;
    t.record_every = LOSS_EVERY;
    t.record = keep_curve_point;
    t.context = r;
    t.label = task_labels[task];
    t.plain_progress = o->common.jobs > 1;
    if (t.opt) study_train(&t);
    r->images = r->n_points > 0 ? r->curve_step[r->n_points - 1] * BATCH : 0.0;
    r->train_loss[0] = r->n_points > 0 ? r->curve_loss[r->n_points - 1] : NAN;
    rn_optim_free(t.opt);
    rn_net_free(t.net);
    return t.opt ? 0 : -1;
}

/* A study_task_fn: one of the N_TASKS trainings. */
static int run_task(int task, void *context, void *result)
{
    task_result *r = (task_result *)result;
    double start = report_seconds();
    int status;
    memset(r, 0, sizeof *r);
    status = task < N_COMPARED ? train_comparison((study *)context, task, r)
                               : train_deep((study *)context, task, r);
    r->seconds = report_seconds() - start;
    return status;
}

/* ----- report ----- */

static int write_csv_files(const options *o, const task_result *results)
{
    static const char *const errors_header[] = {"activation", "top1_error", "top5_error",
                                                "test_loss", "final_train_loss", "seconds",
                                                "images_per_second"};
    static const char *const slopes_header[] = {"layer", "depth", "channel_shared",
                                                "channel_wise"};
    static const char *const deep_header[] = {"init", "step", "train_loss"};
    report_csv errors, slopes, deep;
    int i, k, failed = 0;
    failed |= report_csv_open(&errors, o->common.out, "errors.csv", errors_header, 7);
    failed |= report_csv_open(&slopes, o->common.out, "slopes.csv", slopes_header, 4);
    failed |= report_csv_open(&deep, o->common.out, "deep_init.csv", deep_header, 3);
    for (i = 0; i < N_COMPARED && !failed; i++) {
        report_csv_str(&errors, task_labels[i]);
        report_csv_num(&errors, 1.0 - results[i].final.accuracy);
        report_csv_num(&errors, results[i].final.top5_error);
        report_csv_num(&errors, results[i].final.loss);
        report_csv_num(&errors, results[i].train_loss[o->common.epochs - 1]);
        report_csv_num(&errors, results[i].seconds);
        report_csv_num(&errors, results[i].images / results[i].seconds);
    }
    for (i = 0; i < N_ACT_LAYERS && !failed; i++) {
        char name[64];
        act_layer_name(i, name, sizeof name);
        report_csv_str(&slopes, name);
        report_csv_int(&slopes, i + 1);
        report_csv_num(&slopes, results[PRELU_SHARED].slopes[i]);
        report_csv_num(&slopes, results[PRELU_CHANNEL].slopes[i]);
    }
    for (i = DEEP_HE; i <= DEEP_XAVIER && !failed; i++)
        for (k = 0; k < results[i].n_points; k++) {
            report_csv_str(&deep, task_labels[i]);
            report_csv_num(&deep, results[i].curve_step[k]);
            report_csv_num(&deep, results[i].curve_loss[k]);
        }
    failed |= report_csv_close(&errors);
    failed |= report_csv_close(&slopes);
    failed |= report_csv_close(&deep);
    return failed ? -1 : 0;
}

/* n series of the tasks from first on, y from each one's result. */
static void task_series(report_series *series, const task_result *results, int first, int n,
                        const double *x, int points, const double *(*y)(const task_result *))
{
    int i;
    for (i = 0; i < n; i++) {
        series[i].name = task_labels[first + i];
        series[i].x = x ? x : results[first + i].curve_step;
        series[i].y = y(&results[first + i]);
        series[i].n = points > 0 ? points : results[first + i].n_points;
    }
}

static const double *slopes_of(const task_result *r) { return r->slopes; }
static const double *train_loss_of(const task_result *r) { return r->train_loss; }
static const double *curve_of(const task_result *r) { return r->curve_loss; }

static int write_charts(const options *o, const task_result *results)
{
    static const report_chart slopes = {.title = "Learned PReLU slope per layer (mean over channels)",
                                        .x_label = "depth (activation layer)", .y_label = "slope"};
    static const report_chart losses = {.title = "Training loss per epoch", .x_label = "epoch",
                                        .y_label = "cross-entropy"};
    static const report_chart deep = {.title = "30-layer plain ReLU net: training loss",
                                      .x_label = "step (batches of 64)", .y_label = "cross-entropy"};
    static double depth[N_ACT_LAYERS], epochs[MAX_EPOCHS];
    report_series series[N_COMPARED];
    int i, failed;
    for (i = 0; i < N_ACT_LAYERS; i++) depth[i] = i + 1;
    for (i = 0; i < o->common.epochs; i++) epochs[i] = i + 1;
    task_series(series, results, PRELU_SHARED, 2, depth, N_ACT_LAYERS, slopes_of);
    failed = report_svg_line(o->common.out, "slopes.svg", &slopes, series, 2);
    task_series(series, results, 0, N_COMPARED, epochs, o->common.epochs, train_loss_of);
    failed |= report_svg_line(o->common.out, "train_loss.svg", &losses, series, N_COMPARED);
    task_series(series, results, DEEP_HE, 2, NULL, 0, curve_of);
    failed |= report_svg_line(o->common.out, "deep_init.svg", &deep, series, 2);
    return failed;
}

static void report_setup(FILE *md, const study *s, double seconds)
{
    const options *o = &s->o;
    int i, flat_channels, flat_side;
    conv_input(N_CONV, &flat_channels, &flat_side);
    fprintf(md, "# Delving Deep into Rectifiers (He et al. 2015) on CIFAR-10\n\n"
            "The reading group's questions on PReLU, answered with relunet "
            "(`examples/prelu_study.c`).\n\n- Network: a plain CNN,");
    for (i = 0; i < N_CONV; i++)
        fprintf(md, " conv 3x3 %d%s", conv_channels[i], pool_after[i] ? " | max pool 2 |" : ",");
    fprintf(md, " linear %d->%d, linear %d->10; the activation after every conv layer and "
            "after the first linear one.\n"
            "- Training: He-normal weights (gain for the activation's starting slope), zero "
            "biases; SGD, momentum 0.9, weight decay 5e-4 on the weights only (none on biases "
            "or slopes), batch %d, learning rate %g divided by 10 for the last fifth of the "
            "epochs; every image standardised on its own, %s. PReLU slopes start "
            "at 0.25.\n", flat_channels * flat_side * flat_side, HIDDEN, HIDDEN, BATCH, o->lr,
            o->augment ? "each batch randomly cropped from 4 pixels of zero padding and "
                         "flipped left-right with probability 1/2 (`--augment`)"
                       : "no augmentation (`--augment` adds He et al.'s crop and flip)");
    fprintf(md, "- This run: %d training images, %d epoch%s, errors on %d test images; the "
            "deep-net experiment on %d of the training images for %d epoch%s; seed %d; %.0f s "
            "in all (`--jobs %d`).\n\n", s->train.inputs.shape[0], o->common.epochs,
            o->common.epochs == 1 ? "" : "s", s->test.inputs.shape[0],
            s->deep_train.inputs.shape[0], o->deep_epochs, o->deep_epochs == 1 ? "" : "s",
            o->common.seed, seconds, o->common.jobs);
    fprintf(md, "**How it differs from the paper.** The paper trained 14- to 19-layer models "
            "with 64 to 512 channels on ImageNet (1.28 million 224x224 images, 1000 classes) "
            "for about 80 epochs with scale and colour augmentation, batch 128, and tested on "
            "several views; this is an %d-layer CNN of at most %d channels on %d CIFAR-10 images "
            "(32x32, 10 classes) for %d epoch%s (%.0f s here), tested on one view. Top-5 error "
            "over 10 classes is a much easier score than over 1000. The gains and slopes can be "
            "compared in direction and pattern, not in value.\n\n", N_CONV + 2,
            conv_channels[N_CONV - 1], s->train.inputs.shape[0], o->common.epochs,
            o->common.epochs == 1 ? "" : "s", seconds);
}

/* The two comparison tables: errors per activation, slopes per layer. */
static void report_comparison(FILE *md, const task_result *results)
{
    static const char *const errors_header[] = {"Activation", "Top-1 error (%)",
                                                "Top-5 error (%)", "Test loss"};
    static const char *const slopes_header[] = {"Layer", "Channel-shared", "Channel-wise"};
    int i;
    fprintf(md, "## Top-1 and top-5 test error\n\n"
            "The paper (ImageNet, 14-layer model): ReLU 33.82 / 13.34, PReLU channel-wise "
            "32.64 / 12.75, a gain of 1.2 points top-1.\n\n");
    report_md_header(md, errors_header, 4);
    for (i = 0; i < N_COMPARED; i++) {
        double row[3];
        row[0] = 100.0 * (1.0 - results[i].final.accuracy);
        row[1] = 100.0 * results[i].final.top5_error;
        row[2] = results[i].final.loss;
        report_md_row_numbers(md, task_labels[i], row, 3, 2);
    }
    fprintf(md, "\nPReLU channel-wise vs ReLU: %+.2f points top-1, %+.2f points top-5 (negative: "
            "PReLU better, as in the paper).\n\n",
            100.0 * (results[RELU].final.accuracy - results[PRELU_CHANNEL].final.accuracy),
            100.0 * (results[PRELU_CHANNEL].final.top5_error - results[RELU].final.top5_error));
    report_md_image(md, "Training loss per epoch", "train_loss.svg");

    fprintf(md, "\n## Learned slopes per layer (mean over channels)\n\n"
            "The paper found conv1's slope large (0.681 shared, 0.596 channel-wise), the "
            "deeper ones small, larger again before pooling, and the fully connected ones near "
            "0.05.\n\n");
    report_md_header(md, slopes_header, 3);
    for (i = 0; i < N_ACT_LAYERS; i++) {
        double row[2];
        char name[64];
        act_layer_name(i, name, sizeof name);
        row[0] = results[PRELU_SHARED].slopes[i];
        row[1] = results[PRELU_CHANNEL].slopes[i];
        report_md_row_numbers(md, name, row, 2, 3);
    }
    fprintf(md, "\n");
    report_md_image(md, "Learned slope vs depth", "slopes.svg");
}

static void report_deep(FILE *md, const options *o, const task_result *results)
{
    static const char *const deep_header[] = {"Initialisation", "Loss at the start",
                                              "Loss at the end", "Steps"};
    int i, diverged = 0;
    fprintf(md, "\n## Initialisation of a 30-layer plain ReLU net\n\n"
            "A 2x2 average pool to 16x16, then %d conv layers of %d channels (3x3) with ReLU and "
            "no normalisation, then a linear classifier; SGD with momentum 0.9, learning rate "
            "%g. The paper (ImageNet, wider layers): from He initialisation the 30-layer net "
            "converges, from Xavier it stalls (the signal shrinks by about 1/sqrt(2) per ReLU "
            "layer).\n\n", DEEP_LAYERS, DEEP_CHANNELS, o->lr);
    report_md_header(md, deep_header, 4);
    for (i = DEEP_HE; i <= DEEP_XAVIER; i++) {
        const task_result *r = &results[i];
        char cells[3][32];
        const char *row[4];
        double end = r->n_points > 0 ? r->curve_loss[r->n_points - 1] : NAN;
        snprintf(cells[0], sizeof cells[0], "%.4f", r->n_points > 0 ? r->curve_loss[0] : NAN);
        snprintf(cells[1], sizeof cells[1], "%.4f", end);
        snprintf(cells[2], sizeof cells[2], "%.0f", r->n_points > 0 ? r->curve_step[r->n_points - 1] : 0.0);
        diverged |= !(end == end);
        row[0] = task_labels[i];
        row[1] = cells[0];
        row[2] = cells[1];
        row[3] = cells[2];
        report_md_row(md, row, 4); /* steps are a count: no decimals */
    }
    if (diverged) fprintf(md, "\n(n/a at the end: the loss stopped being finite.)\n");
    fprintf(md, "\n");
    report_md_image(md, "30-layer net: training loss from He and Xavier initialisation",
                    "deep_init.svg");
}

/* The paper's findings, each checked against this run. */
static void report_findings(FILE *md, const study_judgement *j, const task_result *results)
{
    const task_result *he = &results[DEEP_HE], *xavier = &results[DEEP_XAVIER];
    double relu = 100 * (1 - results[RELU].final.accuracy);
    double shared = 100 * (1 - results[PRELU_SHARED].final.accuracy);
    double wise = 100 * (1 - results[PRELU_CHANNEL].final.accuracy);
    double first = results[PRELU_CHANNEL].slopes[0], deeper = 0.0, chance = log(10.0);
    double he_end = he->n_points > 0 ? he->curve_loss[he->n_points - 1] : NAN;
    double xavier_end = xavier->n_points > 0 ? xavier->curve_loss[xavier->n_points - 1] : NAN;
    int layer;
    for (layer = 1; layer < N_CONV; layer++) deeper += results[PRELU_CHANNEL].slopes[layer] / (N_CONV - 1);
    study_findings_begin(md, j);
    fprintf(md, "- *PReLU channel-wise has a lower top-1 error than ReLU* (paper: 1.2 points "
            "lower). Here %.2f%% against %.2f%%: %s.\n", wise, relu, study_verdict(j, wise < relu));
    fprintf(md, "- *PReLU channel-shared is better than ReLU too, by less* (paper: 1.1 points). "
            "Here %.2f%% against %.2f%%: %s.\n", shared, relu, study_verdict(j, shared < relu));
    fprintf(md, "- *The first conv layer learns larger slopes than the deeper ones* (paper: 0.681 "
            "and 0.596 in conv1, smaller in most deeper layers). Channel-wise here: %.3f in conv1, "
            "%.3f on average in conv2-%d: %s.\n", first, deeper, N_CONV,
            study_verdict(j, first > deeper));
    fprintf(md, "- *A 30-layer plain ReLU net trains from He initialisation and stalls from "
            "Xavier* (taken as: He's final loss more than 5%% below ln 10 = %.3f, Xavier's not). "
            "Here He %.4f, Xavier %.4f: %s.\n\n", chance, he_end, xavier_end,
            study_verdict(j, he_end < 0.95 * chance && !(xavier_end < 0.95 * chance)));
}

static int write_report(const study *s, const task_result *results, double seconds)
{
    FILE *md = study_report_open(s->o.common.out);
    study_judgement judgement;
    if (md == NULL) return -1;
    study_judge(&judgement, results[RELU].train_loss[s->o.common.epochs - 1],
                results[RELU].final.accuracy, 10);
    report_setup(md, s, seconds);
    study_judgement_note(md, &judgement);
    report_comparison(md, results);
    report_deep(md, &s->o, results);
    report_findings(md, &judgement, results);
    fprintf(md, "\nFiles: `errors.csv`, `slopes.csv`, `deep_init.csv`.\n");
    return report_fclose(md) == 0 ? 0 : -1;
}

/* The training and test sets, and the deep net's share of the training set. */
static int load_data(study *s)
{
    const study_options *c = &s->o.common;
    int deep = s->o.deep_train;
    if (study_load_cifar10(c->data, c->train_size, c->test_size, (uint64_t)c->seed, &s->train,
                           &s->test) != 0)
        return -1;
    if (deep > s->train.inputs.shape[0]) deep = s->train.inputs.shape[0];
    if (rn_dataset_subsample(&s->train, deep, 1, (uint64_t)c->seed + 2, &s->deep_train) == RN_OK)
        return 0;
    fprintf(stderr, "cannot draw the deep-net images: %s\n", rn_last_error());
    rn_dataset_free(&s->train);
    rn_dataset_free(&s->test);
    return -1;
}

static void print_results(const task_result *results)
{
    int i;
    for (i = 0; i < N_TASKS; i++) {
        const task_result *r = &results[i];
        if (i < N_COMPARED)
            printf("%-22s top-1 error %.2f%%  top-5 error %.2f%%", task_labels[i],
                   100.0 * (1.0 - r->final.accuracy), 100.0 * r->final.top5_error);
        else
            printf("%-22s final training loss %.4f", task_labels[i], r->train_loss[0]);
        printf("  (%.0f s, %.0f img/s)\n", r->seconds, r->images / r->seconds);
    }
}

/* A study_unit_name_fn: the training's label as a name. */
static void unit_name(int task, void *context, char *name, size_t size)
{
    (void)context;
    study_unit_name_from(task_labels[task], name, size);
}

/* The trainings the options ask for (see study_run_units): 0 when every
   result is in, 1 when there is nothing more to do, -1 on failure. */
static int train_all(study *s, task_result *results)
{
    study_units units;
    study_units_init(&units, N_TASKS, run_task, unit_name, s, results, sizeof *results);
    study_units_setting(&units, "deep_train", "%d", s->o.deep_train);
    study_units_setting(&units, "deep_epochs", "%d", s->o.deep_epochs);
    study_units_setting(&units, "lr", "%.15g", s->o.lr);
    study_units_setting(&units, "augment", "%d", s->o.augment);
    return study_run_units(&s->o.common, &units);
}

int main(int argc, char **argv)
{
    static study s;
    task_result *results;
    double start = report_seconds();
    int trained, written = 0, status = parse_options(argc, argv, &s.o);
    if (status != 0) return status > 0 ? 0 : 2;
    if (!s.o.common.list && (study_make_folder(s.o.common.out) != 0 || load_data(&s) != 0)) return 1;
    results = (task_result *)calloc(N_TASKS, sizeof *results);
    trained = results ? train_all(&s, results) : -1;
    if (trained == 0) {
        print_results(results);
        written = write_csv_files(&s.o, results) == 0 && write_charts(&s.o, results) == 0 &&
                  write_report(&s, results, report_seconds() - start) == 0;
    }
    status = study_exit_status(trained, written, s.o.common.out);
    free(results);
    rn_dataset_free(&s.train);
    rn_dataset_free(&s.test);
    rn_dataset_free(&s.deep_train);
    return status;
}
