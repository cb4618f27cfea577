/* prelu_study.c - He et al. 2015, "Delving Deep into Rectifiers", as read by
 * a course reading group, on CIFAR-10 with a small plain CNN:
 *   1. ReLU vs LReLU (slope 0.01 and 0.1) vs PReLU channel-shared and
 *      channel-wise (slopes start at 0.25, no weight decay on them): top-1
 *      and top-5 test error, and the learned slopes per layer;
 *   2. a deep plain ReLU net (30 conv layers of 8 channels, no batch norm)
 *      trained from He and from Xavier initialisation: loss curves.
 *
 *     cc -O2 -I/usr/include/stb examples/prelu_study.c -o prelu_study -lm
 *     RELUNET_DATA=../shared/data ./prelu_study                (see --help)
 *
 * Writes REPORT.md, CSV files and SVG charts to results/prelu_study/.
 */
#define _POSIX_C_SOURCE 200809L
#define RELUNET_IMPLEMENTATION
#include "../relunet_data.h"
#define REPORT_IMPLEMENTATION
#include "report.h"
#define CIFAR_STUDY_IMPLEMENTATION
#include "cifar_study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: prelu_study [options]\n"
    "Trains a plain CNN on CIFAR-10 with ReLU, LReLU 0.01, LReLU 0.1, PReLU channel-shared\n"
    "and PReLU channel-wise, then a 30-layer plain ReLU net from He and from Xavier\n"
    "initialisation, and writes a report.\n"
    "  --epochs N       epochs of the activation comparison (default 5); the learning rate\n"
    "                   is divided by 10 for the last fifth of them\n"
    "  --train N        training images, a stratified subsample (default 10000)\n"
    "  --test N         test images (default 10000, all of them)\n"
    "  --lr X           SGD learning rate (default 0.01; momentum 0.9, weight decay 5e-4\n"
    "                   on weights only)\n"
    "  --deep-train N   training images of the deep-net experiment, drawn from the\n"
    "                   --train ones (default 3000)\n"
    "  --deep-epochs N  its epochs (default 3)\n"
    "  --data DIR       folder holding cifar-10-batches-bin/ (default $RELUNET_DATA)\n"
    "  --out DIR        output folder (default results/prelu_study)\n"
    "  --seed N         weights and shuffling (default 1)\n"
    "  --jobs N         trainings run side by side (default 2; 1 on systems without fork)\n"
    "  --quick          seconds: 256 training and 200 test images, 2 epochs\n"
    "  --help           this text\n";

typedef struct options {
    const char *data, *out;
    int epochs, train_size, test_size, deep_train, deep_epochs, seed, quick, jobs;
    double lr;
} options;

enum { RELU, LRELU_SMALL, LRELU_LARGE, PRELU_SHARED, PRELU_CHANNEL, DEEP_HE, DEEP_XAVIER, N_TASKS };
enum { N_COMPARED = DEEP_HE, N_ACT_LAYERS = 6, MAX_EPOCHS = 200, MAX_POINTS = 2000,
       DEEP_LAYERS = 30, DEEP_CHANNELS = 8, BATCH = 64, LOSS_EVERY = 2 };

static const char *const task_labels[N_TASKS] = {
    "ReLU", "LReLU 0.01", "LReLU 0.1", "PReLU channel-shared", "PReLU channel-wise",
    "30 layers, He init", "30 layers, Xavier init"};
static const char *const act_layer_names[N_ACT_LAYERS] = {
    "conv1 3->16, 32x32", "conv2 16->16, 16x16", "conv3 16->32, 16x16 (before pool)",
    "conv4 32->32, 8x8", "conv5 32->32, 8x8 (before pool)", "fc1 512->128"};

/* What one training leaves behind: plain data, so that it can come back
   from a child process. */
typedef struct task_result {
    double train_loss[MAX_EPOCHS];
    cifar_metrics final;
    double slopes[N_ACT_LAYERS];          /* PReLU: mean learned slope per layer */
    double curve_step[MAX_POINTS], curve_loss[MAX_POINTS]; /* deep nets: loss every few steps */
    int n_points;
    double seconds, images_per_second;
} task_result;

typedef struct study {
    options o;
    rn_dataset train, test, deep_train;
} study;

static int parse_options(int argc, char **argv, options *o)
{
    int i, epochs_given = 0, train_given = 0, test_given = 0, deep_given = 0, deep_epochs_given = 0;
    memset(o, 0, sizeof *o);
    o->out = "results/prelu_study";
    o->epochs = 5;
    o->train_size = 10000;
    o->test_size = 10000;
    o->deep_train = 3000;
    o->deep_epochs = 3;
    o->seed = 1;
    o->jobs = 2;
    o->lr = 0.01;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes_value = strcmp(a, "--help") != 0 && strcmp(a, "--quick") != 0, bad = 0;
        if (takes_value && v == NULL) {
            fprintf(stderr, "%s needs a value (see --help)\n", a);
            return -1;
        }
        if (strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        } else if (strcmp(a, "--quick") == 0) o->quick = 1;
        else if (strcmp(a, "--epochs") == 0) bad = cifar_parse_int(v, a, 1, MAX_EPOCHS, &o->epochs), epochs_given = 1;
        else if (strcmp(a, "--train") == 0) bad = cifar_parse_int(v, a, 64, 50000, &o->train_size), train_given = 1;
        else if (strcmp(a, "--test") == 0) bad = cifar_parse_int(v, a, 10, 10000, &o->test_size), test_given = 1;
        else if (strcmp(a, "--deep-train") == 0) bad = cifar_parse_int(v, a, 64, 50000, &o->deep_train), deep_given = 1;
        else if (strcmp(a, "--deep-epochs") == 0) bad = cifar_parse_int(v, a, 1, MAX_EPOCHS, &o->deep_epochs), deep_epochs_given = 1;
        else if (strcmp(a, "--lr") == 0) bad = cifar_parse_double(v, a, 1e-7, 10.0, &o->lr);
        else if (strcmp(a, "--jobs") == 0) bad = cifar_parse_int(v, a, 1, 64, &o->jobs);
        else if (strcmp(a, "--seed") == 0) bad = cifar_parse_int(v, a, 0, 2147483647L, &o->seed);
        else if (strcmp(a, "--data") == 0) o->data = v;
        else if (strcmp(a, "--out") == 0) o->out = v;
        else {
            fprintf(stderr, "unknown option %s (see --help)\n", a);
            return -1;
        }
        if (bad) return -1;
        i += takes_value;
    }
    if (o->quick) { /* explicit options still win */
        if (!epochs_given) o->epochs = 2;
        if (!train_given) o->train_size = 256;
        if (!test_given) o->test_size = 200;
        if (!deep_given) o->deep_train = 128;
        if (!deep_epochs_given) o->deep_epochs = 1;
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

/* Five conv layers (3x3, padding 1) in three stages and two linear layers:
   conv 16 | pool | conv 16, conv 32 | pool | conv 32, conv 32 | pool |
   linear 128, linear 10, each conv and the first linear followed by act. */
static rn_net *build_plain_cnn(const rn_act_desc *act)
{
    static const int channels[5] = {16, 16, 32, 32, 32};
    static const int pool_after[5] = {1, 0, 1, 0, 1};
    rn_net *net = rn_net_new(3, (int[]){3, 32, 32});
    int i, status = net ? RN_OK : RN_ERR_MEMORY;
    for (i = 0; i < 5 && status == RN_OK; i++) {
        status = rn_net_add_conv2d(net, channels[i], 3, 1, 1);
        if (status == RN_OK) status = rn_net_add_activation_ex(net, act);
        if (status == RN_OK && pool_after[i]) status = rn_net_add_maxpool2d(net, 2, 2);
    }
    if (status == RN_OK) status = rn_net_add_flatten(net);
    if (status == RN_OK) status = rn_net_add_linear(net, 128);
    if (status == RN_OK) status = rn_net_add_activation_ex(net, act);
    if (status == RN_OK) status = rn_net_add_linear(net, 10);
    return status == RN_OK ? net : network_failed(net);
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

/* SGD with momentum 0.9, weight decay 5e-4 on the weights only (not on
   biases, not on slopes), learning rate divided by 10 for the last fifth. */
static int train_comparison(study *s, int task, task_result *r)
{
    const options *o = &s->o;
    rn_act_desc act = activation_of(task);
    rn_net *net = build_plain_cnn(&act);
    rn_optim *opt;
    rn_rng shuffle;
    report_progress bar;
    int epoch, milestone = o->epochs - o->epochs / 5, status = 0;
    long step = 0;
    if (net == NULL) return -1;
    rn_net_init(net, RN_INIT_HE_NORMAL, init_slope_of(task), (uint64_t)o->seed);
    opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = (float)o->lr, .momentum = 0.9f});
    if (opt == NULL || rn_optim_set_group(opt, RN_PARAMS_OF_KIND(RN_PARAM_WEIGHT), (float)o->lr,
                                          5e-4f) != RN_OK) {
        fprintf(stderr, "%s\n", rn_last_error());
        rn_optim_free(opt);
        rn_net_free(net);
        return -1;
    }
    rn_rng_seed(&shuffle, (uint64_t)o->seed, 1);
    report_progress_begin(&bar, task_labels[task],
                          (long)o->epochs * ((s->train.inputs.shape[0] + BATCH - 1) / BATCH));
    for (epoch = 0; epoch < o->epochs && status == 0; epoch++) {
        rn_optim_scale_lr(opt, rn_lr_step_decay(epoch, &milestone, 1, 0.1f));
        r->train_loss[epoch] = cifar_train_epoch(net, opt, &s->train, BATCH, &shuffle, &bar, &step);
        if (isnan(r->train_loss[epoch])) status = -1;
    }
    report_progress_end(&bar);
    if (status == 0) status = cifar_evaluate(net, &s->test, 250, &r->final);
    r->images_per_second = (double)step * BATCH / (report_seconds() - bar.start);
    read_slopes(net, r->slopes);
    rn_optim_free(opt);
    rn_net_free(net);
    return status;
}

/* The deep net's training loss, averaged over every LOSS_EVERY batches. A
   diverging run (a non-finite loss) ends its curve there; that is a result. */
static int train_deep(study *s, int task, task_result *r)
{
    const options *o = &s->o;
    rn_net *net = build_deep_net();
    rn_optim *opt;
    rn_rng shuffle;
    rn_batch_iter batches;
    report_progress bar;
    int epoch, status = RN_OK;
    long step = 0;
    double sum = 0.0;
    if (net == NULL) return -1;
    rn_net_init(net, task == DEEP_HE ? RN_INIT_HE_NORMAL : RN_INIT_XAVIER_NORMAL, 0.0f,
                (uint64_t)o->seed);
    opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_SGD, .lr = (float)o->lr, .momentum = 0.9f});
    if (opt == NULL) {
        rn_net_free(net);
        return -1;
    }
    rn_rng_seed(&shuffle, (uint64_t)o->seed, 2);
    report_progress_begin(&bar, task_labels[task],
                          (long)o->deep_epochs * ((s->deep_train.inputs.shape[0] + BATCH - 1) / BATCH));
    for (epoch = 0; epoch < o->deep_epochs && status == RN_OK; epoch++) {
        rn_dataset_shuffle(&s->deep_train, &shuffle);
        rn_batch_iter_begin(&batches, &s->deep_train, BATCH, NULL, 0);
        while (status == RN_OK && rn_batch_iter_next(&batches) > 0) {
            float loss = NAN;
            status = cifar_train_step(net, opt, &batches.inputs, batches.labels, &loss);
            sum += loss;
            if (++step % LOSS_EVERY == 0 || status != RN_OK) {
                r->curve_step[r->n_points] = (double)step;
                r->curve_loss[r->n_points++] = status == RN_OK ? sum / LOSS_EVERY : NAN;
                sum = 0.0;
            }
            report_progress_update(&bar, step, "loss %.4f", (double)loss);
        }
        rn_batch_iter_free(&batches);
    }
    report_progress_end(&bar);
    if (status != RN_OK) fprintf(stderr, "%s stopped: %s\n", task_labels[task], rn_last_error());
    r->images_per_second = (double)step * BATCH / (report_seconds() - bar.start);
    r->train_loss[0] = r->n_points > 0 ? r->curve_loss[r->n_points - 1] : NAN;
    rn_optim_free(opt);
    rn_net_free(net);
    return 0;
}

/* A cifar_task_fn. */
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
    failed |= report_csv_open(&errors, o->out, "errors.csv", errors_header, 7);
    failed |= report_csv_open(&slopes, o->out, "slopes.csv", slopes_header, 4);
    failed |= report_csv_open(&deep, o->out, "deep_init.csv", deep_header, 3);
    if (failed) return -1;
    for (i = 0; i < N_COMPARED; i++) {
        report_csv_str(&errors, task_labels[i]);
        report_csv_num(&errors, 1.0 - results[i].final.accuracy);
        report_csv_num(&errors, results[i].final.top5_error);
        report_csv_num(&errors, results[i].final.loss);
        report_csv_num(&errors, results[i].train_loss[o->epochs - 1]);
        report_csv_num(&errors, results[i].seconds);
        report_csv_num(&errors, results[i].images_per_second);
    }
    for (i = 0; i < N_ACT_LAYERS; i++) {
        report_csv_str(&slopes, act_layer_names[i]);
        report_csv_int(&slopes, i + 1);
        report_csv_num(&slopes, results[PRELU_SHARED].slopes[i]);
        report_csv_num(&slopes, results[PRELU_CHANNEL].slopes[i]);
    }
    for (i = DEEP_HE; i <= DEEP_XAVIER; i++)
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

static void write_charts(const options *o, const task_result *results)
{
    static double depth[N_ACT_LAYERS], epochs[MAX_EPOCHS];
    report_series series[N_COMPARED];
    report_chart chart;
    int i;
    for (i = 0; i < N_ACT_LAYERS; i++) depth[i] = i + 1;
    for (i = 0; i < o->epochs; i++) epochs[i] = i + 1;
    memset(&chart, 0, sizeof chart);
    chart.title = "Learned PReLU slope per layer (mean over channels)";
    chart.x_label = "depth (activation layer)";
    chart.y_label = "slope";
    for (i = 0; i < 2; i++) {
        series[i].name = task_labels[PRELU_SHARED + i];
        series[i].x = depth;
        series[i].y = results[PRELU_SHARED + i].slopes;
        series[i].n = N_ACT_LAYERS;
    }
    report_svg_line(o->out, "slopes.svg", &chart, series, 2);

    chart.title = "Training loss per epoch";
    chart.x_label = "epoch";
    chart.y_label = "cross-entropy";
    for (i = 0; i < N_COMPARED; i++) {
        series[i].name = task_labels[i];
        series[i].x = epochs;
        series[i].y = results[i].train_loss;
        series[i].n = o->epochs;
    }
    report_svg_line(o->out, "train_loss.svg", &chart, series, N_COMPARED);

    chart.title = "30-layer plain ReLU net: training loss";
    chart.x_label = "step (batches of 64)";
    for (i = 0; i < 2; i++) {
        series[i].name = task_labels[DEEP_HE + i];
        series[i].x = results[DEEP_HE + i].curve_step;
        series[i].y = results[DEEP_HE + i].curve_loss;
        series[i].n = results[DEEP_HE + i].n_points;
    }
    report_svg_line(o->out, "deep_init.svg", &chart, series, 2);
}

static void write_report(const study *s, const task_result *results, double seconds)
{
    static const char *const errors_header[] = {"Activation", "Top-1 error (%)",
                                                "Top-5 error (%)", "Test loss"};
    static const char *const slopes_header[] = {"Layer", "Channel-shared", "Channel-wise"};
    static const char *const deep_header[] = {"Initialisation", "Loss at the start",
                                              "Loss at the end", "Steps"};
    const options *o = &s->o;
    FILE *md = report_fopen(o->out, "REPORT.md", "w");
    int i;
    if (md == NULL) {
        fprintf(stderr, "cannot write %s/REPORT.md\n", o->out);
        return;
    }
    fprintf(md, "# Delving Deep into Rectifiers (He et al. 2015) on CIFAR-10\n\n"
            "The reading group's questions on PReLU, answered with relunet "
            "(`examples/prelu_study.c`) on a small plain CNN instead of the paper's 14-layer "
            "ImageNet model: conv 3x3 16 | max pool | conv 16, conv 32 | max pool | conv 32, "
            "conv 32 | max pool | linear 512->128 | linear 128->10, an activation after every "
            "conv layer and after the first linear one. He-normal weights (gain for the "
            "activation's starting slope), zero biases; SGD, momentum 0.9, weight decay 5e-4 on "
            "the weights only (none on biases or slopes), batch 64, learning rate %g divided by "
            "10 for the last fifth of the epochs; every image standardised on its own, no "
            "augmentation. PReLU slopes start at 0.25.\n\n", o->lr);
    fprintf(md, "**This run:** %d training images, %d epochs, top-1/top-5 error on %d test "
            "images; deep-net experiment on %d images for %d epochs; seed %d; %.0f s in all.\n\n",
            s->train.inputs.shape[0], o->epochs, s->test.inputs.shape[0],
            s->deep_train.inputs.shape[0], o->deep_epochs, o->seed, seconds);

    fprintf(md, "## Top-1 and top-5 test error\n\n"
            "The paper (ImageNet, 14-layer model): ReLU 33.82 / 13.34, PReLU channel-wise "
            "32.64 / 12.75, a gain of 1.2 points top-1. Compare the direction and size of the "
            "gain, not the values.\n\n");
    report_md_header(md, errors_header, 4);
    for (i = 0; i < N_COMPARED; i++) {
        double row[3];
        row[0] = 100.0 * (1.0 - results[i].final.accuracy);
        row[1] = 100.0 * results[i].final.top5_error;
        row[2] = results[i].final.loss;
        report_md_row_numbers(md, task_labels[i], row, 3, 2);
    }
    fprintf(md, "\nPReLU channel-wise vs ReLU: %+.2f points top-1, %+.2f points top-5.\n\n",
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
        row[0] = results[PRELU_SHARED].slopes[i];
        row[1] = results[PRELU_CHANNEL].slopes[i];
        report_md_row_numbers(md, act_layer_names[i], row, 2, 3);
    }
    fprintf(md, "\n");
    report_md_image(md, "Learned slope vs depth", "slopes.svg");

    fprintf(md, "\n## Initialisation of a 30-layer plain ReLU net\n\n"
            "A 2x2 average pool to 16x16, then 30 conv layers of 8 channels (3x3) with ReLU and "
            "no normalisation, then a linear classifier; SGD with momentum 0.9, learning rate "
            "%g. The paper: from He initialisation the 30-layer net converges, from Xavier it "
            "stalls (the signal shrinks by about 1/sqrt(2) per ReLU layer).\n\n", o->lr);
    report_md_header(md, deep_header, 4);
    for (i = DEEP_HE; i <= DEEP_XAVIER; i++) {
        const task_result *r = &results[i];
        double row[3];
        row[0] = r->n_points > 0 ? r->curve_loss[0] : NAN;
        row[1] = r->n_points > 0 ? r->curve_loss[r->n_points - 1] : NAN;
        row[2] = r->n_points > 0 ? r->curve_step[r->n_points - 1] : 0;
        report_md_row_numbers(md, task_labels[i], row, 3, 4);
    }
    fprintf(md, "\n(n/a at the end: the loss stopped being finite.)\n\n");
    report_md_image(md, "30-layer net: training loss from He and Xavier initialisation",
                    "deep_init.svg");
    fprintf(md, "\nFiles: `errors.csv`, `slopes.csv`, `deep_init.csv`.\n");
    fclose(md);
}

int main(int argc, char **argv)
{
    study s;
    task_result *results;
    double start = report_seconds();
    int i, failed;
    if (parse_options(argc, argv, &s.o) != 0) return 2;
    if (cifar_load(s.o.data, s.o.train_size, s.o.test_size, (uint64_t)s.o.seed, &s.train,
                   &s.test) != 0)
        return 1;
    if (rn_dataset_subsample(&s.train, s.o.deep_train < s.train.inputs.shape[0]
                                           ? s.o.deep_train : s.train.inputs.shape[0],
                             1, (uint64_t)s.o.seed + 2, &s.deep_train) != RN_OK) {
        fprintf(stderr, "cannot draw the deep-net images: %s\n", rn_last_error());
        return 1;
    }
    if (report_mkdir_p(s.o.out) != 0) {
        fprintf(stderr, "cannot create the output folder %s\n", s.o.out);
        return 1;
    }
    results = (task_result *)calloc(N_TASKS, sizeof *results);
    if (results == NULL) return 1;
    failed = cifar_run_tasks(N_TASKS, s.o.jobs, run_task, &s, results, sizeof *results);
    for (i = 0; i < N_COMPARED; i++)
        printf("%-22s top-1 error %.2f%%  top-5 error %.2f%%  (%.0f s, %.0f img/s)\n",
               task_labels[i], 100.0 * (1.0 - results[i].final.accuracy),
               100.0 * results[i].final.top5_error, results[i].seconds,
               results[i].images_per_second);
    for (i = DEEP_HE; i < N_TASKS; i++)
        printf("%-22s final training loss %.4f  (%.0f s, %.0f img/s)\n", task_labels[i],
               results[i].train_loss[0], results[i].seconds, results[i].images_per_second);
    if (failed == 0) {
        write_csv_files(&s.o, results);
        write_charts(&s.o, results);
        write_report(&s, results, report_seconds() - start);
        printf("report: %s/REPORT.md\n", s.o.out);
    } else {
        fprintf(stderr, "%d of %d trainings failed; no report written\n", failed, N_TASKS);
    }
    free(results);
    rn_dataset_free(&s.train);
    rn_dataset_free(&s.test);
    rn_dataset_free(&s.deep_train);
    return failed != 0;
}
