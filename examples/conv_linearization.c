/* conv_linearization.c - "On the Linearization of Convolutional Layers for
 * FashionMNIST Dataset" (C. Curaba, F. Olivetti, 2023) on Fashion-MNIST.
 *
 * The same three-convolution CNN with ReLU, with no activation at all
 * (linear), and with ReLU_alpha(x) = ReLU(x) - (1 - alpha) ReLU(-x), one
 * alpha per layer starting at 0.5, trained with cross-entropy +
 * lambda * (|alpha1| + |alpha2| + |alpha3|) for several lambdas. The report
 * compares their test accuracy, follows the alphas over the iterations and
 * shows feature maps after each layer.
 *
 *     cc -O2 -I/usr/include/stb examples/conv_linearization.c -o conv_linearization -lm
 *     ./conv_linearization           # the study: 11 models on 60,000 images
 *     ./conv_linearization --help
 *
 * Every model starts from the same weights (--seed) and sees the same batch
 * order, so what differs between them is the activation and lambda alone.
 * Models train in parallel child processes (--jobs).
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

enum { LAYERS = 3, MAX_LAMBDAS = 64, MAX_MODELS = 2 + 2 * MAX_LAMBDAS, RECORD_EVERY = 10 };
enum { PULL_IMAGES = 5000 }; /* the training images the final pull on alpha is measured on */
enum { RELU, LINEAR, RELU_ALPHA };
#define FEATURE_LAMBDA 0.5 /* the ReLU_alpha model whose feature maps the study shows */

static const char *const usage =
    "usage: conv_linearization [options]\n"
    "  ReLU vs linear vs ReLU_alpha CNNs on Fashion-MNIST; writes OUT/REPORT.md, CSV and SVG files.\n"
    "  --quick              a small run in seconds (200 images, 1 and 2 epochs, lambda 0.5)\n"
    "  --data DIR           Fashion-MNIST: the folder with its IDX files, or one that\n"
    "                       holds fashion-mnist/ (default $RELUNET_DATA, the same rule;\n"
    "                       without it /usr/share/datasets/fashion-mnist)\n"
    "  --out DIR            output folder (default results/conv_linearization)\n"
    "  --seed N             weights and batch order, the same for every model (default 1)\n"
    "  --lambdas LIST       ReLU_alpha models trained --epochs (default 0.1,0.3,0.5,0.7,0.9,2,5)\n"
    "  --long-lambdas LIST  ReLU_alpha models trained --long-epochs (default 0.5,0.7)\n"
    "  --epochs N           epochs of ReLU, linear and --lambdas models (default 3)\n"
    "  --long-epochs N      epochs of --long-lambdas models (default 12)\n"
    "  --clamp              keep every alpha in [0, 1] (default: unclamped, as in the study)\n"
    "  --protocol P         text (default): the models above, as the study's text describes;\n"
    "                       code: the authors' baseline code, ReLU and linear only, 7 epochs\n"
    "  --explain            instead of --lambdas: lambda 0.5 as stated and the variants that\n"
    "                       could explain the published alphas (alpha2, alpha3 -> 1, alpha1\n"
    "                       in [0.5, 0.8]): alpha clamped to [0, 1]; the penalty in the loss\n"
    "                       but without a gradient (computed on detached values); lambda = 0;\n"
    "                       the penalty on (1 - alpha)\n"
    "  --train-size N       training images, a stratified subsample (default 60000: all)\n"
    "  --test-size N        test images (default 10000: all)\n"
    "  --jobs N             models at a time, in child processes (default: processors)\n"
    STUDY_UNITS_USAGE;

typedef struct options {
    study_options common; /* --data, --out, --seed, --jobs, --*-size, --epochs */
    int long_epochs, clamp;
    int code_protocol, explain; /* --protocol code, --explain */
    int n_lambdas, n_long_lambdas;
    double lambdas[MAX_LAMBDAS], long_lambdas[MAX_LAMBDAS];
} options;

/* One network to train and its place in the report. */
/* How a ReLU_alpha model departs from the stated setup (--explain). */
enum { STATED, CLAMPED, DETACHED, NO_LAMBDA, TOWARD_ONE, N_VARIANTS };
static const char *const variant_labels[N_VARIANTS] = {
    "as stated", "alpha clamped to [0, 1]", "penalty without gradient", "lambda = 0",
    "penalty on (1 - alpha)"};
static const char *const variant_names[N_VARIANTS] = {"stated", "clamped", "detached", "no_lambda",
                                                      "toward_one"};

typedef struct model {
    int activation; /* RELU, LINEAR or RELU_ALPHA */
    int variant;    /* RELU_ALPHA: STATED, or one of --explain's */
    double lambda;  /* RELU_ALPHA only */
    int epochs;
    int feature_maps; /* 1: the report shows its feature maps */
    char name[48];    /* file names: "relu", "lambda_0.5_12_epochs" */
    char label[48];   /* charts and tables: "lambda 0.5, 12 epochs" */
    study_result result;
    double pull[LAYERS]; /* see measure_alpha_pull; ReLU_alpha models only */
} model;

/* The test images whose feature maps are shown: the first of each class. */
static const int shown_classes[] = {9, 6, 1}; /* ankle boot, shirt, trouser */
enum { SHOWN = sizeof shown_classes / sizeof shown_classes[0] };

typedef struct study {
    options opt;
    model models[MAX_MODELS];
    int n_models;
    rn_dataset train, test;
    int shown[SHOWN]; /* test-set indices of the shown images */
    char models_dir[1024];
    study_judgement judgement; /* of the ReLU model, the baseline */
} study;

/* ---- command line ---------------------------------------------------------- */

/* The defaults of --quick, --protocol code (ReLU and linear for 7 epochs)
   and --explain (its variants instead of the lambdas); the other options
   change them. */
static void set_defaults(options *o, int quick, int code, int explain)
{
    static const double lambdas[] = {0.1, 0.3, 0.5, 0.7, 0.9, 2, 5}, long_lambdas[] = {0.5, 0.7};
    memset(o, 0, sizeof *o);
    study_defaults(&o->common, "results/conv_linearization", quick ? 1 : code ? 7 : 3,
                   quick ? 200 : 60000, quick ? 200 : 10000);
    o->code_protocol = code;
    o->explain = explain;
    o->long_epochs = quick ? 2 : 12;
    o->n_lambdas = code || explain ? 0 : quick ? 1 : 7;
    o->n_long_lambdas = code || explain ? 0 : quick ? 1 : 2;
    memcpy(o->lambdas, quick ? long_lambdas : lambdas,
           (size_t)o->n_lambdas * sizeof *lambdas);
    memcpy(o->long_lambdas, long_lambdas, (size_t)o->n_long_lambdas * sizeof *long_lambdas);
}

/* A study_option_fn for this example's own options. */
static int own_option(int argc, char **argv, int *i, void *context)
{
    options *o = (options *)context;
    const char *v = NULL;
    int found;
    if ((found = study_list_option(argc, argv, i, "--lambdas", o->lambdas, MAX_LAMBDAS, &o->n_lambdas)) != 0)
        return found;
    if ((found = study_list_option(argc, argv, i, "--long-lambdas", o->long_lambdas, MAX_LAMBDAS,
                                   &o->n_long_lambdas)) != 0)
        return found;
    if ((found = study_int_option(argc, argv, i, "--long-epochs", 1, 10000, &o->long_epochs)) != 0)
        return found;
    if ((found = study_option_value(argc, argv, i, "--protocol", &v)) != 0) {
        if (found < 0 || strcmp(v, "text") == 0 || strcmp(v, "code") == 0) return found;
        fprintf(stderr, "--protocol: '%s' is neither text nor code\n", v);
        return -1;
    }
    if (strcmp(argv[*i], "--explain") == 0) return 1; /* the defaults have been chosen */
    return strcmp(argv[*i], "--clamp") == 0 ? (o->clamp = 1) : 0;
}

/* 0: go on; 1: done (help shown); -1: bad arguments. */
static int parse_options(int argc, char **argv, options *o)
{
    int i, code = 0;
    if (study_help(argc, argv, usage)) return 1;
    for (i = 1; i + 1 < argc; i++) /* a bad value is refused below */
        if (strcmp(argv[i], "--protocol") == 0) code = strcmp(argv[i + 1], "code") == 0;
    set_defaults(o, study_has_flag(argc, argv, "--quick"), code, study_has_flag(argc, argv, "--explain"));
    if (study_parse_options(argc, argv, &o->common, own_option, o) != 0) return -1;
    if (!(o->code_protocol && o->explain)) return 0;
    fprintf(stderr, "--explain: --protocol code trains no ReLU_alpha model to explain\n");
    return -1;
}

/* ---- the models ------------------------------------------------------------- */

static void add_model(study *s, int activation, double lambda, int epochs)
{
    model *m = &s->models[s->n_models++];
    m->activation = activation;
    m->lambda = lambda;
    m->epochs = epochs;
    if (activation == RELU_ALPHA) {
        snprintf(m->name, sizeof m->name, "lambda_%g_%d_epochs", lambda, epochs);
        snprintf(m->label, sizeof m->label, "lambda %g, %d epoch%s", lambda, epochs,
                 epochs > 1 ? "s" : "");
    } else {
        snprintf(m->name, sizeof m->name, "%s", activation == RELU ? "relu" : "linear");
        snprintf(m->label, sizeof m->label, "%s", activation == RELU ? "ReLU" : "linear");
    }
}

/* ReLU and linear, every lambda for --epochs, every long lambda for
   --long-epochs. Feature maps: ReLU, linear and the long model closest to
   lambda = 0.5. */
static void list_models(study *s)
{
    const options *o = &s->opt;
    int i, shown = -1;
    add_model(s, RELU, 0.0, o->common.epochs);
    add_model(s, LINEAR, 0.0, o->common.epochs);
    for (i = 0; i < o->n_lambdas; i++)
        add_model(s, RELU_ALPHA, o->lambdas[i], o->common.epochs);
    for (i = 0; i < o->n_long_lambdas; i++) {
        model *m = &s->models[s->n_models];
        add_model(s, RELU_ALPHA, o->long_lambdas[i], o->long_epochs);
        if (shown < 0 ||
            fabs(m->lambda - FEATURE_LAMBDA) < fabs(s->models[shown].lambda - FEATURE_LAMBDA))
            shown = s->n_models - 1;
    }
    for (i = 0; o->explain && i < N_VARIANTS; i++) {
        model *m = &s->models[s->n_models];
        add_model(s, RELU_ALPHA, i == NO_LAMBDA ? 0.0 : FEATURE_LAMBDA, o->common.epochs);
        m->variant = i;
        snprintf(m->name, sizeof m->name, "explain_%s", variant_names[i]);
        snprintf(m->label, sizeof m->label, "%s (lambda %g)", variant_labels[i], m->lambda);
    }
    s->models[0].feature_maps = s->models[1].feature_maps = 1;
    if (shown >= 0) s->models[shown].feature_maps = 1;
}

/* The longest trainings start first: then they do not finish alone at the end. */
static void schedule(const study *s, int *tasks)
{
    int i, j;
    for (i = 0; i < s->n_models; i++) {
        int task = i;
        for (j = i; j > 0 && s->models[tasks[j - 1]].epochs < s->models[task].epochs; j--)
            tasks[j] = tasks[j - 1];
        tasks[j] = task;
    }
}

/* conv(1->8, k5, p2) -> act -> conv(8->16, k5, p2) -> act -> conv(16->32, k3,
   p1) -> act -> flatten (25088) -> linear(25088->10). The linear model gets
   identity activations, so that every model has its feature maps at the
   same layers. */
static rn_net *make_net(const model *m, const options *o)
{
    static const float half = 0.5f;
    rn_act_desc act;
    rn_net *net = rn_net_new(3, (int[]){1, 28, 28});
    memset(&act, 0, sizeof act);
    act.kind = m->activation == RELU ? RN_ACT_RELU
        : m->activation == LINEAR    ? RN_ACT_IDENTITY
                                     : RN_ACT_RELU_ALPHA;
    act.init = m->activation == RELU_ALPHA ? &half : NULL;
    if (!net || rn_net_add_conv2d(net, 8, 5, 1, 2) || rn_net_add_activation_ex(net, &act) ||
        rn_net_add_conv2d(net, 16, 5, 1, 2) || rn_net_add_activation_ex(net, &act) ||
        rn_net_add_conv2d(net, 32, 3, 1, 1) || rn_net_add_activation_ex(net, &act) ||
        rn_net_add_flatten(net) || rn_net_add_linear(net, 10) ||
        rn_net_init(net, RN_INIT_TORCH_DEFAULT, 0.0f, (uint64_t)o->common.seed)) {
        fprintf(stderr, "building the network: %s\n", rn_last_error());
        rn_net_free(net);
        return NULL;
    }
    if (o->clamp || m->variant == CLAMPED) rn_net_set_range(net, RN_PARAMS_NAMED("alpha"), 0.0f, 1.0f);
    return net;
}

static const char *const class_names[] = {"T-shirt/top", "trouser", "pullover", "dress", "coat",
                                          "sandal",      "shirt",   "sneaker",  "bag",   "ankle boot"};

static void feature_file(char *name, size_t size, const model *m, int image, int layer)
{
    snprintf(name, size, "models/features_%s_%s_layer%d.svg", m->name,
             shown_classes[image] == 9 ? "boot" : class_names[shown_classes[image]], layer + 1);
}

/* For each shown test image, one grid per layer of what that layer's
   activation puts out, titled with the model's prediction. */
static int write_feature_maps(study *s, rn_net *net, const model *m)
{
    int i, layer, c, failed = 0;
    for (i = 0; i < SHOWN && !failed; i++) {
        rn_tensor image = rn_tensor_slice(&s->test.inputs, s->shown[i], 1);
        const rn_tensor *logits;
        int predicted = 0, k;
        if (rn_net_forward(net, &image, RN_EVAL) != RN_OK) return -1;
        logits = rn_net_output(net);
        for (k = 1; k < 10; k++)
            if (logits->data[k] > logits->data[predicted]) predicted = k;
        for (layer = 0; layer < LAYERS && !failed; layer++) {
            const rn_tensor *maps = rn_net_layer_output(net, 2 * layer + 1); /* activation */
            int channels = maps->shape[1], side = maps->shape[2];
            report_image grid[32];
            char title[160], name[96], captions[32][8];
            for (c = 0; c < channels && c < 32; c++) {
                snprintf(captions[c], sizeof captions[c], "%d", c + 1);
                grid[c].pixels = maps->data + (size_t)c * side * side;
                grid[c].channels = 1;
                grid[c].height = grid[c].width = side;
                grid[c].caption = captions[c];
            }
            snprintf(title, sizeof title, "%s, layer %d (predicted: %s)", m->label, layer + 1,
                     class_names[predicted]);
            feature_file(name, sizeof name, m, i, layer);
            failed = report_svg_images(s->opt.common.out, name, title, grid, c, 8);
        }
    }
    return failed;
}

/* How hard the cross-entropy pulls each alpha at the trained weights: minus
   its mean gradient over the first PULL_IMAGES training images (positive:
   towards ReLU). Penalised with lambda * |alpha|, alpha = 0 is a resting
   point when the pull is at most lambda in size; any other alpha only
   where the pull equals lambda * sign(alpha). */
static int measure_alpha_pull(rn_net *net, const rn_dataset *train, double pull[LAYERS])
{
    rn_param *alphas[LAYERS];
    rn_batch_iter batches;
    int k, batches_seen = 0, status;
    if (rn_net_select(net, RN_PARAMS_NAMED("alpha"), alphas, LAYERS) != LAYERS) return -1;
    for (k = 0; k < LAYERS; k++) pull[k] = 0.0;
    status = rn_batch_iter_begin(&batches, train, 100, NULL, 0);
    while (status == RN_OK && batches_seen * 100 < PULL_IMAGES && rn_batch_iter_next(&batches) > 0) {
        float loss;
        status = study_backprop(net, &batches.inputs, batches.labels, &loss);
        for (k = 0; k < LAYERS && status == RN_OK; k++) pull[k] -= alphas[k]->grad.data[0];
        batches_seen++;
    }
    rn_batch_iter_free(&batches);
    for (k = 0; k < LAYERS; k++) pull[k] /= batches_seen > 0 ? batches_seen : 1;
    if (status != RN_OK) fprintf(stderr, "measuring the pull on alpha: %s\n", rn_last_error());
    return status == RN_OK ? 0 : -1;
}

static const char *const setting_names[] = {"activation", "lambda", "epochs", "clamp", "train_size"};
enum { SETTINGS = sizeof setting_names / sizeof setting_names[0] };

/* A study_task_fn: model `task` leaves its CSV file in models_dir, and
   its pull on the alphas (NaN for ReLU and linear) in result. */
static int train_model(int task, void *context, void *result)
{
    study *s = (study *)context;
    model *m = &s->models[task];
    double settings[SETTINGS] = {m->activation, m->lambda, m->epochs, s->opt.clamp,
                                 s->opt.common.train_size};
    rn_net *net = make_net(m, &s->opt);
    study_training t;
    study_log log;
    char name[64];
    double *pull = (double *)result;
    int failed, k;
    for (k = 0; k < LAYERS; k++) pull[k] = NAN;
    if (!net) return -1;
    memset(&t, 0, sizeof t);
    t.net = net;
    t.opt = rn_optim_new(net, &(rn_optim_desc){.kind = RN_ADAM, .lr = 1e-3f});
    t.train = &s->train;
    t.batch_size = 100;
    t.epochs = m->epochs;
    t.penalty = RN_PENALTY_L1;
    /* a penalty without a gradient changes the reported loss, not the training */
    t.lambda = m->variant == DETACHED ? 0.0f : (float)m->lambda;
    t.penalty_center = m->variant == TOWARD_ONE ? 1.0f : 0.0f;
    t.shuffle_seed = (uint64_t)s->opt.common.seed;
    t.record_every = RECORD_EVERY;
    t.record = study_log_record;
    t.context = &log;
    t.log = &log;
    t.label = m->label;
    t.plain_progress = s->opt.common.jobs > 1; /* several models write to one terminal */
    snprintf(name, sizeof name, "%s.csv", m->name);
    failed =
        !t.opt || study_log_open(&log, s->models_dir, name, net, setting_names, settings, SETTINGS) != 0;
    if (!failed) {
        failed = study_train(&t) != 0;
        failed |= study_log_close(&log, failed ? NULL : &s->test) != 0;
    }
    if (!failed && m->activation == RELU_ALPHA) failed = measure_alpha_pull(net, &s->train, pull);
    if (!failed && m->feature_maps) failed = write_feature_maps(s, net, m);
    if (failed && !study_interrupted()) fprintf(stderr, "model %s failed\n", m->label);
    rn_optim_free(t.opt);
    rn_net_free(net);
    return failed ? -1 : 0;
}

/* ---- the report ------------------------------------------------------------- */

static void report_intro(FILE *md, const study *s, double seconds)
{
    const options *o = &s->opt;
    double cpu = 0.0;
    int i;
    for (i = 0; i < s->n_models; i++) cpu += s->models[i].result.cpu_seconds;
    fprintf(md,
            "# Linearization of convolutional layers on Fashion-MNIST\n\n"
            "Protocol: %s\n\n"
            "Reproduces \"On the Linearization of Convolutional Layers for FashionMNIST Dataset\" "
            "(C. Curaba, F. Olivetti, 2023). ReLU_alpha(x) = ReLU(x) - (1 - alpha) ReLU(-x): "
            "alpha = 1 is ReLU, alpha = 0 the identity.\n\n"
            "- Network: conv(1->8, k5, p2) -> act -> conv(8->16, k5, p2) -> act -> "
            "conv(16->32, k3, p1) -> act -> flatten (25088) -> linear(25088->10), PyTorch's "
            "default initialisation, pixels in [0, 1].\n"
            "- Training: Adam, learning rate 0.001, batch 100, %d training and %d test images. "
            "Every model starts from the same weights (seed %d) and sees the same batches.\n"
            "- Models: ReLU; linear (no activation); ReLU_alpha with one alpha per layer "
            "starting at 0.5, loss cross-entropy + lambda * (|alpha1| + |alpha2| + |alpha3|).\n",
            o->code_protocol ? "`--protocol code`, the authors' baseline code: ReLU and linear only, "
                               "7 epochs (the lines below say what this run used)."
            : o->explain ? "`--explain`: lambda 0.5 as the text states it, beside the variants that "
                           "could explain the published alphas (see the last table)."
                         : "`--protocol text` (the default): the models of the study's text "
                           "(`--protocol code`: the authors' baseline code).",
            s->train.inputs.shape[0], s->test.inputs.shape[0], o->common.seed);
    fprintf(md,
            "- Alpha is %s. The study does not say whether it clamped alpha, and "
            "calls alpha = 1 an equilibrium \"neither 0.9 nor 1.1\", so by default it is left "
            "free; `--clamp` keeps it in [0, 1].\n",
            o->clamp ? "**clamped to [0, 1]** after every step (`--clamp`)"
                     : "**not clamped**: it may leave [0, 1]");
    fprintf(md, "- %d models, %.0f s of processor time in all; wall time %.0f s (`--jobs %d`).\n\n",
            s->n_models, cpu, seconds, o->common.jobs);
}

static void report_accuracy_table(FILE *md, const study *s)
{
    int i, k;
    fputs("## Test accuracy\n\n", md);
    report_md_header(md,
                     (const char *const[]){"model", "epochs", "test accuracy %", "final alpha1",
                                           "final alpha2", "final alpha3"},
                     6);
    for (i = 0; i < s->n_models; i++) {
        const model *m = &s->models[i];
        char cells[6][48];
        const char *row[6];
        if (m->activation == RELU_ALPHA)
            snprintf(cells[0], sizeof cells[0], "ReLU_alpha, lambda %g", m->lambda);
        else
            snprintf(cells[0], sizeof cells[0], "%s", m->label);
        snprintf(cells[1], sizeof cells[1], "%d", m->epochs);
        snprintf(cells[2], sizeof cells[2], "%.2f", 100 * m->result.test_accuracy);
        for (k = 0; k < LAYERS; k++) {
            if (m->activation == RELU_ALPHA)
                snprintf(cells[3 + k], sizeof cells[0], "%.3f", m->result.final[k]);
            else
                snprintf(cells[3 + k], sizeof cells[0], "-");
        }
        for (k = 0; k < 6; k++) row[k] = cells[k];
        report_md_row(md, row, 6);
    }
    fputs("\n", md);
}

/* Loss and training accuracy of every model trained for `epochs`, two charts. */
static int report_curves(FILE *md, const study *s, int epochs, const char *suffix)
{
    static const char *const columns[] = {"train_loss", "train_accuracy"};
    static const char *const titles[] = {"Loss", "Training accuracy"};
    static const char *const axes[] = {"cross-entropy", "training accuracy"};
    static const char *const files[] = {"loss", "accuracy"};
    report_series series[MAX_MODELS];
    int i, n, c, failed = 0;
    for (c = 0; c < 2 && !failed; c++) {
        char title[96], file[64];
        report_chart chart;
        for (i = 0, n = 0; i < s->n_models && !failed; i++)
            if (s->models[i].epochs == epochs)
                failed = study_series_from_table(&series[n++], s->models[i].label,
                                                 &s->models[i].result.table, "step", columns[c]);
        memset(&chart, 0, sizeof chart);
        snprintf(title, sizeof title, "%s per iteration, %d-epoch models", titles[c], epochs);
        snprintf(file, sizeof file, "%s_%s.svg", files[c], suffix);
        chart.title = title;
        chart.x_label = "iteration (batch of 100)";
        chart.y_label = axes[c];
        if (!failed) failed = report_svg_line(s->opt.common.out, file, &chart, series, n);
        study_series_free(series, n);
        report_md_image(md, title, file);
    }
    return failed;
}

/* alpha1..3 per iteration, one chart per ReLU_alpha model. */
static int report_alphas(FILE *md, const study *s)
{
    int i, k, failed = 0;
    fputs("## Alpha per iteration\n\n", md);
    for (i = 0; i < s->n_models && !failed; i++) {
        const model *m = &s->models[i];
        static const char *const alphas[] = {"alpha1", "alpha2", "alpha3"};
        report_series series[LAYERS];
        report_chart chart;
        char title[96], file[96];
        if (m->activation != RELU_ALPHA) continue;
        for (k = 0; k < LAYERS && !failed; k++)
            failed = study_series_from_table(&series[k], alphas[k], &m->result.table, "step", alphas[k]);
        memset(&chart, 0, sizeof chart);
        snprintf(title, sizeof title, "Alphas, %s", m->label);
        snprintf(file, sizeof file, "alphas_%s.svg", m->name);
        chart.title = title;
        chart.x_label = "iteration (batch of 100)";
        chart.y_label = "alpha";
        if (!failed) failed = report_svg_line(s->opt.common.out, file, &chart, series, LAYERS);
        study_series_free(series, k);
        report_md_image(md, title, file);
    }
    return failed;
}

/* The shown input images, and a table of feature-map grids per image. */
static int report_feature_maps(FILE *md, const study *s)
{
    int i, j, layer, failed = 0;
    fputs("## Feature maps\n\n"
          "What each layer's activation puts out for the first test image of three classes, "
          "each map scaled to its own range (black: lowest, white: highest). The study saw "
          "ReLU layers highlight edges until the image is unrecognisable, and linear layers "
          "blur it while it stays recognisable.\n\n",
          md);
    for (i = 0; i < SHOWN && !failed; i++) {
        report_image input;
        char name[64], caption[64];
        const char *header[8] = {"layer"};
        int columns = 1;
        memset(&input, 0, sizeof input);
        input.pixels = s->test.inputs.data + (size_t)s->shown[i] * 28 * 28;
        input.channels = 1;
        input.height = input.width = 28;
        snprintf(name, sizeof name, "input_%d.svg", i + 1);
        snprintf(caption, sizeof caption, "%s (test image %d)", class_names[shown_classes[i]],
                 s->shown[i]);
        failed = report_svg_images(s->opt.common.out, name, caption, &input, 1, 1);
        fprintf(md, "### %s\n\n", caption);
        report_md_image(md, caption, name);
        for (j = 0; j < s->n_models; j++)
            if (s->models[j].feature_maps && columns < 8) header[columns++] = s->models[j].label;
        report_md_header(md, header, columns);
        for (layer = 0; layer < LAYERS; layer++) {
            fprintf(md, "| %d |", layer + 1);
            for (j = 0; j < s->n_models; j++) {
                if (!s->models[j].feature_maps) continue;
                feature_file(name, sizeof name, &s->models[j], i, layer);
                fprintf(md, " ![%s, layer %d](%s) |", s->models[j].label, layer + 1, name);
            }
            fputs("\n", md);
        }
        fputs("\n", md);
    }
    return failed;
}

/* The study's findings, each checked against these models. */
static void report_findings(FILE *md, const study *s)
{
    const model *relu = &s->models[0], *linear = &s->models[1];
    double gap = 100 * (relu->result.test_accuracy - linear->result.test_accuracy), worst_gap = 0.0;
    int i, alpha23 = 1, alpha1 = 1, count = 0;
    study_findings_begin(md, &s->judgement);
    fprintf(md,
            "- *Linear is about 7.5 points below ReLU.* Here ReLU %.2f%%, linear %.2f%%: %.2f "
            "points (taken as reproduced within 5 to 10): %s.\n",
            100 * relu->result.test_accuracy, 100 * linear->result.test_accuracy, gap,
            study_verdict(&s->judgement, gap >= 5.0 && gap <= 10.0));
    fputs("- *alpha2 and alpha3 go to 1 and alpha1 settles in [0.5, 0.8], for every lambda.* Final "
          "values (alpha2, alpha3 within 0.05 of 1?; alpha1 in [0.5, 0.8]?):\n",
          md);
    for (i = 0; i < s->n_models; i++) {
        const model *m = &s->models[i];
        int ones, settled;
        double d;
        if (m->activation != RELU_ALPHA) continue;
        ones = fabs(m->result.final[1] - 1) <= 0.05 && fabs(m->result.final[2] - 1) <= 0.05;
        settled = m->result.final[0] >= 0.5 && m->result.final[0] <= 0.8;
        d = 100 * fabs(m->result.test_accuracy - relu->result.test_accuracy);
        if (d > worst_gap) worst_gap = d;
        alpha23 &= ones;
        alpha1 &= settled;
        count++;
        fprintf(md, "  - %s: alpha1 %.3f (%s), alpha2 %.3f, alpha3 %.3f (%s)\n", m->label,
                m->result.final[0], settled ? "yes" : "no", m->result.final[1], m->result.final[2],
                ones ? "yes" : "no");
    }
    fprintf(md, "\n  alpha2 and alpha3 to 1: %s; alpha1 in [0.5, 0.8]: %s.\n", study_verdict(&s->judgement, count && alpha23),
            study_verdict(&s->judgement, count && alpha1));
    fprintf(md,
            "- *ReLU_alpha reaches the accuracy of ReLU.* The largest difference between a "
            "ReLU_alpha model and ReLU is %.2f points (taken as reproduced below 1): %s.\n\n",
            worst_gap, study_verdict(&s->judgement, count && worst_gap < 1.0));
}

/* --explain: each variant's final alphas beside the published ones, and
   whether they match them, as a table and explain.csv. */
static int report_explain(FILE *md, const study *s)
{
    static const char *const header[] = {"variant", "lambda", "alpha1", "alpha2", "alpha3",
                                         "test_accuracy", "matches"};
    report_csv csv;
    int i, failed = report_csv_open(&csv, s->opt.common.out, "explain.csv", header, 7);
    fputs("## What explains the published alphas (`--explain`)\n\n"
          "The study reports alpha2 and alpha3 going to 1 and alpha1 settling in [0.5, 0.8] "
          "whatever lambda, which the stated setup (an L1 penalty pulling every alpha towards 0, "
          "alpha free) does not give. Each variant changes one thing the text leaves open: "
          "*clamped* keeps alpha in [0, 1]; *penalty without gradient* adds the penalty to the "
          "reported loss only, as if computed on detached values (so it trains as lambda = 0, "
          "which is the next row, run on its own as a check); *penalty on (1 - alpha)* pulls "
          "towards ReLU instead of the identity. A variant matches when alpha2 and alpha3 end "
          "within 0.05 of 1 and alpha1 in [0.5, 0.8].\n\n",
          md);
    report_md_header(md, (const char *const[]){"variant", "lambda", "alpha1", "alpha2", "alpha3",
                                               "test accuracy", "matches the published alphas"},
                     7);
    fputs("| published (the study) | any | 0.5 to 0.8 | 1 | 1 | | |\n", md);
    for (i = 0; i < s->n_models; i++) {
        const model *m = &s->models[i];
        const double *a = m->result.final;
        int matches = a[0] >= 0.5 && a[0] <= 0.8 && fabs(a[1] - 1) <= 0.05 && fabs(a[2] - 1) <= 0.05;
        if (!s->opt.explain || m->activation != RELU_ALPHA || m->name[0] != 'e') continue;
        fprintf(md, "| %s | %g | %.3f | %.3f | %.3f | %.2f%% | %s |\n", variant_labels[m->variant],
                m->lambda, a[0], a[1], a[2], 100 * m->result.test_accuracy, matches ? "**yes**" : "no");
        report_csv_str(&csv, variant_names[m->variant]);
        report_csv_num(&csv, m->lambda);
        report_csv_num(&csv, a[0]);
        report_csv_num(&csv, a[1]);
        report_csv_num(&csv, a[2]);
        report_csv_num(&csv, m->result.test_accuracy);
        report_csv_int(&csv, matches);
    }
    fputs("\n", md);
    return report_csv_close(&csv) | failed;
}

/* Why the alphas end where they do: each ReLU_alpha model's final pull on
   its alphas against its lambda, as a table and alpha_pull.csv. */
static int report_alpha_pull(FILE *md, const study *s)
{
    static const char *const header[] = {"lambda", "epochs", "alpha1", "alpha2", "alpha3",
                                         "pull1",  "pull2",  "pull3"};
    report_csv csv;
    double strongest = 0.0, weakest_lambda = HUGE_VAL;
    int i, k, failed = report_csv_open(&csv, s->opt.common.out, "alpha_pull.csv", header, 8);
    fprintf(md,
            "## Why the alphas end where they do\n\n"
            "The pull of the cross-entropy on each alpha at the end of training: minus its mean "
            "gradient over the first %d training images (positive: towards ReLU). Under the "
            "penalty lambda * |alpha|, alpha = 0 is a resting point when the pull is at most "
            "lambda in size, and a positive alpha rests only where the pull equals lambda, so no "
            "alpha can rest at 1 for every lambda.\n\n",
            s->train.inputs.shape[0] < PULL_IMAGES ? s->train.inputs.shape[0] : PULL_IMAGES);
    report_md_header(md, (const char *const[]){"model", "pull on alpha1", "pull on alpha2",
                                               "pull on alpha3"},
                     4);
    for (i = 0; i < s->n_models && !failed; i++) {
        const model *m = &s->models[i];
        if (m->activation != RELU_ALPHA) continue;
        report_md_row_numbers(md, m->label, m->pull, LAYERS, 4);
        report_csv_num(&csv, m->lambda);
        report_csv_int(&csv, m->epochs);
        for (k = 0; k < LAYERS; k++) report_csv_num(&csv, m->result.final[k]);
        for (k = 0; k < LAYERS; k++) {
            report_csv_num(&csv, m->pull[k]);
            if (fabs(m->pull[k]) > strongest) strongest = fabs(m->pull[k]);
        }
        if (m->lambda < weakest_lambda) weakest_lambda = m->lambda;
    }
    if (weakest_lambda < HUGE_VAL)
        fprintf(md, "\nThe strongest pull is %.4f, against a smallest lambda of %g.\n\n", strongest,
                weakest_lambda);
    return report_csv_close(&csv) != 0 || failed ? -1 : 0;
}

static int write_report(study *s, double seconds)
{
    FILE *md = study_report_open(s->opt.common.out);
    int failed = md == NULL, i;
    for (i = 0; i < s->n_models && !failed; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.csv", s->models[i].name);
        failed = study_result_read(s->models_dir, name, &s->models[i].result);
    }
    if (!failed) {
        const study_table *relu = &s->models[0].result.table;
        study_judge(&s->judgement, study_table_get(relu, relu->rows - 1, "train_loss"),
                    s->models[0].result.test_accuracy, 10);
        report_intro(md, s, seconds);
        study_judgement_note(md, &s->judgement);
        report_accuracy_table(md, s);
        report_findings(md, s);
        if (s->opt.explain) failed |= report_explain(md, s);
        failed = report_alpha_pull(md, s);
        fputs("## Loss and accuracy per iteration\n\n"
              "Means over windows of 10 iterations of the batches' cross-entropy (without the "
              "penalty) and accuracy.\n\n",
              md);
        failed |= report_curves(md, s, s->opt.common.epochs, "short");
        if (s->opt.n_long_lambdas > 0 && s->opt.long_epochs != s->opt.common.epochs)
            failed |= report_curves(md, s, s->opt.long_epochs, "long");
        failed |= report_alphas(md, s) | report_feature_maps(md, s);
        fputs("## Files\n\n"
              "- `models/<model>.csv`: per model, the means of every 10 iterations and the alphas "
              "(step 0: the initial ones), then a summary row with the test accuracy and times.\n"
              "- `alpha_pull.csv`: each ReLU_alpha model's final alphas and the pull on them.\n"
              "- `*.svg`: the charts and feature-map grids above.\n",
              md);
    }
    if (md) failed |= report_fclose(md) != 0;
    for (i = 0; i < s->n_models; i++) study_table_free(&s->models[i].result.table);
    return failed ? -1 : 0;
}

/* ---- main ------------------------------------------------------------------- */

/* The first test image of each shown class; -1 when the class is missing. */
static int find_shown_images(study *s)
{
    int i, n;
    for (i = 0; i < SHOWN; i++) {
        s->shown[i] = -1;
        for (n = 0; n < s->test.inputs.shape[0] && s->shown[i] < 0; n++)
            if (s->test.labels[n] == shown_classes[i]) s->shown[i] = n;
        if (s->shown[i] < 0) {
            fprintf(stderr, "the test set has no %s to show\n", class_names[shown_classes[i]]);
            return -1;
        }
    }
    return 0;
}

/* A study_unit_name_fn: the model's name. */
static void unit_name(int task, void *context, char *name, size_t size)
{
    snprintf(name, size, "%s", ((const study *)context)->models[task].name);
}

/* Trains the models the options ask for (see study_run_units), their pulls
   into the models: 0 when every model is in, 1 when there is nothing more
   to do, -1 on failure. */
static int train_models(study *s)
{
    static double pulls[MAX_MODELS][LAYERS];
    const options *o = &s->opt;
    study_units units;
    int tasks[MAX_MODELS], status, i;
    schedule(s, tasks);
    study_units_init(&units, s->n_models, train_model, unit_name, s, pulls, sizeof pulls[0]);
    units.order = tasks;
    units.files = "models";
    units.label = "models";
    study_units_list_setting(&units, "lambdas", o->lambdas, o->n_lambdas);
    study_units_list_setting(&units, "long_lambdas", o->long_lambdas, o->n_long_lambdas);
    study_units_setting(&units, "long_epochs", "%d", o->long_epochs);
    study_units_setting(&units, "clamp", "%d", o->clamp);
    study_units_setting(&units, "protocol", "%s", o->code_protocol ? "code" : "text");
    study_units_setting(&units, "explain", "%d", o->explain);
    if (!o->common.list && o->common.n_merge_dirs == 0)
        printf("%d models on %d training images, %d at a time\n", s->n_models, s->train.inputs.shape[0],
               o->common.jobs);
    status = study_run_units(&o->common, &units);
    for (i = 0; i < s->n_models && status == 0; i++) memcpy(s->models[i].pull, pulls[i], sizeof pulls[i]);
    return status;
}

int main(int argc, char **argv)
{
    static study s; /* large: keep it off the stack */
    int failed, status = parse_options(argc, argv, &s.opt);
    double start = report_seconds();
    if (status != 0) return status > 0 ? 0 : 2;
    snprintf(s.models_dir, sizeof s.models_dir, "%s/models", s.opt.common.out);
    if (!s.opt.common.list &&
        (study_make_folder(s.opt.common.out) != 0 || study_make_folder(s.models_dir) != 0))
        return 1;
    if (!s.opt.common.list &&
        study_load_fashion_mnist(s.opt.common.data, s.opt.common.train_size, s.opt.common.test_size,
                                 (uint64_t)s.opt.common.seed, &s.train, &s.test) != 0)
        return 1;
    list_models(&s);
    failed = !s.opt.common.list && find_shown_images(&s);
    if (!failed) status = train_models(&s);
    if (!failed && status == 0) failed = write_report(&s, report_seconds() - start);
    rn_dataset_free(&s.train);
    rn_dataset_free(&s.test);
    if (failed || status < 0) return 1;
    if (status == 0) printf("report: %s/REPORT.md\n", s.opt.common.out);
    return 0;
}
