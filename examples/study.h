/* study.h - what the relunet examples share: command-line options, loading
 * Fashion-MNIST and CIFAR-10 with a clear message when they are missing,
 * training with a penalty on alpha and per-epoch hooks, test metrics,
 * running independent trainings in parallel processes, reading CSV files
 * back, and a few pieces of every REPORT.md.
 *
 * Include after relunet_data.h and report.h, in the one file that defines
 * STUDY_IMPLEMENTATION (each example is that file). Define _POSIX_C_SOURCE
 * (200809L) first on POSIX systems: it brings fork(), pipe() and select(),
 * with which independent trainings run side by side in child processes (no
 * threads, nothing shared but the data loaded before the fork). Elsewhere
 * they run one after another.
 */
#ifndef RELUNET_STUDY_H
#define RELUNET_STUDY_H

/* ---- command line --------------------------------------------------------- */

/* The options every example has; the defaults are the example's. The last
   four choose what a run does with the study's units (see study_run_units). */
typedef struct study_options {
    const char *data, *out;
    int seed, jobs, train_size, test_size, epochs;
    int shard, shards;  /* --shard I/N: units I-1, I-1+N, ... of the study (1/1: all) */
    char **merge_dirs;  /* --merge DIR...: no training, the units saved in these folders */
    int n_merge_dirs;
    int list;           /* --list: print the units, one per line, and stop */
    int resume;         /* --resume: skip the units done, continue the interrupted ones */
    int argc;           /* the command line, to say how to resume it */
    char **argv;
} study_options;

/* Looks at argv[*i], an option of the example's own: 1 when it was one (its
   value parsed, *i moved past it), 0 when it was not, -1 after printing
   what was wrong with the value. */
typedef int (*study_option_fn)(int argc, char **argv, int *i, void *options);

/* The defaults every example shares (seed 1, a job per processor) with its
   own output folder, epochs and sizes. */
void study_defaults(study_options *o, const char *out, int epochs, int train_size, int test_size);
/* 1 when argv has the flag (--quick changes the defaults of the rest). */
int study_has_flag(int argc, char **argv, const char *flag);
/* With --help or -h anywhere: prints usage and returns 1. */
int study_help(int argc, char **argv, const char *usage);
/* Every argument after argv[0]: --quick, --data, --out, --seed, --jobs,
   --train-size (or --train), --test-size (or --test), --epochs, --shard,
   --merge, --list and --resume into common, the rest through own(argc, argv, &i, options). 0, or -1 after
   printing what was wrong (an unknown option among it). */
int study_parse_options(int argc, char **argv, study_options *common, study_option_fn own,
                        void *options);
/* Each of these looks at argv[*i] and returns as a study_option_fn does. */
int study_option_value(int argc, char **argv, int *i, const char *name, const char **value);
/* A whole number in [min, max]. */
int study_int_option(int argc, char **argv, int *i, const char *name, long min, long max, int *out);
/* A number in [min, max]. */
int study_number_option(int argc, char **argv, int *i, const char *name, double min, double max,
                        double *out);
/* A comma-separated list of at most max numbers, each >= 0. */
int study_list_option(int argc, char **argv, int *i, const char *name, double *out, int max, int *count);
/* Processors online; 1 when that cannot be known. */
int study_cores(void);

/* ---- data ----------------------------------------------------------------- */

/* Each loads the training and the test set from dir (NULL: the default
   places below), cut to a seeded, class-stratified subsample when
   train_size or test_size is below the set's size. When the data is
   missing, prints where it looked and how to get it, and returns -1. */

/* Fashion-MNIST, pixels in [0, 1]; dir (or $RELUNET_DATA when NULL) is its
   folder or the one holding fashion-mnist/; with neither, the Debian
   package's folder. */
int study_load_fashion_mnist(const char *dir, int train_size, int test_size, uint64_t seed,
                             rn_dataset *train, rn_dataset *test);
/* CIFAR-10, every image standardised on its own (zero mean, unit variance,
   as tf.image.per_image_standardization); dir (or $RELUNET_DATA when NULL)
   is the cifar-10-batches-bin folder or the one holding it. */
int study_load_cifar10(const char *dir, int train_size, int test_size, uint64_t seed,
                       rn_dataset *train, rn_dataset *test);

/* ---- training ------------------------------------------------------------- */

enum { STUDY_MAX_ALPHAS = 3 };

/* Called every `record_every` steps and after the last one, with the mean
   cross-entropy and training accuracy of the batches since the last call;
   after a failed step, once more with NaN for both. */
typedef void (*study_record_fn)(void *context, long step, int epoch, double loss, double accuracy);
/* Called after every epoch (from 1) with its mean cross-entropy; anything
   but 0 ends the training as a failure. */
typedef int (*study_epoch_fn)(void *context, int epoch, double loss);

typedef struct study_training {
    rn_net *net;
    rn_optim *opt;
    const rn_dataset *train;
    int batch_size, epochs;
    int lr_drop_epoch;        /* from this epoch (from 1) on, a tenth of the learning rate; 0: never */
    rn_penalty_kind penalty;  /* lambda * penalty on every parameter named "alpha" */
    float lambda;             /* 0: no penalty */
    float penalty_center;     /* L1 only: the penalty is on |alpha - penalty_center| (0: |alpha|) */
    uint64_t shuffle_seed;    /* the batch order of every epoch */
    int record_every;
    study_record_fn record;   /* or NULL */
    study_epoch_fn epoch_end; /* or NULL */
    void *context;            /* for both */
    struct study_log *log;    /* the CSV file record writes to, or NULL: a checkpoint keeps its rows */
    rn_augment *augment;      /* random crop and flip of every batch, or NULL */
    const char *label;        /* a progress bar on stderr with this label, or NULL for none */
    int plain_progress;       /* 1: whole lines, not a redrawn one (several trainings at a time) */
} study_training;

/* Forward, cross-entropy (*loss) and backward on one batch: every
   parameter's gradient afterwards is the batch's alone. An RN_ status. */
int study_backprop(rn_net *net, const rn_tensor *inputs, const int *labels, float *loss);

/* Trains for t->epochs on a fresh random permutation each epoch (the data
   is not touched), minimising cross-entropy + lambda * penalty(alpha).
   Within a study unit it continues from the unit's checkpoint, when there
   is one, and when the run is interrupted it stops after the batch in hand
   and writes one (see study_checkpoint_save). 0, or -1 after printing why
   (or after stopping: the unit is then interrupted, not failed). */
int study_train(const study_training *t);

typedef struct study_metrics {
    double loss;       /* mean cross-entropy */
    double accuracy;   /* top-1 */
    double top5_error;
    double precision;  /* macro precision over the classes */
} study_metrics;

/* The network on every item of data in RN_EVAL mode. 0, or -1 after printing why. */
int study_evaluate(rn_net *net, const rn_dataset *data, study_metrics *out);
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
    char path[1100]; /* dir/name; written as dir/name.tmp until closed */
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
/* Writes the summary row with the network's accuracy on test (NaN when test
   is NULL: the training failed) and closes the file; 0 when every row was
   written. After an interruption the file is not put in place (its rows
   are in the checkpoint) and the result is -1. */
int study_log_close(study_log *log, const rn_dataset *test);

/* ---- interruption and checkpoints ------------------------------------------ */

/* While study_run_units trains, SIGINT and SIGTERM do not stop the program
   at once: the unit in hand finishes its batch, writes a checkpoint in
   OUT/checkpoint, and the program says how to resume and exits with 128 +
   the signal's number. Run again (--resume, or the same command), the study
   skips the units it finished and continues the interrupted ones from their
   checkpoints, exactly as if it had never stopped. */

/* The signal that asked the run to stop, or 0. */
int study_interrupted(void);
/* Counts a training step: for tests, RELUNET_INTERRUPT=N in the environment
   raises SIGINT after the N-th step of the process. */
void study_step_done(void);

/* Everything a training loop needs to go on where it stopped. */
typedef struct study_state {
    rn_net *net;
    rn_optim *opt;
    rn_param **extra;      /* values the network does not hold (RAI's Z), or NULL */
    int n_extra;
    struct study_log *log; /* the CSV file the training writes, or NULL */
    void *progress;        /* where the loop is: plain data, no pointers */
    size_t progress_size;
} study_state;

/* Saves s and the unit's result so far as the checkpoint of the unit in
   hand (one file, whole or not at all); the unit then counts as
   interrupted, not finished. 0, or -1 after saying why. */
int study_checkpoint_save(const study_state *s);
/* Called once at the start of each training of a unit: 1 when the unit
   has a checkpoint of this training, loaded into s (the network, the
   optimizer, the extra values, the log, the progress) and into the unit's
   result; 0 when there is none (outside a unit, too); -1 after saying why. */
int study_checkpoint_load(const study_state *s);

/* ---- independent runs in parallel ----------------------------------------- */

enum { STUDY_MAX_JOBS = 64 };

/* A task's status when the run was interrupted and it stopped early,
   leaving a checkpoint. */
enum { STUDY_STOPPED = -2 };

/* One training: fills result (when the runner was given result_size bytes
   of plain data, no pointers, per task; NULL otherwise) and returns 0 on
   success, STUDY_STOPPED when interrupted. Runs in a child process when
   jobs > 1: anything else it leaves behind must be in files. */
typedef int (*study_task_fn)(int task, void *context, void *result);

/* Runs task(tasks[k], context, results + k * result_size) for k in
   [0, count) (tasks NULL: task k), up to jobs at a time; each child sends
   its result back through a pipe. bar (or NULL) counts the finished tasks.
   Once the run is interrupted it starts no more tasks, passes the signal to
   the running children and waits for them. Returns how many failed. */
int study_run_tasks(const int *tasks, int count, int jobs, study_task_fn task, void *context,
                    void *results, size_t result_size, report_progress *bar);

/* ---- a study's units: --list, --shard and --merge ------------------------- */

/* A study is a list of independent units (one training each), each known by
   a name and made only from the study's settings and --seed. Each unit's
   result is saved in OUT/units/NAME.unit after the settings that made it,
   so the shards of a study can run anywhere and be merged into the report
   of one run, bit for bit. */

enum { STUDY_SETTINGS_SIZE = 4096 };

/* A file name for unit k, unique within the study. */
typedef void (*study_unit_name_fn)(int unit, void *context, char *name, size_t size);

typedef struct study_units {
    int count;               /* units in the study */
    const int *order;        /* the order to start them in (say, the longest first); NULL: 0, 1, ... */
    study_task_fn run;       /* trains unit k: run(k, context, its result) */
    study_unit_name_fn name;
    void *context;           /* for both */
    void *results;           /* count results of result_size bytes: unit k's at k * result_size */
    size_t result_size;      /* plain data, no pointers (it goes through a file) */
    const char *files;       /* the subfolder of --out the units leave files in, which --merge
                                copies from every folder; NULL: none */
    const char *label;       /* a progress line with this label as units finish; NULL: none */
    char settings[STUDY_SETTINGS_SIZE]; /* "name=value" lines, see study_units_setting */
} study_units;

/* u with count units that run(k, context, result) trains and name(k, ...)
   names, their results in results (result_size bytes each; NULL, 0: none),
   the rest of it empty. */
void study_units_init(study_units *u, int count, study_task_fn run, study_unit_name_fn name,
                      void *context, void *results, size_t result_size);
/* Records a setting that changes the units' numbers (a printf format for
   its value). Merging refuses units saved under other settings. */
void study_units_setting(study_units *u, const char *name, const char *format, ...);
/* A list of numbers as one setting, "0,0.005,0.01". */
void study_units_list_setting(study_units *u, const char *name, const double *values, int n);

/* A unit name made from a label: lower-case letters and digits, every run
   of anything else one '_' ("Method 1, X=Y=Z=1/3" -> "method_1_x_y_z_1_3"). */
void study_unit_name_from(const char *label, char *name, size_t size);

/* The --help lines of --shard, --merge and --list. */
#define STUDY_UNITS_USAGE                                                                        \
    "  --shard I/N        train only units I, I+N, I+2N, ... (I from 1) and save them in\n"   \
    "                     OUT/units; --list shows the units\n"                                \
    "  --merge DIR...     no training: the report from the units saved in every DIR (give\n"  \
    "                     the shards' options; units made with other settings are refused)\n" \
    "  --list             print the study's units, one per line, and stop\n"                 \
    "  --resume           continue the interrupted run in --out: skip the units it\n"        \
    "                     finished, continue the others from their checkpoints (the\n"       \
    "                     default when --out holds a checkpoint of the same settings;\n"     \
    "                     other settings are refused)\n"                                      \
    "Ctrl-C (SIGINT) or SIGTERM stops a run after the batch in hand, with a checkpoint\n"     \
    "in OUT/checkpoint, and prints the command that resumes it.\n"

/* Does with the units what the options ask, after adding the common
   settings (--seed, --epochs, --train-size, --test-size):
   --list         prints every unit's name, one per line; returns 1.
   --merge DIR... reads every unit's result from the first DIR that has it
                  (refusing units saved under other settings, naming the
                  setting), copies the units' files into --out; returns 0.
   --shard I/N    trains units I-1, I-1+N, ... of the order, --jobs at a
                  time, and saves them; returns 1 when N > 1, else reads them
                  all back and returns 0. Resuming (see above), the units
                  saved in --out are not trained again. Interrupted, it
                  prints how to resume and exits the program (128 + signal).
   0: u->results holds every unit's result, write the report; 1: nothing
   more to do; -1: failed, after saying why. */
int study_run_units(const study_options *o, study_units *u);

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

/* ---- pieces of every report ----------------------------------------------- */

/* report_output_folder(dir) (created, writable, no stale REPORT.md); 0, or
   -1 after saying why not. */
int study_make_folder(const char *dir);
/* dir/REPORT.md opened for writing, or NULL after saying it cannot be. */
FILE *study_report_open(const char *dir);
/* How a study's main ends. trained is what its training returned: < 0,
   nothing came back and no report is written; > 0, this run only saved
   units (--list, --shard) and writes no report; 0, it ran whole, and
   written says whether every file of its report was written. Says which
   and returns the exit status. */
int study_exit_status(int trained, int written, const char *out);
/* Whether a run trained enough for its findings to mean anything: a final
   training loss within 5% of chance (ln classes) or a test accuracy under
   twice chance (2 / classes; with two classes, where that is 100%, halfway
   from chance to it: 75%) is too little, and reason then says which, with
   the numbers. */
typedef struct study_judgement {
    int judged;
    char reason[256];
} study_judgement;
void study_judge(study_judgement *j, double train_loss, double test_accuracy, int classes);
/* For the top of a report: a bold line when the run cannot be judged,
   nothing when it can. */
void study_judgement_note(FILE *md, const study_judgement *j);
/* Opens the findings section: "## Findings", and the note again. */
void study_findings_begin(FILE *md, const study_judgement *j);
/* How a finding fared: "**reproduced**", "**not reproduced**", or "**not
   judged**" when the run was too short to judge. */
const char *study_verdict(const study_judgement *j, int reproduced);

#endif /* RELUNET_STUDY_H */

/* ========================================================================== */
#ifdef STUDY_IMPLEMENTATION

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__))
#include <unistd.h>
#endif
#if defined(_POSIX_VERSION) && _POSIX_VERSION >= 200112L
#include <dirent.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#define STUDY_HAVE_FORK 1
#endif

/* What the signal handler, the training loops and the unit runner share
   (see "interruption and checkpoints"). */
static volatile sig_atomic_t study__signal; /* the signal that asked the run to stop, or 0 */
static long study__steps;                   /* training steps so far, for RELUNET_INTERRUPT */
static struct study__unit_in_hand {
    const study_units *units; /* NULL: no unit in hand */
    char folder[1100];        /* OUT/checkpoint */
    char name[300];           /* NAME.state, the unit's checkpoint */
    void *result;             /* the unit's result so far */
    size_t result_size;
    int resume;               /* 1: the unit may have a checkpoint to continue from */
    int trainings;            /* study_checkpoint_load calls so far */
    int stopped;              /* its checkpoint is written: the unit did not finish */
} study__unit;

/* ---- command line --------------------------------------------------------- */

void study_defaults(study_options *o, const char *out, int epochs, int train_size, int test_size)
{
    memset(o, 0, sizeof *o);
    o->out = out;
    o->seed = 1;
    o->jobs = study_cores();
    o->epochs = epochs;
    o->train_size = train_size;
    o->test_size = test_size;
    o->shard = o->shards = 1;
}

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

/* A whole number under either of two names. */
static int study__int_option2(int argc, char **argv, int *i, const char *name, const char *other,
                              long max, int *out)
{
    int found = study_int_option(argc, argv, i, name, 1, max, out);
    return found != 0 ? found : study_int_option(argc, argv, i, other, 1, max, out);
}

/* --shard I/N with 1 <= I <= N. */
static int study__shard_option(int argc, char **argv, int *i, study_options *o)
{
    const char *text = NULL;
    char extra;
    int found = study_option_value(argc, argv, i, "--shard", &text);
    if (found <= 0) return found;
    if (sscanf(text, "%d/%d%c", &o->shard, &o->shards, &extra) == 2 && o->shards >= 1 &&
        o->shard >= 1 && o->shard <= o->shards)
        return 1;
    fprintf(stderr, "--shard: '%s' is not I/N with 1 <= I <= N\n", text);
    return -1;
}

/* --merge takes the arguments after it up to the next option. */
static int study__merge_option(int argc, char **argv, int *i, study_options *o)
{
    if (strcmp(argv[*i], "--merge") != 0) return 0;
    o->merge_dirs = argv + *i + 1;
    o->n_merge_dirs = 0;
    while (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) ++*i, o->n_merge_dirs++;
    if (o->n_merge_dirs > 0) return 1;
    fprintf(stderr, "--merge needs at least one folder\n");
    return -1;
}

static int study__common_option(int argc, char **argv, int *i, study_options *o)
{
    int found;
    if (strcmp(argv[*i], "--quick") == 0) return 1; /* the defaults have been chosen */
    if (strcmp(argv[*i], "--list") == 0) return o->list = 1;
    if (strcmp(argv[*i], "--resume") == 0) return o->resume = 1;
    if ((found = study__shard_option(argc, argv, i, o)) != 0) return found;
    if ((found = study__merge_option(argc, argv, i, o)) != 0) return found;
    if ((found = study_option_value(argc, argv, i, "--data", &o->data)) != 0) return found;
    if ((found = study_option_value(argc, argv, i, "--out", &o->out)) != 0) return found;
    if ((found = study_int_option(argc, argv, i, "--seed", 0, 2147483647L, &o->seed)) != 0) return found;
    if ((found = study_int_option(argc, argv, i, "--jobs", 1, STUDY_MAX_JOBS, &o->jobs)) != 0)
        return found;
    if ((found = study_int_option(argc, argv, i, "--epochs", 1, 10000, &o->epochs)) != 0) return found;
    /* a size above the set's means all of it */
    if ((found = study__int_option2(argc, argv, i, "--train-size", "--train", 60000, &o->train_size)) != 0)
        return found;
    return study__int_option2(argc, argv, i, "--test-size", "--test", 10000, &o->test_size);
}

int study_parse_options(int argc, char **argv, study_options *common, study_option_fn own,
                        void *options)
{
    int i, found = 0;
    common->argc = argc;
    common->argv = argv;
    for (i = 1; i < argc && found >= 0; i++) {
        if ((found = study__common_option(argc, argv, &i, common)) != 0) continue;
        if ((found = own(argc, argv, &i, options)) != 0) continue;
        fprintf(stderr, "unknown option '%s' (see --help)\n", argv[i]);
        found = -1;
    }
    return found < 0 ? -1 : 0;
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

int study_number_option(int argc, char **argv, int *i, const char *name, double min, double max,
                        double *out)
{
    const char *text = NULL;
    int found = study_option_value(argc, argv, i, name, &text);
    if (found <= 0) return found;
    return study__parse_number(text, name, min, max, out) == 0 ? 1 : -1;
}

int study_int_option(int argc, char **argv, int *i, const char *name, long min, long max, int *out)
{
    double value;
    int found = study_number_option(argc, argv, i, name, (double)min, (double)max, &value);
    if (found <= 0) return found;
    if (value != (double)(long)value) {
        fprintf(stderr, "%s: '%s' is not a whole number\n", name, argv[*i]);
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
    if (n >= 1) return n > STUDY_MAX_JOBS ? STUDY_MAX_JOBS : (int)n;
#endif
    return 1;
}

/* ---- data ----------------------------------------------------------------- */

/* A set of at most size items: a seeded stratified subsample when the set
   has more. */
typedef int (*study__loader)(const char *dir, int train, int size, uint64_t seed, rn_dataset *out);

/* Fashion-MNIST's files are gzip'ed, so the whole set is read, then cut. */
static int study__fashion_mnist(const char *dir, int train, int size, uint64_t seed, rn_dataset *out)
{
    rn_dataset all;
    int status = rn_data_fashion_mnist(dir, train, &all);
    if (status != RN_OK || size >= all.inputs.shape[0]) {
        *out = all;
        return status;
    }
    status = rn_dataset_subsample(&all, size, 1, seed, out);
    rn_dataset_free(&all);
    return status;
}

/* CIFAR-10's records are read one by one, only those of the subsample. */
static int study__cifar10(const char *dir, int train, int size, uint64_t seed, rn_dataset *out)
{
    return rn_data_cifar10_subsample(dir, train, size, 1, seed, out);
}

/* Both sets through load; on failure prints the library's message and then
   how to get the data. */
static int study__load(study__loader load, const char *dir, int train_size, int test_size,
                       uint64_t seed, rn_dataset *train, rn_dataset *test, const char *how_to_get)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (load(dir, 1, train_size, seed, train) == RN_OK && load(dir, 0, test_size, seed + 1, test) == RN_OK)
        return 0;
    fprintf(stderr, "%s\n%s", rn_last_error(), how_to_get);
    rn_dataset_free(train);
    rn_dataset_free(test);
    return -1;
}

int study_load_fashion_mnist(const char *dir, int train_size, int test_size, uint64_t seed,
                             rn_dataset *train, rn_dataset *test)
{
    return study__load(study__fashion_mnist, dir, train_size, test_size, seed, train, test,
                       "Fashion-MNIST could not be loaded. Install it (Debian/Ubuntu: apt-get "
                       "install dataset-fashion-mnist), or point\n--data DIR or RELUNET_DATA at a "
                       "folder with the four IDX files or with fashion-mnist/ in it.\n");
}

int study_load_cifar10(const char *dir, int train_size, int test_size, uint64_t seed,
                       rn_dataset *train, rn_dataset *test)
{
    if (study__load(study__cifar10, dir, train_size, test_size, seed, train, test,
                    "CIFAR-10 could not be loaded. Fetch it with scripts/get-cifar10.sh DIR (or "
                    "make data-cifar10),\nthen pass --data DIR or set RELUNET_DATA=DIR.\n") != 0)
        return -1;
    rn_data_standardize_images(&train->inputs);
    rn_data_standardize_images(&test->inputs);
    return 0;
}

/* ---- training ------------------------------------------------------------- */

int study_backprop(rn_net *net, const rn_tensor *inputs, const int *labels, float *loss)
{
    int status = rn_net_forward(net, inputs, RN_TRAIN);
    rn_net_zero_grad(net);
    if (status == RN_OK)
        status = rn_loss_cross_entropy(rn_net_output(net), labels, loss, rn_net_output_grad(net));
    if (status == RN_OK) status = rn_net_backward(net);
    return status;
}

/* The gradient of lambda * |alpha - center| added to every alpha's (the
   slope at alpha = center taken as 0). */
static void study__penalty_about(rn_net *net, float center, float lambda)
{
    rn_param *alphas[64];
    int n = rn_net_select(net, RN_PARAMS_NAMED("alpha"), alphas, 64), i;
    size_t k;
    for (i = 0; i < n && i < 64; i++)
        for (k = 0; k < alphas[i]->value.size; k++) {
            float d = alphas[i]->value.data[k] - center;
            alphas[i]->grad.data[k] += d > 0.0f ? lambda : d < 0.0f ? -lambda : 0.0f;
        }
}

/* What study_train keeps between steps: the record window and the epoch's sums. */
typedef struct study__totals {
    long step, window;
    double window_loss, window_correct, window_seen; /* since the last record */
    double epoch_loss, epoch_seen;
} study__totals;

/* Passes the window's means to t->record (NaN after a failed step, which is
   the step after the last one done) and starts a new window. */
static void study__record(const study_training *t, study__totals *s, int epoch, int failed)
{
    if (failed)
        t->record(t->context, s->step + 1, epoch, NAN, NAN);
    else
        t->record(t->context, s->step, epoch, s->window_loss / s->window,
                  s->window_correct / s->window_seen);
    s->window_loss = s->window_correct = s->window_seen = 0.0;
    s->window = 0;
}

/* Where study_train is, as its checkpoint keeps it. */
typedef struct study__progress {
    int epoch;          /* the epoch in hand, from 1 */
    long batches_done;  /* of it */
    rn_rng shuffle;     /* the batch order's stream before this epoch's permutation */
    rn_rng augment;     /* the augmentation's stream */
    study__totals totals;
} study__progress;

/* What the callbacks of one epoch share. */
typedef struct study__epoch_state {
    const study_training *t;
    study__progress *p;
    report_progress *bar;
    long last; /* the training's last step */
} study__epoch_state;

static int study__augment(void *context, rn_net *net, rn_batch *batch)
{
    return rn_data_augment_batch(((study__epoch_state *)context)->t->augment, net, batch);
}

/* After the backward pass: at alpha = 0 the L1 penalty's slope depends on
   the data's gradient. */
static int study__penalty(void *context, rn_net *net, rn_batch *batch)
{
    const study_training *t = ((study__epoch_state *)context)->t;
    (void)batch;
    if (t->lambda != 0.0f && t->penalty_center != 0.0f)
        study__penalty_about(net, t->penalty_center, t->lambda);
    else if (t->lambda != 0.0f)
        rn_net_penalty(net, RN_PARAMS_NAMED("alpha"), t->penalty, t->lambda);
    return RN_OK;
}

/* The window's and the epoch's sums, the progress bar and the records;
   STUDY_STOPPED when the run is interrupted. */
static int study__after_step(void *context, rn_net *net, rn_batch *batch)
{
    study__epoch_state *e = (study__epoch_state *)context;
    const study_training *t = e->t;
    study__totals *s = &e->p->totals;
    int count = batch->inputs->shape[0];
    e->p->batches_done++;
    s->step++;
    s->window++;
    s->window_loss += batch->loss;
    s->window_correct += rn_accuracy(rn_net_output(net), batch->labels) * count;
    s->window_seen += count;
    s->epoch_loss += (double)batch->loss * count;
    s->epoch_seen += count;
    if (t->label)
        report_progress_update(e->bar, s->step, "epoch %d/%d  loss %.4f  %.0f img/s", e->p->epoch,
                               t->epochs, batch->loss,
                               report_progress_rate(e->bar, (double)s->step * t->batch_size));
    if (t->record && (s->step % t->record_every == 0 || s->step == e->last))
        study__record(t, s, e->p->epoch, 0);
    study_step_done();
    return study_interrupted() ? STUDY_STOPPED : RN_OK;
}

/* The rest of the epoch in hand (the batches after p->batches_done) in the
   order given; RN_OK, STUDY_STOPPED or the failed step's status. */
static int study__epoch(const study_training *t, const int *order, study__progress *p,
                        report_progress *bar)
{
    int n = t->train->inputs.shape[0];
    long done = p->batches_done * t->batch_size;
    study__epoch_state e;
    rn_epoch_desc desc;
    if (done >= n) return RN_OK; /* interrupted after its last batch */
    e.t = t;
    e.p = p;
    e.bar = bar;
    e.last = (long)t->epochs * ((n + t->batch_size - 1) / t->batch_size);
    memset(&desc, 0, sizeof desc);
    desc.batch_size = t->batch_size;
    desc.order = order + done;
    desc.count = n - (int)done;
    desc.prepare = t->augment ? study__augment : NULL;
    desc.before_step = study__penalty;
    desc.after_step = study__after_step;
    desc.context = &e;
    return rn_net_train_epoch(t->net, t->opt, &t->train->inputs, t->train->labels, &desc, NULL);
}

int study_train(const study_training *t)
{
    int n = t->train->inputs.shape[0], status = RN_OK;
    int *order = (int *)malloc((size_t)n * sizeof *order);
    study__progress p;
    study_state state;
    report_progress bar;
    if (!order) return -1;
    memset(&p, 0, sizeof p);
    p.epoch = 1;
    rn_rng_seed(&p.shuffle, t->shuffle_seed, 7);
    if (t->augment) p.augment = t->augment->rng;
    memset(&state, 0, sizeof state);
    state.net = t->net;
    state.opt = t->opt;
    state.log = t->log;
    state.progress = &p;
    state.progress_size = sizeof p;
    if (study_checkpoint_load(&state) < 0) {
        free(order);
        return -1;
    }
    if (t->augment) t->augment->rng = p.augment;
    if (t->label) {
        report_progress_begin(&bar, t->label, (long)t->epochs * ((n + t->batch_size - 1) / t->batch_size));
        if (t->plain_progress) bar.tty = 0;
    }
    for (; p.epoch <= t->epochs && status == RN_OK; p.epoch++, p.batches_done = 0) {
        rn_rng next = p.shuffle;
        if (p.batches_done == 0) { /* not resumed mid-epoch: a checkpoint's optimizer has its drop */
            if (p.epoch == t->lr_drop_epoch) rn_optim_scale_lr(t->opt, 0.1f);
            p.totals.epoch_loss = p.totals.epoch_seen = 0.0;
        }
        rn_data_permutation(order, n, &next);
        status = study__epoch(t, order, &p, &bar);
        if (status == STUDY_STOPPED) break;
        if (status != RN_OK) {
            fprintf(stderr, "%s: step %ld failed: %s\n", t->label ? t->label : "training",
                    p.totals.step + 1, rn_last_error());
            if (t->record) study__record(t, &p.totals, p.epoch, 1);
        } else if (t->epoch_end &&
                   t->epoch_end(t->context, p.epoch, p.totals.epoch_loss / p.totals.epoch_seen)) {
            status = -1; /* the hook has said why */
        }
        p.shuffle = next;
    }
    if (status == STUDY_STOPPED && t->augment) p.augment = t->augment->rng;
    if (status == STUDY_STOPPED) study_checkpoint_save(&state);
    if (t->label && status != STUDY_STOPPED) report_progress_end(&bar); /* not "done" */
    free(order);
    return status == RN_OK ? 0 : -1;
}

int study_evaluate(rn_net *net, const rn_dataset *data, study_metrics *out)
{
    int classes = data->n_classes;
    int *confusion = (int *)calloc((size_t)classes * classes, sizeof *confusion);
    rn_eval_stats stats;
    int status = confusion ? rn_net_evaluate(net, &data->inputs, data->labels, 250, 5, confusion,
                                             &stats)
                           : RN_ERR_MEMORY;
    if (status == RN_OK) {
        out->loss = stats.loss;
        out->accuracy = stats.accuracy;
        out->top5_error = 1.0 - stats.topk_accuracy;
        out->precision = rn_macro_precision(confusion, classes);
    } else {
        fprintf(stderr, "evaluation failed: %s\n", confusion ? rn_last_error() : "out of memory");
    }
    free(confusion);
    return status == RN_OK ? 0 : -1;
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
    snprintf(log->path, sizeof log->path, "%s/%s", dir, name);
    if (report_csv_open(&log->csv, dir, name, NULL, columns) != 0) {
        fprintf(stderr, "cannot write %s/%s: %s\n", dir, name, strerror(errno));
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

int study_log_close(study_log *log, const rn_dataset *test)
{
    study_metrics metrics;
    double accuracy;
    if (study__unit.stopped) { /* its rows are in the checkpoint */
        report_fdiscard(log->csv.file);
        log->csv.file = NULL;
        return -1;
    }
    accuracy = test && study_evaluate(log->net, test, &metrics) == 0 ? metrics.accuracy : NAN;
    study__log_row(log, log->step, log->epoch, NAN, NAN, accuracy, report_seconds() - log->start,
                   study__cpu_seconds() - log->cpu_start);
    return report_csv_close(&log->csv) != 0 || accuracy != accuracy ? -1 : 0;
}

/* ---- interruption and checkpoints ------------------------------------------ */

static const char study__checkpoint_magic[] = "relunet study checkpoint";

static int study__blob_save(const char *folder, const char *name, const char *magic,
                            const char *settings, const void *bytes, size_t size);
static int study__blob_load(const char *folder, const char *name, const char *magic,
                            const char *settings, const char *then, char **bytes, size_t *size);

void study_step_done(void)
{
    const char *after = getenv("RELUNET_INTERRUPT");
    if (after && ++study__steps == atol(after)) raise(SIGINT);
}

int study_interrupted(void) { return (int)study__signal; }

static void study__on_signal(int signal_number) { study__signal = signal_number; }

/* SIGINT and SIGTERM caught (on) or as they were before (off); a signal
   the program was started to ignore stays ignored. */
static void study__catch_signals(int on)
{
    static void (*before[2])(int);
    static const int signals[2] = {SIGINT, SIGTERM};
    int k;
    for (k = 0; k < 2; k++) {
        if (!on) {
            signal(signals[k], before[k]);
            continue;
        }
        before[k] = signal(signals[k], study__on_signal);
        if (before[k] == SIG_IGN) signal(signals[k], SIG_IGN);
    }
}

/* The parts of a checkpoint file after its settings: a head, then each
   part's bytes in this order. */
enum { STUDY__PROGRESS, STUDY__RESULT, STUDY__NET, STUDY__OPTIM, STUDY__EXTRA, STUDY__LOG, STUDY__PARTS };
typedef struct study__checkpoint_head {
    uint64_t training; /* which study_checkpoint_load of the unit it belongs to, from 0 */
    uint64_t size[STUDY__PARTS];
} study__checkpoint_head;

/* Where a log is, before its rows in the checkpoint. */
typedef struct study__log_mark {
    long step;
    int epoch;
    double seconds, cpu_seconds; /* spent so far */
} study__log_mark;

/* The log's mark and the rows it has written, in new memory. 0 or -1. */
static int study__log_text(study_log *log, char **text, size_t *size)
{
    char path[1200];
    study__log_mark mark;
    FILE *f;
    long n = -1;
    mark.step = log->step;
    mark.epoch = log->epoch;
    mark.seconds = report_seconds() - log->start;
    mark.cpu_seconds = study__cpu_seconds() - log->cpu_start;
    snprintf(path, sizeof path, "%s.tmp", log->path);
    *text = NULL;
    if (fflush(log->csv.file) != 0 || (f = fopen(path, "rb")) == NULL) return -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (*text = (char *)malloc(sizeof mark + (size_t)n)) != NULL) {
        memcpy(*text, &mark, sizeof mark);
        if (fread(*text + sizeof mark, 1, (size_t)n, f) != (size_t)n) n = -1;
    }
    fclose(f);
    *size = sizeof mark + (size_t)n;
    return *text && n >= 0 ? 0 : -1;
}

/* The log as study__log_text saw it: its rows replace the file's (which
   begin with the same header and first row). 0 or -1. */
static int study__log_restore(study_log *log, const char *text, size_t size)
{
    study__log_mark mark;
    if (size < sizeof mark) return -1;
    memcpy(&mark, text, sizeof mark);
    log->step = mark.step;
    log->epoch = mark.epoch;
    log->start = report_seconds() - mark.seconds;
    log->cpu_start = study__cpu_seconds() - mark.cpu_seconds;
    size -= sizeof mark;
    return fseek(log->csv.file, 0, SEEK_SET) == 0 &&
                   fwrite(text + sizeof mark, 1, size, log->csv.file) == size
               ? 0
               : -1;
}

/* Every part of s and the unit's result, in new memory after their head. 0 or -1. */
static int study__checkpoint_pack(const study_state *s, char **bytes, size_t *size)
{
    study__checkpoint_head head;
    char *log = NULL, *at;
    size_t n, total = sizeof head;
    int k, status = RN_OK;
    memset(&head, 0, sizeof head);
    head.training = (uint64_t)study__unit.trainings - 1;
    head.size[STUDY__PROGRESS] = s->progress_size;
    head.size[STUDY__RESULT] = study__unit.result_size;
    if (rn_net_save_memory(s->net, NULL, 0, &n) == RN_OK) head.size[STUDY__NET] = n;
    if (s->opt && rn_optim_save_memory(s->opt, NULL, 0, &n) == RN_OK) head.size[STUDY__OPTIM] = n;
    for (k = 0; k < s->n_extra; k++) head.size[STUDY__EXTRA] += s->extra[k]->value.size * sizeof(float);
    if (s->log && study__log_text(s->log, &log, &n) == 0) head.size[STUDY__LOG] = n;
    for (k = 0; k < STUDY__PARTS; k++) total += head.size[k];
    if ((*bytes = at = (char *)malloc(total)) == NULL || (s->log && !log)) {
        free(log);
        return -1;
    }
    memcpy(at, &head, sizeof head);
    memcpy(at += sizeof head, s->progress, s->progress_size);
    memcpy(at += s->progress_size, study__unit.result, study__unit.result_size);
    status = rn_net_save_memory(s->net, at += study__unit.result_size, head.size[STUDY__NET], &n);
    if (s->opt && status == RN_OK)
        status = rn_optim_save_memory(s->opt, at + head.size[STUDY__NET], head.size[STUDY__OPTIM], &n);
    at += head.size[STUDY__NET] + head.size[STUDY__OPTIM];
    for (k = 0; k < s->n_extra; k++) {
        memcpy(at, s->extra[k]->value.data, s->extra[k]->value.size * sizeof(float));
        at += s->extra[k]->value.size * sizeof(float);
    }
    if (log) memcpy(at, log, head.size[STUDY__LOG]);
    free(log);
    *size = total;
    return status == RN_OK ? 0 : -1;
}

int study_checkpoint_save(const study_state *s)
{
    char *bytes = NULL;
    size_t size = 0;
    int status = -1;
    if (study__unit.units && study__checkpoint_pack(s, &bytes, &size) == 0)
        status = study__blob_save(study__unit.folder, study__unit.name, study__checkpoint_magic,
                                  study__unit.units->settings, bytes, size);
    free(bytes);
    if (status != 0)
        fprintf(stderr, "cannot write the checkpoint %s/%s: %s\n", study__unit.folder,
                study__unit.name, strerror(errno));
    study__unit.stopped = status == 0;
    return status;
}

/* Copies the values of one tensor into another of the same size. 0 or -1. */
static int study__copy_values(rn_tensor *to, const rn_tensor *from)
{
    if (to->size != from->size) return -1;
    if (to->size > 0) memcpy(to->data, from->data, to->size * sizeof *to->data);
    return 0;
}

/* The state of `from` (parameters, batch-norm statistics, dropout streams)
   in net, which must have the same layers. 0 or -1. */
static int study__net_copy(rn_net *net, const rn_net *from)
{
    int i, k, failed = from->n_layers != net->n_layers;
    for (i = 0; !failed && i < net->n_layers; i++) {
        rn_layer *to = net->layers[i];
        const rn_layer *layer = from->layers[i];
        failed = to->type != layer->type || to->n_params != layer->n_params;
        for (k = 0; !failed && k < to->n_params; k++)
            failed = study__copy_values(&to->params[k].value, &layer->params[k].value);
        if (!failed) failed = study__copy_values(&to->running_mean, &layer->running_mean) |
                              study__copy_values(&to->running_var, &layer->running_var);
        to->rng = layer->rng;
    }
    return failed ? -1 : 0;
}

/* The parts of a checkpoint file (after its head) into s and the unit's
   result; RN_OK or why not. */
static int study__checkpoint_unpack(const study_state *s, const study__checkpoint_head *head,
                                    const char *at)
{
    rn_net *saved = NULL;
    size_t extra = 0;
    int k, status;
    for (k = 0; k < s->n_extra; k++) extra += s->extra[k]->value.size * sizeof(float);
    if (head->size[STUDY__PROGRESS] != s->progress_size || head->size[STUDY__RESULT] != study__unit.result_size ||
        head->size[STUDY__EXTRA] != extra || (head->size[STUDY__OPTIM] > 0) != (s->opt != NULL) ||
        (head->size[STUDY__LOG] > 0) != (s->log != NULL))
        return rn_set_error(RN_ERR_FORMAT, "its parts are not those of this training");
    memcpy(s->progress, at, s->progress_size);
    memcpy(study__unit.result, at += s->progress_size, study__unit.result_size);
    status = rn_net_load_memory(at += study__unit.result_size, head->size[STUDY__NET], &saved);
    if (status == RN_OK && study__net_copy(s->net, saved) != 0)
        status = rn_set_error(RN_ERR_FORMAT, "its network is not this training's");
    rn_net_free(saved);
    at += head->size[STUDY__NET];
    if (status == RN_OK && s->opt) status = rn_optim_load_memory(s->opt, at, head->size[STUDY__OPTIM]);
    at += head->size[STUDY__OPTIM];
    for (k = 0; k < s->n_extra; k++) {
        memcpy(s->extra[k]->value.data, at, s->extra[k]->value.size * sizeof(float));
        at += s->extra[k]->value.size * sizeof(float);
    }
    if (status == RN_OK && s->log && study__log_restore(s->log, at, head->size[STUDY__LOG]) != 0)
        status = rn_set_error(RN_ERR_IO, "its log cannot be written back");
    return status;
}

int study_checkpoint_load(const study_state *s)
{
    study__checkpoint_head head;
    char *bytes = NULL;
    size_t size = 0, total = sizeof head;
    int k, status, other = 0;
    if (!study__unit.units) return 0;
    study__unit.trainings++; /* counted either way: a checkpoint says which training it is of */
    if (!study__unit.resume) return 0;
    status = study__blob_load(study__unit.folder, study__unit.name, study__checkpoint_magic,
                              study__unit.units->settings, "resume with the options it was run with",
                              &bytes, &size);
    if (status != 0) return status > 0 ? 0 : -1;
    if (size >= sizeof head) memcpy(&head, bytes, sizeof head);
    for (k = 0; size >= sizeof head && k < STUDY__PARTS; k++) total += head.size[k];
    if (size < sizeof head || total != size) {
        status = rn_set_error(RN_ERR_FORMAT, "it is not whole");
    } else if (head.training != (uint64_t)study__unit.trainings - 1) {
        other = 1; /* another training of the unit's: this one runs from the start */
    } else {
        status = study__checkpoint_unpack(s, &head, bytes + sizeof head);
    }
    free(bytes);
    if (other) return 0;
    if (status != RN_OK) {
        fprintf(stderr, "cannot resume from %s/%s: %s\n", study__unit.folder, study__unit.name,
                rn_last_error());
        return -1;
    }
    printf("%s/%s: continuing from this checkpoint\n", study__unit.folder, study__unit.name);
    return 1;
}

/* ---- independent runs in parallel ----------------------------------------- */

#ifdef STUDY_HAVE_FORK
/* A running child: its process, the pipe its result comes through, and how
   much of the result has arrived. */
typedef struct study__child {
    pid_t pid;
    int fd;
    char *result;
    size_t got;
} study__child;

/* The child's side: run the task, send the result, exit with its status. */
static void study__child_main(int fd, int task, study_task_fn fn, void *context, char *result,
                              size_t size)
{
    size_t sent = 0;
    int status = fn(task, context, result);
    while (status == 0 && sent < size) {
        ssize_t n = write(fd, result + sent, size - sent);
        if (n <= 0) status = -1;
        else sent += (size_t)n;
    }
    fflush(NULL);
    /* not exit(): the parent's atexit work is not the child's */
    _exit(status == 0 ? 0 : status == STUDY_STOPPED ? 128 + study__signal : 1);
}

/* Starts a child for task; -1 when there is no pipe or process for it. */
static int study__start(study__child *child, int task, study_task_fn fn, void *context,
                        char *result, size_t size)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(NULL); /* or the child would write the parent's buffered output again */
    child->pid = fork();
    if (child->pid == 0) {
        close(fds[0]);
        study__child_main(fds[1], task, fn, context, result, size);
    }
    close(fds[1]);
    if (child->pid < 0) {
        close(fds[0]);
        return -1;
    }
    child->fd = fds[0];
    child->result = result;
    child->got = 0;
    return 0;
}

/* Reads from the children's pipes until one of them closes its pipe, then
   reaps that child. Returns its index; *failed becomes 1 when it did not
   exit 0 or its result came back short, unless it stopped on a signal
   (exit status 128 + the signal), which then interrupts this process too.
   Returns -1 when a signal came or a second passed without an end, so
   that the caller can look at study_interrupted(). Reading while waiting
   keeps a child from blocking on a full pipe. */
static int study__wait_any(study__child *running, int n, size_t size, int *failed)
{
    for (;;) {
        fd_set readable;
        struct timeval second = {1, 0};
        int k, top = -1, status = 0, ready, code;
        FD_ZERO(&readable);
        for (k = 0; k < n; k++) {
            FD_SET(running[k].fd, &readable);
            if (running[k].fd > top) top = running[k].fd;
        }
        ready = select(top + 1, &readable, NULL, NULL, &second);
        if (ready == 0 || (ready < 0 && errno == EINTR)) return -1;
        if (ready < 0) {
            k = 0; /* cannot wait on the pipes: block on the first child */
        } else {
            for (k = 0; k < n && !FD_ISSET(running[k].fd, &readable); k++) continue;
        }
        {
            study__child *c = &running[k];
            char scrap[64]; /* a task without a result sends nothing; read anyway */
            char *into = c->got < size ? c->result + c->got : scrap;
            ssize_t got = read(c->fd, into, c->got < size ? size - c->got : sizeof scrap);
            if (got > 0) {
                c->got += (size_t)got;
                continue;
            }
            close(c->fd);
            code = waitpid(c->pid, &status, 0) >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            if (code > 128 && !study__signal) study__signal = code - 128;
            *failed = code <= 128 && (code != 0 || c->got != size);
            return k;
        }
    }
}
#endif

int study_run_tasks(const int *tasks, int count, int jobs, study_task_fn task, void *context,
                    void *results, size_t result_size, report_progress *bar)
{
    int next = 0, failed = 0;
    long done = 0;
    char *slots = (char *)results;
#ifdef STUDY_HAVE_FORK
    study__child running[STUDY_MAX_JOBS];
    int n_running = 0, passed_on = 0;
    if (jobs > STUDY_MAX_JOBS) jobs = STUDY_MAX_JOBS;
    while (jobs > 1 && (n_running > 0 || (next < count && !study_interrupted()))) {
        int k, child_failed = 0;
        if (study_interrupted() && !passed_on) { /* in case it was sent to this process alone */
            for (k = 0; k < n_running; k++) kill(running[k].pid, study_interrupted());
            passed_on = 1;
        }
        if (next < count && n_running < jobs && !study_interrupted()) {
            if (study__start(&running[n_running], tasks ? tasks[next] : next, task, context,
                             slots ? slots + (size_t)next * result_size : NULL, result_size) == 0) {
                n_running++;
                next++;
                continue;
            }
            if (n_running == 0) break; /* cannot fork at all: run the rest here */
        }
        if ((k = study__wait_any(running, n_running, result_size, &child_failed)) < 0) continue;
        running[k] = running[--n_running];
        failed += child_failed;
        if (bar) report_progress_update(bar, ++done, "%s", "");
    }
#else
    (void)jobs;
#endif
    for (; next < count && !study_interrupted(); next++) {
        int status = task(tasks ? tasks[next] : next, context,
                          slots ? slots + (size_t)next * result_size : NULL);
        failed += status != 0 && status != STUDY_STOPPED;
        if (bar) report_progress_update(bar, ++done, "%s", "");
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
    const char *why = f == NULL ? strerror(errno) : "not a table of numbers with a header line";
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
        fprintf(stderr, "cannot read the CSV table %s/%s: %s\n", dir, name, why);
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

/* ---- a study's units: --list, --shard and --merge ------------------------- */

static const char study__unit_magic[] = "relunet study unit";

void study_units_setting(study_units *u, const char *name, const char *format, ...)
{
    size_t used = strlen(u->settings);
    va_list args;
    if (used + strlen(name) + 3 >= sizeof u->settings) return;
    used += (size_t)snprintf(u->settings + used, sizeof u->settings - used, "%s=", name);
    va_start(args, format);
    vsnprintf(u->settings + used, sizeof u->settings - used, format, args);
    va_end(args);
    used = strlen(u->settings);
    if (used + 1 < sizeof u->settings) strcat(u->settings, "\n");
}

void study_units_init(study_units *u, int count, study_task_fn run, study_unit_name_fn name,
                      void *context, void *results, size_t result_size)
{
    memset(u, 0, sizeof *u);
    u->count = count;
    u->run = run;
    u->name = name;
    u->context = context;
    u->results = results;
    u->result_size = result_size;
}

void study_units_list_setting(study_units *u, const char *name, const double *values, int n)
{
    char text[STUDY_SETTINGS_SIZE / 2] = "";
    int i;
    for (i = 0; i < n; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s%.15g", i ? "," : "", values[i]);
    study_units_setting(u, name, "%s", text);
}

void study_unit_name_from(const char *label, char *name, size_t size)
{
    size_t n = 0;
    for (; *label && n + 1 < size; label++) {
        unsigned char c = (unsigned char)*label;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) name[n++] = (char)c;
        else if (c >= 'A' && c <= 'Z') name[n++] = (char)(c - 'A' + 'a');
        else if (n > 0 && name[n - 1] != '_') name[n++] = '_';
    }
    if (n > 0 && name[n - 1] == '_') n--;
    if (size > 0) name[n] = '\0';
}

/* The value of `name` in settings ("name=value" lines) into value; 0 when
   it is not there. */
static int study__setting_value(const char *settings, const char *name, char *value, size_t size)
{
    size_t n = strlen(name);
    const char *line;
    for (line = settings; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n')) {
        if (strncmp(line, name, n) == 0 && line[n] == '=') {
            size_t length = strcspn(line + n + 1, "\n");
            if (length >= size) length = size - 1;
            memcpy(value, line + n + 1, length);
            value[length] = '\0';
            return 1;
        }
    }
    return 0;
}

/* 0 when two settings texts name the same settings with the same values;
   else -1 after saying which setting differs in which file, and then what
   follows from it. */
static int study__same_settings(const char *path, const char *theirs, const char *ours,
                                const char *then)
{
    const char *texts[2] = {ours, theirs}, *line;
    int t;
    for (t = 0; t < 2; t++) {
        for (line = texts[t]; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n')) {
            char name[128], mine[512], other[512];
            size_t n = strcspn(line, "=\n");
            if (n >= sizeof name) n = sizeof name - 1;
            memcpy(name, line, n);
            name[n] = '\0';
            if (!study__setting_value(ours, name, mine, sizeof mine)) snprintf(mine, sizeof mine, "(none)");
            if (!study__setting_value(theirs, name, other, sizeof other))
                snprintf(other, sizeof other, "(none)");
            if (strcmp(mine, other) != 0) {
                fprintf(stderr, "%s was made with %s=%s, but this run has %s=%s: %s\n", path, name,
                        other, name, mine, then);
                return -1;
            }
        }
    }
    return 0;
}

/* dir/units and the unit's file name in it. */
static void study__unit_file(char *folder, char *name, size_t size, const char *dir, const study_units *u,
                             int unit)
{
    snprintf(folder, size, "%s/units", dir);
    u->name(unit, u->context, name, size - 8);
    strcat(name, ".unit");
}

/* Writes folder/name: a magic line, the settings, "result=SIZE" and size
   bytes, whole or not at all (as every file of report_fopen). 0 or -1. */
static int study__blob_save(const char *folder, const char *name, const char *magic,
                            const char *settings, const void *bytes, size_t size)
{
    FILE *f = report_fopen(folder, name, "wb");
    int failed = f == NULL;
    if (f) {
        failed = fprintf(f, "%s\n%sresult=%lu\n", magic, settings, (unsigned long)size) < 0;
        failed |= size > 0 && fwrite(bytes, 1, size, f) != size;
        failed |= report_fclose(f) != 0;
    }
    if (failed) fprintf(stderr, "cannot write %s/%s: %s\n", folder, name, strerror(errno));
    return failed ? -1 : 0;
}

/* Reads folder/name as study__blob_save wrote it: 0 with its bytes in new
   memory (*bytes, *size), 1 when there is no such file, -1 after saying
   what is wrong with it (made with other settings than `settings`: and
   then what follows, `then`). */
static int study__blob_load(const char *folder, const char *name, const char *magic,
                            const char *settings, const char *then, char **bytes, size_t *size)
{
    char path[1400], *line = NULL, *saved = NULL;
    size_t line_size = 0, length = 0;
    unsigned long n;
    char extra;
    FILE *f;
    int status = -1;
    snprintf(path, sizeof path, "%s/%s", folder, name);
    *bytes = NULL;
    if ((f = fopen(path, "rb")) == NULL) return 1;
    saved = (char *)calloc(STUDY_SETTINGS_SIZE, 1);
    if (saved && study__line(f, &line, &line_size) && strcmp(line, magic) == 0) {
        while (study__line(f, &line, &line_size) && strncmp(line, "result=", 7) != 0) {
            if (length + strlen(line) + 2 > STUDY_SETTINGS_SIZE) break;
            strcat(strcat(saved + length, line), "\n");
            length += strlen(line) + 1;
        }
        if (line && sscanf(line, "result=%lu%c", &n, &extra) == 1) {
            if (study__same_settings(path, saved, settings, then) != 0) {
                status = -2; /* said */
            } else if ((*bytes = (char *)malloc(n ? n : 1)) != NULL && fread(*bytes, 1, n, f) == n &&
                       fgetc(f) == EOF) {
                *size = n;
                status = 0;
            }
        }
    }
    if (status == -1) fprintf(stderr, "%s is not a whole '%s' file\n", path, magic);
    if (status != 0) free(*bytes), *bytes = NULL;
    free(line);
    free(saved);
    fclose(f);
    return status < 0 ? -1 : 0;
}

/* Writes unit's result after the settings. 0 or -1. */
static int study__unit_save(const char *dir, const study_units *u, int unit, const void *result)
{
    char folder[1100], name[256];
    study__unit_file(folder, name, sizeof name, dir, u, unit);
    return study__blob_save(folder, name, study__unit_magic, u->settings, result, u->result_size);
}

/* Reads unit's result from dir/units: 0, 1 when dir has no such unit, -1
   after saying what is wrong with the file (other settings among it, and
   then what follows, `then`). */
static int study__unit_load(const char *dir, const study_units *u, int unit, void *result,
                            const char *then)
{
    char folder[1100], name[256], *bytes;
    size_t size = 0;
    int status;
    study__unit_file(folder, name, sizeof name, dir, u, unit);
    status = study__blob_load(folder, name, study__unit_magic, u->settings, then, &bytes, &size);
    if (status == 0 && size != u->result_size) {
        fprintf(stderr, "%s/%s holds a result of %lu bytes, not %lu\n", folder, name,
                (unsigned long)size, (unsigned long)u->result_size);
        status = -1;
    }
    if (status == 0 && result) memcpy(result, bytes, size);
    free(bytes);
    return status;
}

/* Every unit from the first of dirs that has it; 0 or -1 after saying why. */
static int study__units_load(char **dirs, int n_dirs, const study_units *u)
{
    int unit, d;
    for (unit = 0; unit < u->count; unit++) {
        char *result = u->results ? (char *)u->results + (size_t)unit * u->result_size : NULL;
        int status = 1;
        for (d = 0; d < n_dirs && status == 1; d++)
            status = study__unit_load(dirs[d], u, unit, result, "merge with the options the shards were run with");
        if (status == 1) {
            char name[256];
            u->name(unit, u->context, name, sizeof name);
            fprintf(stderr, "unit %s is in none of the folders' units/ (is a shard missing?)\n", name);
        }
        if (status != 0) return -1;
    }
    return 0;
}

#ifdef STUDY_HAVE_FORK
/* Copies from/name to to/name unless both are the same file. 0 or -1. */
static int study__copy_file(const char *from, const char *to, const char *name)
{
    char source[1200], target[1200], buffer[65536];
    struct stat a, b;
    FILE *in, *out;
    size_t n;
    int failed = 0;
    snprintf(source, sizeof source, "%s/%s", from, name);
    snprintf(target, sizeof target, "%s/%s", to, name);
    if (stat(source, &a) != 0 || !S_ISREG(a.st_mode)) return 0;
    if (stat(target, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) return 0;
    if ((in = fopen(source, "rb")) == NULL) return -1;
    if ((out = report_fopen(to, name, "wb")) == NULL) {
        fclose(in);
        return -1;
    }
    while ((n = fread(buffer, 1, sizeof buffer, in)) > 0) failed |= fwrite(buffer, 1, n, out) != n;
    failed |= ferror(in) != 0;
    fclose(in);
    return (report_fclose(out) != 0) | failed ? -1 : 0;
}

/* Every file of dir/sub into out/sub. */
static int study__copy_folder(const char *dir, const char *out, const char *sub)
{
    char from[1100], to[1100];
    DIR *listing;
    struct dirent *entry;
    int failed = 0;
    snprintf(from, sizeof from, "%s/%s", dir, sub);
    snprintf(to, sizeof to, "%s/%s", out, sub);
    if ((listing = opendir(from)) == NULL) return 0; /* a shard without files */
    while (!failed && (entry = readdir(listing)) != NULL)
        if (entry->d_name[0] != '.' && !strstr(entry->d_name, ".tmp")) /* not half-written ones */
            failed = study__copy_file(from, to, entry->d_name);
    closedir(listing);
    if (failed) fprintf(stderr, "cannot copy the files of %s into %s\n", from, to);
    return failed ? -1 : 0;
}
#else
static int study__copy_folder(const char *dir, const char *out, const char *sub)
{
    fprintf(stderr, "merging %s/%s: copying folders needs a POSIX system; copy it into %s/%s\n", dir,
            sub, out, sub);
    return -1;
}
#endif

/* What a unit's training needs: the units, where to save them, and
   whether it may continue from a checkpoint. */
typedef struct study__unit_run {
    const study_units *units;
    const char *out;
    int resume;
} study__unit_run;

/* OUT/checkpoint and the checkpoint file of unit k in it. */
static void study__checkpoint_file(char *folder, size_t folder_size, char *name, size_t name_size,
                                   const char *out, const study_units *u, int unit)
{
    snprintf(folder, folder_size, "%s/checkpoint", out);
    u->name(unit, u->context, name, name_size - 8);
    strcat(name, ".state");
}

/* A study_task_fn: trains the unit and saves it (in the child that ran
   it), or leaves its checkpoint when the run is interrupted. */
static int study__run_unit(int unit, void *context, void *unused)
{
    const study__unit_run *r = (const study__unit_run *)context;
    void *result = calloc(1, r->units->result_size ? r->units->result_size : 1);
    int status;
    (void)unused;
    memset(&study__unit, 0, sizeof study__unit);
    study__checkpoint_file(study__unit.folder, sizeof study__unit.folder, study__unit.name,
                           sizeof study__unit.name, r->out, r->units, unit);
    study__unit.units = r->units;
    study__unit.result = result;
    study__unit.result_size = r->units->result_size;
    study__unit.resume = r->resume;
    status = result ? r->units->run(unit, r->units->context, result) : -1;
    if (study__unit.stopped) {
        status = STUDY_STOPPED;
    } else if (status == 0 && (status = study__unit_save(r->out, r->units, unit, result)) == 0) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", study__unit.folder, study__unit.name);
        remove(path); /* done: a checkpoint it had is spent */
    }
    memset(&study__unit, 0, sizeof study__unit);
    free(result);
    return status;
}

/* Removes OUT/checkpoint: every unit's checkpoint and the run's settings. */
static void study__checkpoint_remove(const char *out, const study_units *u)
{
    char folder[1100], name[300], path[1400];
    int unit;
    for (unit = 0; unit < u->count; unit++) {
        study__checkpoint_file(folder, sizeof folder, name, sizeof name, out, u, unit);
        snprintf(path, sizeof path, "%s/%s", folder, name);
        remove(path);
    }
    snprintf(path, sizeof path, "%s/checkpoint/settings", out);
    remove(path);
    snprintf(path, sizeof path, "%s/checkpoint", out);
    remove(path); /* the folder, now empty */
}

/* Whether this run continues one in o->out: 1 with --resume, or when
   OUT/checkpoint holds the checkpoint of a run with the same settings; 0
   to start afresh (removing a checkpoint of other settings); -1 when
   --resume meets other settings (after naming the one that differs).
   Leaves OUT/checkpoint with this run's settings in it. */
static int study__resuming(const study_options *o, const study_units *u)
{
    char folder[1100], *bytes = NULL;
    size_t size = 0;
    int found;
    snprintf(folder, sizeof folder, "%s/checkpoint", o->out);
    found = study__blob_load(folder, "settings", study__checkpoint_magic, u->settings,
                             o->resume ? "resume with the options it was run with, or start afresh "
                                         "without --resume"
                                       : "starting afresh",
                             &bytes, &size);
    free(bytes);
    if (found < 0 && o->resume) return -1;
    if (found != 0) study__checkpoint_remove(o->out, u);
    if (study_make_folder(folder) != 0 ||
        study__blob_save(folder, "settings", study__checkpoint_magic, u->settings, NULL, 0) != 0)
        return -1;
    return found == 0 || o->resume;
}

/* The command line again, each argument quoted for a POSIX shell where it
   needs to be, with --resume at the end unless it has it. */
static void study__print_command(FILE *to, const study_options *o)
{
    int i;
    for (i = 0; i < o->argc; i++) {
        const char *arg = o->argv[i], *c;
        if (arg[0] && strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  "_-./=,:+%@") == strlen(arg)) {
            fprintf(to, "%s%s", i ? " " : "", arg);
            continue;
        }
        fprintf(to, "%s'", i ? " " : "");
        for (c = arg; *c; c++) {
            if (*c == '\'') fputs("'\\''", to); /* end the quote, a quoted ', and quote again */
            else fputc(*c, to);
        }
        fputc('\'', to);
    }
    fprintf(to, "%s\n", o->resume ? "" : " --resume");
}

/* Says where an interrupted run's work is and how to resume it, and ends
   the program with 128 + the signal's number. */
static void study__exit_interrupted(const study_options *o)
{
    int signal_number = study_interrupted();
    fprintf(stderr,
            "\ninterrupted (signal %d): the finished units are in %s/units, the interrupted ones' "
            "checkpoints in %s/checkpoint.\nTo resume: ",
            signal_number, o->out, o->out);
    study__print_command(stderr, o);
    fflush(NULL);
    exit(128 + signal_number);
}

/* Trains this shard's units (those not saved yet, when resuming) and saves
   them in out/units. 0 or -1; interrupted, it ends the program. */
static int study__units_train(const study_options *o, const study_units *u)
{
    study__unit_run context;
    report_progress bar;
    char folder[1100];
    int *mine = (int *)malloc((size_t)u->count * sizeof *mine), count = 0, done = 0, k, failed = 0;
    snprintf(folder, sizeof folder, "%s/units", o->out);
    if (!mine || study_make_folder(folder) != 0 || (context.resume = study__resuming(o, u)) < 0) {
        free(mine);
        return -1;
    }
    for (k = o->shard - 1; k < u->count && !failed; k += o->shards) {
        int unit = u->order ? u->order[k] : k, saved = 1;
        if (context.resume)
            saved = study__unit_load(o->out, u, unit, NULL,
                                     "resume with the options it was run with, or start afresh "
                                     "without --resume");
        failed = saved < 0;
        if (saved == 0) done++;
        else mine[count++] = unit;
    }
    if (failed) {
        free(mine);
        return -1;
    }
    if (context.resume) printf("resuming in %s: %d units done, %d to train\n", o->out, done, count);
    context.units = u;
    context.out = o->out;
    if (u->label) {
        report_progress_begin(&bar, u->label, count);
        bar.tty = 0; /* the units print their own progress */
    }
    study__catch_signals(1);
    failed = study_run_tasks(mine, count, o->jobs, study__run_unit, &context, NULL, 0,
                             u->label ? &bar : NULL);
    study__catch_signals(0);
    if (u->label && !study_interrupted()) report_progress_end(&bar); /* not "done" */
    if (failed) fprintf(stderr, "%d of %d units failed\n", failed, count);
    free(mine);
    if (study_interrupted()) study__exit_interrupted(o);
    if (!failed) study__checkpoint_remove(o->out, u);
    return failed ? -1 : 0;
}

int study_run_units(const study_options *o, study_units *u)
{
    char settings[STUDY_SETTINGS_SIZE], name[256], *out = (char *)o->out;
    int unit, d;
    snprintf(settings, sizeof settings, "%s", u->settings);
    u->settings[0] = '\0';
    study_units_setting(u, "seed", "%d", o->seed);
    study_units_setting(u, "epochs", "%d", o->epochs);
    study_units_setting(u, "train_size", "%d", o->train_size);
    study_units_setting(u, "test_size", "%d", o->test_size);
    if (strlen(u->settings) + strlen(settings) < sizeof u->settings) strcat(u->settings, settings);
    if (o->list) {
        for (unit = 0; unit < u->count; unit++) {
            u->name(u->order ? u->order[unit] : unit, u->context, name, sizeof name);
            printf("%s\n", name);
        }
        return 1;
    }
    if (o->n_merge_dirs == 0) {
        if (study__units_train(o, u) != 0) return -1;
        if (o->shards > 1) {
            printf("shard %d/%d: its units are in %s/units; build the report with --merge\n", o->shard,
                   o->shards, o->out);
            return 1;
        }
        return study__units_load(&out, 1, u);
    }
    if (study__units_load(o->merge_dirs, o->n_merge_dirs, u) != 0) return -1;
    if (u->files) {
        char folder[1100];
        snprintf(folder, sizeof folder, "%s/%s", o->out, u->files);
        if (study_make_folder(folder) != 0) return -1;
        for (d = 0; d < o->n_merge_dirs; d++)
            if (study__copy_folder(o->merge_dirs[d], o->out, u->files) != 0) return -1;
    }
    return 0;
}

/* ---- pieces of every report ----------------------------------------------- */

int study_make_folder(const char *dir)
{
    if (report_output_folder(dir) == 0) return 0;
    fprintf(stderr, "cannot write in the folder %s: %s\n", dir, strerror(errno));
    return -1;
}

FILE *study_report_open(const char *dir)
{
    FILE *md = report_fopen(dir, "REPORT.md", "wb");
    if (!md) fprintf(stderr, "cannot write %s/REPORT.md: %s\n", dir, strerror(errno));
    return md;
}

int study_exit_status(int trained, int written, const char *out)
{
    if (trained < 0) fprintf(stderr, "no report written\n");
    if (trained != 0) return trained < 0;
    if (!written) {
        fprintf(stderr, "writing the report's files in %s failed\n", out);
        return 1;
    }
    printf("report: %s/REPORT.md\n", out);
    return 0;
}

void study_judge(study_judgement *j, double train_loss, double test_accuracy, int classes)
{
    double chance_loss = log((double)classes), chance = 1.0 / classes;
    double enough = 2.0 * chance < 1.0 ? 2.0 * chance : (1.0 + chance) / 2.0;
    j->judged = 0;
    if (!(train_loss < 0.95 * chance_loss))
        snprintf(j->reason, sizeof j->reason, "the final training loss, %.3f, is within 5%% of "
                 "chance (ln %d = %.3f)", train_loss, classes, chance_loss);
    else if (!(test_accuracy >= enough))
        snprintf(j->reason, sizeof j->reason, "the test accuracy, %.1f%%, is under %.0f%% (chance "
                 "is %.0f%%)", 100.0 * test_accuracy, 100.0 * enough, 100.0 * chance);
    else
        j->judged = 1;
}

void study_judgement_note(FILE *md, const study_judgement *j)
{
    if (!j->judged)
        fprintf(md, "**This run is too short to judge the study's findings:** %s. Every finding "
                "below is marked not judged; train longer (more epochs or images) to judge "
                "them.\n\n", j->reason);
}

void study_findings_begin(FILE *md, const study_judgement *j)
{
    fputs("## Findings\n\n", md);
    study_judgement_note(md, j);
}

const char *study_verdict(const study_judgement *j, int reproduced)
{
    if (!j->judged) return "**not judged**";
    return reproduced ? "**reproduced**" : "**not reproduced**";
}

#endif /* STUDY_IMPLEMENTATION */
