/* study.h - what the Fashion-MNIST ReLU_alpha examples (relu_alpha_sweep.c,
 * conv_linearization.c) share: command-line values, loading the data,
 * training with a penalty on alpha, test accuracy, running independent
 * trainings in parallel processes, and reading their CSV files back.
 *
 * Include after relunet_data.h and report.h, in the one file that defines
 * STUDY_IMPLEMENTATION. Define _POSIX_C_SOURCE (200809L) first on POSIX
 * systems: it brings fork() and waitpid(), with which independent trainings
 * run side by side in child processes (no threads, nothing shared but the
 * data loaded before the fork). Elsewhere they run one after another.
 */
#ifndef RELUNET_STUDY_H
#define RELUNET_STUDY_H

/* ---- command line --------------------------------------------------------- */

enum { STUDY_MAX_LAMBDAS = 64 };

/* The options both examples have; the defaults are the example's. */
typedef struct study_options {
    const char *data, *out;
    int seed, jobs, train_size, test_size, epochs;
    int n_lambdas;
    double lambdas[STUDY_MAX_LAMBDAS];
} study_options;

/* 1 when argv has the flag (--quick changes the defaults of the rest). */
int study_has_flag(int argc, char **argv, const char *flag);
/* With --help or -h anywhere: prints usage and returns 1. */
int study_help(int argc, char **argv, const char *usage);
/* Each of these looks at argv[*i]: 1 when it is the option (or one of the
   options), its value parsed and *i moved onto it; 0 when it is another
   option; -1 after printing what was wrong with the value. */
int study_common_option(int argc, char **argv, int *i, study_options *o); /* and --quick */
int study_option_value(int argc, char **argv, int *i, const char *name, const char **value);
/* A whole number in [min, max]. */
int study_int_option(int argc, char **argv, int *i, const char *name, long min, long max, int *out);
/* A comma-separated list of at most max numbers, each >= 0. */
int study_list_option(int argc, char **argv, int *i, const char *name, double *out, int max, int *count);
/* Processors online; 1 when that cannot be known. */
int study_cores(void);

/* ---- data ----------------------------------------------------------------- */

/* Fashion-MNIST from dir (NULL: $RELUNET_DATA, then the Debian path), each
   set cut to a seeded, class-stratified subsample when train_size or
   test_size is below its size. Prints where it looked and how to get the
   data, and returns -1, when it is missing. */
int study_load_fashion_mnist(const char *dir, int train_size, int test_size, uint64_t seed,
                             rn_dataset *train, rn_dataset *test);

/* ---- training ------------------------------------------------------------- */

enum { STUDY_MAX_ALPHAS = 3 };

/* Called every `record_every` steps and after the last one, with the mean
   cross-entropy and training accuracy of the batches since the last call. */
typedef void (*study_record_fn)(void *context, long step, int epoch, double loss, double accuracy);

typedef struct study_training {
    rn_net *net;
    rn_optim *opt;
    const rn_dataset *train;
    int batch_size, epochs;
    rn_penalty_kind penalty; /* on every parameter named "alpha" */
    float lambda;
    uint64_t shuffle_seed; /* the batch order of every epoch */
    int record_every;
    study_record_fn record;
    void *context;
    report_progress *bar; /* per step, or NULL */
} study_training;

/* Trains for t->epochs on a fresh random permutation each epoch, minimising
   cross-entropy + lambda * penalty(alpha). 0, or -1 after printing why. */
int study_train(const study_training *t);
/* Share of the data the network classifies right, in batches (RN_EVAL). */
double study_accuracy(rn_net *net, const rn_dataset *data);
/* The network's alphas in layer order (up to STUDY_MAX_ALPHAS; the rest
   NaN); returns how many it has. */
int study_alphas(rn_net *net, double alphas[STUDY_MAX_ALPHAS]);

/* ---- a training's CSV file ------------------------------------------------- */

/* Columns: the training's settings (repeated in every row, so that files can
   be concatenated), then step, epoch, train_loss, train_accuracy, alpha1,
   alpha2, alpha3, test_accuracy, seconds, cpu_seconds. Rows: step 0 (the
   initial alphas), one per call of study_log_record, then a summary row with
   the test accuracy, the wall-clock and the processor time. */
typedef struct study_log {
    report_csv csv;
    rn_net *net;
    const double *settings;
    int n_settings;
    long step; /* of the last row */
    int epoch;
    double start, cpu_start;
} study_log;

int study_log_open(study_log *log, const char *dir, const char *name, rn_net *net,
                   const char *const *setting_names, const double *settings, int n_settings);
/* A study_record_fn: context is the study_log. */
void study_log_record(void *context, long step, int epoch, double loss, double accuracy);
/* Writes the summary row and closes the file; 0 when every row was written. */
int study_log_close(study_log *log, double test_accuracy);

/* ---- independent runs in parallel ----------------------------------------- */

/* One training: 0 on success. Runs in a child process: it must leave its
   results in files. */
typedef int (*study_task_fn)(int task, void *context);

/* Runs task(tasks[k], context) for k in [0, count), up to jobs at a time;
   bar (or NULL) counts the finished ones. Returns how many failed. */
int study_run_tasks(const int *tasks, int count, int jobs, study_task_fn task, void *context,
                    report_progress *bar);

/* ---- reading CSV files back ------------------------------------------------- */

/* A CSV file of numbers under one header line: values[row * columns + column];
   empty and non-numeric cells are NaN. */
typedef struct study_table {
    int rows, columns;
    char **names;
    double *values;
} study_table;

/* 0, or -1 after printing which file could not be read. */
int study_table_read(const char *dir, const char *name, study_table *table);
/* The value in the named column, NaN when there is no such column or row. */
double study_table_get(const study_table *table, int row, const char *column);
/* The named column as a new array of table->rows values (free() it), or NULL. */
double *study_table_column(const study_table *table, const char *column);
void study_table_free(study_table *table);

/* A chart series of column y against column x of a table, in new arrays;
   name is not copied. 0, or -1 when out of memory. */
int study_series_from_table(report_series *series, const char *name, const study_table *table,
                            const char *x, const char *y);
/* Frees the arrays of n series made by study_series_from_table. */
void study_series_free(report_series *series, int n);

/* A training's CSV file read back (see study_log). */
typedef struct study_result {
    double initial[STUDY_MAX_ALPHAS], final[STUDY_MAX_ALPHAS];
    double test_accuracy, seconds, cpu_seconds;
    study_table table; /* every row but the summary: the trajectory */
} study_result;

/* 0, or -1 after printing why (unreadable, or the training did not finish). */
int study_result_read(const char *dir, const char *name, study_result *result);

#endif /* RELUNET_STUDY_H */

/* ========================================================================== */
#ifdef STUDY_IMPLEMENTATION

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__))
#include <unistd.h>
#endif
#if defined(_POSIX_VERSION) && _POSIX_VERSION >= 200112L
#include <sys/types.h>
#include <sys/wait.h>
#define STUDY_HAVE_FORK 1
#endif

/* ---- command line --------------------------------------------------------- */

int study_has_flag(int argc, char **argv, const char *flag)
{
    int i;
    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], flag) == 0) return 1;
    return 0;
}

int study_help(int argc, char **argv, const char *usage)
{
    if (!study_has_flag(argc, argv, "--help") && !study_has_flag(argc, argv, "-h")) return 0;
    fputs(usage, stdout);
    return 1;
}

int study_common_option(int argc, char **argv, int *i, study_options *o)
{
    int found;
    if (strcmp(argv[*i], "--quick") == 0) return 1;
    if ((found = study_option_value(argc, argv, i, "--data", &o->data)) != 0) return found;
    if ((found = study_option_value(argc, argv, i, "--out", &o->out)) != 0) return found;
    if ((found = study_int_option(argc, argv, i, "--seed", 0, 2147483647L, &o->seed)) != 0) return found;
    if ((found = study_int_option(argc, argv, i, "--jobs", 1, 1024, &o->jobs)) != 0) return found;
    if ((found = study_int_option(argc, argv, i, "--train-size", 1, 60000, &o->train_size)) != 0)
        return found;
    if ((found = study_int_option(argc, argv, i, "--test-size", 1, 10000, &o->test_size)) != 0)
        return found;
    if ((found = study_int_option(argc, argv, i, "--epochs", 1, 10000, &o->epochs)) != 0) return found;
    return study_list_option(argc, argv, i, "--lambdas", o->lambdas, STUDY_MAX_LAMBDAS, &o->n_lambdas);
}

int study_option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    if (strcmp(argv[*i], name) != 0) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s needs a value (see --help)\n", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

static int study__parse_number(const char *text, const char *option, double min, double max, double *out)
{
    char *end;
    double value;
    errno = 0;
    value = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !(value >= min && value <= max)) {
        fprintf(stderr, "%s: '%s' is not a number in [%g, %g]\n", option, text, min, max);
        return -1;
    }
    *out = value;
    return 0;
}

int study_int_option(int argc, char **argv, int *i, const char *name, long min, long max, int *out)
{
    const char *text = NULL;
    double value;
    int found = study_option_value(argc, argv, i, name, &text);
    if (found <= 0) return found;
    if (study__parse_number(text, name, (double)min, (double)max, &value) != 0) return -1;
    if (value != (double)(long)value) {
        fprintf(stderr, "%s: '%s' is not a whole number\n", name, text);
        return -1;
    }
    *out = (int)value;
    return 1;
}

int study_list_option(int argc, char **argv, int *i, const char *name, double *out, int max, int *count)
{
    const char *text = NULL;
    char item[64];
    int found = study_option_value(argc, argv, i, name, &text);
    if (found <= 0) return found;
    *count = 0;
    while (*text) {
        size_t n = strcspn(text, ",");
        if (*count == max || n == 0 || n >= sizeof item) {
            fprintf(stderr, "%s: expected at most %d comma-separated numbers\n", name, max);
            return -1;
        }
        memcpy(item, text, n);
        item[n] = '\0';
        if (study__parse_number(item, name, 0.0, 1e6, &out[(*count)++]) != 0) return -1;
        text += n + (text[n] == ',');
    }
    if (*count == 0) {
        fprintf(stderr, "%s: the list is empty\n", name);
        return -1;
    }
    return 1;
}

int study_cores(void)
{
#if defined(_SC_NPROCESSORS_ONLN)
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n >= 1) return n > 256 ? 256 : (int)n;
#endif
    return 1;
}

/* ---- data ----------------------------------------------------------------- */

/* Replaces *data by a seeded stratified subsample of size items. */
static int study__subsample(rn_dataset *data, int size, uint64_t seed)
{
    rn_dataset part;
    if (size >= data->inputs.shape[0]) return RN_OK;
    if (rn_dataset_subsample(data, size, 1, seed, &part) != RN_OK) return -1;
    rn_dataset_free(data);
    *data = part;
    return RN_OK;
}

int study_load_fashion_mnist(const char *dir, int train_size, int test_size, uint64_t seed,
                             rn_dataset *train, rn_dataset *test)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (rn_data_fashion_mnist(dir, 1, train) != RN_OK || rn_data_fashion_mnist(dir, 0, test) != RN_OK) {
        fprintf(stderr,
                "Fashion-MNIST could not be loaded:\n  %s\n"
                "Install it (Debian/Ubuntu: apt-get install dataset-fashion-mnist), or point\n"
                "--data DIR or RELUNET_DATA at a folder with the four IDX files.\n",
                rn_last_error());
    } else if (study__subsample(train, train_size, seed) == RN_OK &&
               study__subsample(test, test_size, seed + 1) == RN_OK) {
        return 0;
    } else {
        fprintf(stderr, "subsampling Fashion-MNIST: %s\n", rn_last_error());
    }
    rn_dataset_free(train);
    rn_dataset_free(test);
    return -1;
}

/* ---- training ------------------------------------------------------------- */

/* One optimizer step; *loss gets the batch's cross-entropy (without the penalty). */
static int study__step(const study_training *t, const rn_tensor *inputs, const int *labels, float *loss)
{
    int status = rn_net_forward(t->net, inputs, RN_TRAIN);
    rn_net_zero_grad(t->net);
    if (status == RN_OK)
        status = rn_loss_cross_entropy(rn_net_output(t->net), labels, loss, rn_net_output_grad(t->net));
    if (status == RN_OK) {
        rn_net_penalty(t->net, RN_PARAMS_NAMED("alpha"), t->penalty, t->lambda);
        status = rn_net_backward(t->net);
    }
    if (status == RN_OK) status = rn_optim_step(t->opt);
    return status;
}

int study_train(const study_training *t)
{
    int n = t->train->inputs.shape[0], epoch, status = RN_OK;
    long step = 0, steps_per_epoch = (n + t->batch_size - 1) / t->batch_size, window = 0;
    double loss_sum = 0.0, correct = 0.0, seen = 0.0;
    int *order = (int *)malloc((size_t)n * sizeof *order);
    rn_rng rng;
    if (!order) return -1;
    rn_rng_seed(&rng, t->shuffle_seed, 7);
    for (epoch = 1; epoch <= t->epochs && status == RN_OK; epoch++) {
        rn_batch_iter batches;
        rn_data_permutation(order, n, &rng);
        status = rn_batch_iter_begin(&batches, t->train, t->batch_size, order, n);
        while (status == RN_OK && rn_batch_iter_next(&batches) > 0) {
            float loss = 0.0f;
            status = study__step(t, &batches.inputs, batches.labels, &loss);
            loss_sum += loss;
            correct += rn_accuracy(rn_net_output(t->net), batches.labels) * batches.count;
            seen += batches.count;
            window++;
            step++;
            if (t->bar)
                report_progress_update(t->bar, step, "epoch %d/%d  loss %.4f  %.0f img/s", epoch,
                                       t->epochs, loss,
                                       report_progress_rate(t->bar, (double)step * t->batch_size));
            if (t->record && (step % t->record_every == 0 || step == steps_per_epoch * t->epochs)) {
                t->record(t->context, step, epoch, loss_sum / window, correct / seen);
                loss_sum = correct = seen = 0.0;
                window = 0;
            }
        }
        rn_batch_iter_free(&batches);
    }
    free(order);
    if (status != RN_OK) {
        fprintf(stderr, "training failed at step %ld: %s\n", step, rn_last_error());
        return -1;
    }
    return 0;
}

double study_accuracy(rn_net *net, const rn_dataset *data)
{
    int n = data->inputs.shape[0], first, count;
    double correct = 0.0;
    for (first = 0; first < n; first += count) {
        rn_tensor batch;
        count = n - first < 500 ? n - first : 500;
        batch = rn_tensor_slice(&data->inputs, first, count);
        if (rn_net_forward(net, &batch, RN_EVAL) != RN_OK) return NAN;
        correct += rn_accuracy(rn_net_output(net), data->labels + first) * count;
    }
    return correct / n;
}

int study_alphas(rn_net *net, double alphas[STUDY_MAX_ALPHAS])
{
    rn_param *params[STUDY_MAX_ALPHAS];
    int n = rn_net_select(net, RN_PARAMS_NAMED("alpha"), params, STUDY_MAX_ALPHAS), i;
    if (n > STUDY_MAX_ALPHAS) n = STUDY_MAX_ALPHAS;
    for (i = 0; i < STUDY_MAX_ALPHAS; i++) alphas[i] = i < n ? params[i]->value.data[0] : NAN;
    return n;
}

/* ---- a training's CSV file ------------------------------------------------- */

static const char *const study__log_columns[] = {"step",    "epoch",      "train_loss", "train_accuracy",
                                                 "alpha1",  "alpha2",     "alpha3",     "test_accuracy",
                                                 "seconds", "cpu_seconds"};
enum { STUDY__LOG_COLUMNS = sizeof study__log_columns / sizeof study__log_columns[0] };

static double study__cpu_seconds(void) { return (double)clock() / CLOCKS_PER_SEC; }

static void study__log_row(study_log *log, long step, int epoch, double loss, double accuracy,
                           double test_accuracy, double seconds, double cpu_seconds)
{
    double alphas[STUDY_MAX_ALPHAS];
    int i;
    study_alphas(log->net, alphas);
    log->step = step;
    log->epoch = epoch;
    for (i = 0; i < log->n_settings; i++) report_csv_num(&log->csv, log->settings[i]);
    report_csv_int(&log->csv, step);
    report_csv_int(&log->csv, epoch);
    report_csv_num(&log->csv, loss);
    report_csv_num(&log->csv, accuracy);
    for (i = 0; i < STUDY_MAX_ALPHAS; i++) report_csv_num(&log->csv, alphas[i]);
    report_csv_num(&log->csv, test_accuracy);
    report_csv_num(&log->csv, seconds);
    report_csv_num(&log->csv, cpu_seconds);
}

int study_log_open(study_log *log, const char *dir, const char *name, rn_net *net,
                   const char *const *setting_names, const double *settings, int n_settings)
{
    int i, columns = n_settings + STUDY__LOG_COLUMNS;
    memset(log, 0, sizeof *log);
    log->net = net;
    log->settings = settings;
    log->n_settings = n_settings;
    log->start = report_seconds();
    log->cpu_start = study__cpu_seconds();
    if (report_csv_open(&log->csv, dir, name, NULL, columns) != 0) {
        fprintf(stderr, "cannot write %s/%s\n", dir, name);
        return -1;
    }
    for (i = 0; i < columns; i++)
        report_csv_str(&log->csv,
                       i < n_settings ? setting_names[i] : study__log_columns[i - n_settings]);
    study__log_row(log, 0, 0, NAN, NAN, NAN, NAN, NAN);
    return 0;
}

void study_log_record(void *context, long step, int epoch, double loss, double accuracy)
{
    study__log_row((study_log *)context, step, epoch, loss, accuracy, NAN, NAN, NAN);
}

int study_log_close(study_log *log, double test_accuracy)
{
    study__log_row(log, log->step, log->epoch, NAN, NAN, test_accuracy, report_seconds() - log->start,
                   study__cpu_seconds() - log->cpu_start);
    return report_csv_close(&log->csv);
}

/* ---- independent runs in parallel ----------------------------------------- */

static void study__finished(report_progress *bar, long done)
{
    if (bar) report_progress_update(bar, done, "%s", "");
}

int study_run_tasks(const int *tasks, int count, int jobs, study_task_fn task, void *context,
                    report_progress *bar)
{
    int next = 0, failed = 0;
    long done = 0;
#ifdef STUDY_HAVE_FORK
    int running = 0;
    while (next < count || running > 0) {
        int status;
        pid_t pid;
        if (next < count && running < jobs) {
            fflush(NULL); /* or the child would write the parent's buffered output again */
            pid = fork();
            if (pid == 0) exit(task(tasks[next], context) == 0 ? 0 : 1);
            if (pid > 0) {
                next++;
                running++;
                continue;
            }
            if (running == 0) break; /* cannot fork at all: run the rest here */
        }
        pid = waitpid(-1, &status, 0);
        if (pid < 0) break;
        running--;
        failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        study__finished(bar, ++done);
    }
#else
    (void)jobs;
#endif
    for (; next < count; next++) {
        failed += task(tasks[next], context) != 0;
        study__finished(bar, ++done);
    }
    return failed;
}

/* ---- reading CSV files back ------------------------------------------------- */

/* The next line of f without its line break, in a growing buffer; NULL at the end. */
static char *study__line(FILE *f, char **buffer, size_t *size)
{
    size_t n = 0;
    int c;
    if (!*buffer && (*buffer = (char *)malloc(*size = 256)) == NULL) return NULL;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (n + 2 > *size) {
            size_t bigger = 2 * *size;
            char *grown = (char *)realloc(*buffer, bigger);
            if (!grown) return NULL;
            *buffer = grown;
            *size = bigger;
        }
        (*buffer)[n++] = (char)c;
    }
    if (c == EOF && n == 0) return NULL;
    if (n > 0 && (*buffer)[n - 1] == '\r') n--;
    (*buffer)[n] = '\0';
    return *buffer;
}

static int study__count_cells(const char *line)
{
    int n = 1;
    for (; *line; line++) n += *line == ',';
    return n;
}

static double study__cell(const char *text)
{
    char *end;
    double value = strtod(text, &end);
    return end == text || (*end != ',' && *end != '\0') ? NAN : value;
}

int study_table_read(const char *dir, const char *name, study_table *table)
{
    FILE *f = report_fopen(dir, name, "r");
    char *line, *buffer = NULL;
    size_t size = 0, capacity = 0;
    int c, ok = f != NULL;
    memset(table, 0, sizeof *table);
    if (ok && (line = study__line(f, &buffer, &size)) != NULL) {
        table->columns = study__count_cells(line);
        table->names = (char **)calloc((size_t)table->columns, sizeof *table->names);
        ok = table->names != NULL;
        for (c = 0; ok && c < table->columns; c++) {
            size_t n = strcspn(line, ",");
            ok = (table->names[c] = (char *)malloc(n + 1)) != NULL;
            if (ok) memcpy(table->names[c], line, n), table->names[c][n] = '\0';
            line += n + (line[n] == ',');
        }
    } else {
        ok = 0;
    }
    while (ok && (line = study__line(f, &buffer, &size)) != NULL) {
        if ((size_t)(table->rows + 1) * table->columns > capacity) {
            size_t bigger = capacity ? 2 * capacity : 64 * (size_t)table->columns;
            double *grown = (double *)realloc(table->values, bigger * sizeof *grown);
            ok = grown != NULL;
            if (!ok) break;
            table->values = grown;
            capacity = bigger;
        }
        ok = study__count_cells(line) == table->columns;
        for (c = 0; ok && c < table->columns; c++) {
            table->values[(size_t)table->rows * table->columns + c] = study__cell(line);
            line += strcspn(line, ",") + 1;
        }
        table->rows += ok;
    }
    free(buffer);
    if (f) fclose(f);
    if (!ok) {
        fprintf(stderr, "cannot read the CSV table %s/%s\n", dir, name);
        study_table_free(table);
        return -1;
    }
    return 0;
}

double study_table_get(const study_table *table, int row, const char *column)
{
    int c;
    if (row < 0 || row >= table->rows) return NAN;
    for (c = 0; c < table->columns; c++)
        if (strcmp(table->names[c], column) == 0) return table->values[(size_t)row * table->columns + c];
    return NAN;
}

double *study_table_column(const study_table *table, const char *column)
{
    double *values = (double *)malloc(((size_t)table->rows + 1) * sizeof *values);
    int i;
    for (i = 0; values && i < table->rows; i++) values[i] = study_table_get(table, i, column);
    return values;
}

int study_series_from_table(report_series *series, const char *name, const study_table *table,
                            const char *x, const char *y)
{
    series->name = name;
    series->x = study_table_column(table, x);
    series->y = study_table_column(table, y);
    series->n = table->rows;
    return series->x && series->y ? 0 : -1;
}

void study_series_free(report_series *series, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        free((void *)series[i].x);
        free((void *)series[i].y);
        series[i].x = series[i].y = NULL;
    }
}

void study_table_free(study_table *table)
{
    int c;
    for (c = 0; table->names && c < table->columns; c++) free(table->names[c]);
    free(table->names);
    free(table->values);
    memset(table, 0, sizeof *table);
}

int study_result_read(const char *dir, const char *name, study_result *result)
{
    int last, i;
    memset(result, 0, sizeof *result);
    if (study_table_read(dir, name, &result->table) != 0) return -1;
    last = result->table.rows - 1;
    result->test_accuracy = study_table_get(&result->table, last, "test_accuracy");
    if (last < 1 || !(result->test_accuracy >= 0)) {
        fprintf(stderr, "%s/%s is incomplete: the training did not finish\n", dir, name);
        study_table_free(&result->table);
        return -1;
    }
    result->seconds = study_table_get(&result->table, last, "seconds");
    result->cpu_seconds = study_table_get(&result->table, last, "cpu_seconds");
    for (i = 0; i < STUDY_MAX_ALPHAS; i++) {
        char column[16];
        snprintf(column, sizeof column, "alpha%d", i + 1);
        result->initial[i] = study_table_get(&result->table, 0, column);
        result->final[i] = study_table_get(&result->table, last, column);
    }
    result->table.rows--; /* the summary row is not part of the trajectory */
    return 0;
}

#endif /* STUDY_IMPLEMENTATION */
