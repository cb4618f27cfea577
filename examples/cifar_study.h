/* cifar_study.h - what the two CIFAR-10 examples (adaptive_mixtures.c,
 * prelu_study.c) share: command-line numbers, loading the data with a clear
 * message when it is missing, one epoch of training with a progress bar,
 * and the test metrics (cross-entropy, accuracy, macro precision, top-5).
 *
 * Include after relunet_data.h and report.h, in the one file that defines
 * CIFAR_STUDY_IMPLEMENTATION (each example is that file).
 */
#ifndef RELUNET_CIFAR_STUDY_H
#define RELUNET_CIFAR_STUDY_H

/* Parses text as a number in [min, max] for option; 0, or -1 after saying why. */
int cifar_parse_int(const char *text, const char *option, long min, long max, int *out);
int cifar_parse_double(const char *text, const char *option, double min, double max, double *out);

/* CIFAR-10 from dir (NULL: $RELUNET_DATA/cifar-10-batches-bin), each set cut
   to a seeded class-stratified subsample when its size is below the full
   set's, every image standardised on its own (zero mean, unit variance, as
   tf.image.per_image_standardization). Prints where it looked and how to
   get the data, and returns -1, when it is missing. */
int cifar_load(const char *dir, int train_size, int test_size, uint64_t seed, rn_dataset *train,
               rn_dataset *test);

/* One optimizer step on a batch: forward (RN_TRAIN), cross-entropy on the
   logits into *loss, backward, step. Returns an RN_ status. */
int cifar_train_step(rn_net *net, rn_optim *opt, const rn_tensor *inputs, const int *labels,
                     float *loss);

/* One epoch of SGD-style training on a fresh shuffle of data in batches of
   batch_size (cross-entropy on the logits). *step counts batches across
   epochs for the progress bar. Returns the mean training loss, or NaN after
   printing the error when a step failed (for example a non-finite loss). */
double cifar_train_epoch(rn_net *net, rn_optim *opt, rn_dataset *data, int batch_size,
                         rn_rng *rng, report_progress *bar, long *step);

typedef struct cifar_metrics {
    double loss;         /* mean cross-entropy */
    double accuracy;     /* top-1 */
    double precision;    /* macro precision over the classes */
    double top5_error;
} cifar_metrics;

/* The network on every item of data in RN_EVAL mode. */
int cifar_evaluate(rn_net *net, const rn_dataset *data, int batch_size, cifar_metrics *out);

/* One independent training: fills result (result_size bytes of plain data,
   no pointers) and returns 0 on success. */
typedef int (*cifar_task_fn)(int task, void *context, void *result);

/* Runs task(k) for k in [0, count), up to jobs at a time in child processes
   on POSIX systems (one after another elsewhere, or with jobs 1); each
   child sends its result back through a pipe into results + k * result_size.
   Returns how many tasks failed. */
int cifar_run_tasks(int count, int jobs, cifar_task_fn task, void *context, void *results,
                    size_t result_size);

#endif /* RELUNET_CIFAR_STUDY_H */

/* ========================================================================== */
#ifdef CIFAR_STUDY_IMPLEMENTATION

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__))
#include <unistd.h>
#endif
#if defined(_POSIX_VERSION) && _POSIX_VERSION >= 200112L
#include <sys/types.h>
#include <sys/wait.h>
#define CIFAR_HAVE_FORK 1
#endif

int cifar_parse_double(const char *text, const char *option, double min, double max, double *out)
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

int cifar_parse_int(const char *text, const char *option, long min, long max, int *out)
{
    double value;
    if (cifar_parse_double(text, option, (double)min, (double)max, &value) != 0) return -1;
    if (value != floor(value)) {
        fprintf(stderr, "%s: '%s' is not a whole number\n", option, text);
        return -1;
    }
    *out = (int)value;
    return 0;
}

/* Replaces *data by a seeded stratified subsample of size items. */
static int cifar__subsample(rn_dataset *data, int size, uint64_t seed)
{
    rn_dataset part;
    if (size >= data->inputs.shape[0]) return 0;
    if (rn_dataset_subsample(data, size, 1, seed, &part) != RN_OK) return -1;
    rn_dataset_free(data);
    *data = part;
    return 0;
}

int cifar_load(const char *dir, int train_size, int test_size, uint64_t seed, rn_dataset *train,
               rn_dataset *test)
{
    memset(test, 0, sizeof *test);
    if (rn_data_cifar10(dir, 1, train) != RN_OK || rn_data_cifar10(dir, 0, test) != RN_OK ||
        cifar__subsample(train, train_size, seed) != 0 ||
        cifar__subsample(test, test_size, seed + 1) != 0) {
        fprintf(stderr, "cannot load CIFAR-10: %s\n(pass the folder holding "
                "cifar-10-batches-bin/ with --data or RELUNET_DATA; in development "
                "RELUNET_DATA=../shared/data)\n", rn_last_error());
        rn_dataset_free(train);
        rn_dataset_free(test);
        return -1;
    }
    rn_data_standardize_images(&train->inputs);
    rn_data_standardize_images(&test->inputs);
    return 0;
}

int cifar_train_step(rn_net *net, rn_optim *opt, const rn_tensor *inputs, const int *labels,
                     float *loss)
{
    int status = rn_net_forward(net, inputs, RN_TRAIN);
    rn_net_zero_grad(net);
    if (status == RN_OK)
        status = rn_loss_cross_entropy(rn_net_output(net), labels, loss, rn_net_output_grad(net));
    if (status == RN_OK) status = rn_net_backward(net);
    if (status == RN_OK) status = rn_optim_step(opt);
    return status;
}

double cifar_train_epoch(rn_net *net, rn_optim *opt, rn_dataset *data, int batch_size,
                         rn_rng *rng, report_progress *bar, long *step)
{
    rn_batch_iter batches;
    double total = 0.0;
    long items = 0;
    int status = RN_OK;
    rn_dataset_shuffle(data, rng);
    if (rn_batch_iter_begin(&batches, data, batch_size, NULL, 0) != RN_OK) status = -1;
    while (status == RN_OK && rn_batch_iter_next(&batches) > 0) {
        float loss = 0.0f;
        status = cifar_train_step(net, opt, &batches.inputs, batches.labels, &loss);
        total += (double)loss * batches.count;
        items += batches.count;
        ++*step;
        if (bar != NULL)
            report_progress_update(bar, *step, "loss %.4f  %.0f img/s", total / (double)items,
                                   report_progress_rate(bar, (double)*step * batch_size));
    }
    rn_batch_iter_free(&batches);
    if (status != RN_OK) {
        fprintf(stderr, "\ntraining failed: %s\n", rn_last_error());
        return NAN;
    }
    return total / (double)items;
}

int cifar_evaluate(rn_net *net, const rn_dataset *data, int batch_size, cifar_metrics *out)
{
    rn_batch_iter batches;
    int confusion[10 * 10] = {0}, status = RN_OK;
    double loss = 0.0, wrong1 = 0.0, wrong5 = 0.0;
    long items = 0;
    if (data->n_classes != 10) return -1;
    if (rn_batch_iter_begin(&batches, data, batch_size, NULL, 0) != RN_OK) return -1;
    while (status == RN_OK && rn_batch_iter_next(&batches) > 0) {
        float batch_loss = 0.0f;
        status = rn_net_forward(net, &batches.inputs, RN_EVAL);
        if (status == RN_OK)
            status = rn_loss_cross_entropy(rn_net_output(net), batches.labels, &batch_loss, NULL);
        if (status == RN_OK)
            status = rn_confusion_add(confusion, 10, rn_net_output(net), batches.labels);
        loss += (double)batch_loss * batches.count;
        wrong1 += rn_topk_error(rn_net_output(net), batches.labels, 1) * batches.count;
        wrong5 += rn_topk_error(rn_net_output(net), batches.labels, 5) * batches.count;
        items += batches.count;
    }
    rn_batch_iter_free(&batches);
    if (status != RN_OK) {
        fprintf(stderr, "evaluation failed: %s\n", rn_last_error());
        return -1;
    }
    out->loss = loss / (double)items;
    out->accuracy = 1.0 - wrong1 / (double)items;
    out->top5_error = wrong5 / (double)items;
    out->precision = rn_macro_precision(confusion, 10);
    return 0;
}

#ifdef CIFAR_HAVE_FORK
/* A running child: which task, and the pipe its result comes through. */
typedef struct cifar__child {
    pid_t pid;
    int task, fd;
} cifar__child;

static int cifar__start(int task, cifar_task_fn fn, void *context, void *result,
                        size_t result_size, cifar__child *child)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(NULL);
    child->pid = fork();
    if (child->pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (child->pid == 0) {
        size_t written = 0;
        int status;
        close(fds[0]);
        status = fn(task, context, result);
        while (status == 0 && written < result_size) {
            ssize_t n = write(fds[1], (char *)result + written, result_size - written);
            if (n <= 0) status = -1;
            else written += (size_t)n;
        }
        _exit(status == 0 ? 0 : 1);
    }
    close(fds[1]);
    child->task = task;
    child->fd = fds[0];
    return 0;
}

/* Reads the child's result and reaps it; 0 when it succeeded. */
static int cifar__finish(cifar__child *child, void *result, size_t result_size)
{
    size_t got = 0;
    int status = 0;
    while (got < result_size) {
        ssize_t n = read(child->fd, (char *)result + got, result_size - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(child->fd);
    if (waitpid(child->pid, &status, 0) < 0) return -1;
    return got == result_size && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
#endif

int cifar_run_tasks(int count, int jobs, cifar_task_fn task, void *context, void *results,
                    size_t result_size)
{
    int failed = 0, next = 0, k;
#ifdef CIFAR_HAVE_FORK
    cifar__child running[64];
    int n_running = 0;
    if (jobs > 64) jobs = 64;
    while (jobs > 1 && (next < count || n_running > 0)) {
        /* Results arrive in start order: the oldest child is waited for first. */
        if (next < count && n_running < jobs) {
            if (cifar__start(next, task, context, (char *)results + (size_t)next * result_size,
                             result_size, &running[n_running]) != 0)
                failed++;
            else
                n_running++;
            next++;
            continue;
        }
        failed += cifar__finish(&running[0], (char *)results + (size_t)running[0].task * result_size,
                                result_size) != 0;
        memmove(running, running + 1, (size_t)--n_running * sizeof running[0]);
    }
#endif
    for (k = next; k < count; k++)
        failed += task(k, context, (char *)results + (size_t)k * result_size) != 0;
    return failed;
}

#endif /* CIFAR_STUDY_IMPLEMENTATION */
