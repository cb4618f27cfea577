/* test_examples.c - runs the examples with --quick (the Fashion-MNIST ones,
 * relu_alpha_sweep and conv_linearization; the CIFAR-10 ones,
 * adaptive_mixtures and prelu_study) and checks what they write: REPORT.md
 * with every section, every SVG it embeds present and well-formed, CSV files
 * with the rows they should have; that every example split into 3 shards
 * and merged writes the CSV files of one run, bit for bit, and refuses to
 * merge shards made with other settings; that every example interrupted
 * (SIGINT, SIGTERM) and resumed writes the CSV files of one run, bit for
 * bit, and refuses to resume with other settings; and that bad input and
 * missing data fail clearly.
 *
 * The example programs are looked for beside this test's binary (the
 * Makefile builds them into the same folder). Needs Fashion-MNIST (make test
 * installs dataset-fashion-mnist). The CIFAR-10 examples get a small
 * synthetic set in CIFAR-10's binary format, written here, so that the test
 * needs no download and runs in seconds. Output goes to a fresh folder under
 * /tmp, removed at the end unless RELUNET_KEEP_TEST_OUTPUT is set.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "harness.h"
#include "xmlcheck.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char bin_dir[512];
static char test_dir[64];
static char cifar_dir[128]; /* the synthetic CIFAR-10 */

/* Runs a shell command built like printf; its exit status, or -1. */
static int run(const char *format, ...)
{
    char command[2048];
    va_list args;
    int status;
    va_start(args, format);
    vsnprintf(command, sizeof command, format, args);
    va_end(args);
    status = system(command);
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static FILE *open_in(const char *dir, const char *name, const char *mode)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return fopen(path, mode);
}

/* The whole file as a string (free it); NULL when it cannot be read. */
static char *slurp(const char *dir, const char *name)
{
    FILE *f = open_in(dir, name, "rb");
    long n;
    char *text = NULL;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = (char *)malloc((size_t)n + 1)) != NULL) {
        text[fread(text, 1, (size_t)n, f)] = '\0';
    }
    fclose(f);
    return text;
}

static void check_svg(const char *dir, const char *name)
{
    char *text = slurp(dir, name);
    int ok = text && xml_well_formed(text);
    if (!ok) fprintf(stderr, "%s/%s: %s\n", dir, name, text ? xml_error : "missing");
    CHECK(ok);
    CHECK(text && strstr(text, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    CHECK(text && !strstr(text, "nan") && !strstr(text, "inf"));
    if (ok && run("command -v xmllint >/dev/null 2>&1") == 0)
        CHECK(run("xmllint --noout '%s/%s'", dir, name) == 0);
    free(text);
}

/* A findings section never claims more than the run shows: a run too short
   to judge says so at the top and marks every finding not judged; one that
   can be judged marks each reproduced or not. */
static void check_verdicts(const char *dir, const char *md)
{
    const char *findings = strstr(md, "## Findings"), *note = strstr(md, "too short to judge");
    int judged = strstr(md, "**reproduced**") || strstr(md, "**not reproduced**");
    if (!findings) return;
    if (note) {
        CHECK(note < findings && !judged && strstr(findings, "**not judged**"));
    } else {
        CHECK(judged && !strstr(md, "**not judged**"));
    }
    printf("%s: findings %s\n", dir, note ? "not judged (too short)" : "judged");
}

/* REPORT.md holds every heading given, and every image it embeds is a
   well-formed SVG beside it; returns how many images it embeds. */
static int check_report(const char *dir, const char *const *headings, int n_headings)
{
    char *md = slurp(dir, "REPORT.md"), *link;
    int i, images = 0;
    CHECK(md != NULL);
    if (!md) return 0;
    for (i = 0; i < n_headings; i++) {
        if (!strstr(md, headings[i])) fprintf(stderr, "%s/REPORT.md lacks '%s'\n", dir, headings[i]);
        CHECK(strstr(md, headings[i]) != NULL);
    }
    CHECK(!strstr(md, "nan") && !strstr(md, "n/a"));
    check_verdicts(dir, md);
    for (link = strstr(md, "]("); link; link = strstr(link, "](")) {
        char name[256];
        size_t n;
        link += 2;
        n = strcspn(link, ")");
        if (n >= sizeof name) continue;
        memcpy(name, link, n);
        name[n] = '\0';
        check_svg(dir, name);
        images++;
    }
    free(md);
    return images;
}

/* Rows of a CSV file that have exactly `columns` cells, after the header;
   -1 when it is missing or a row has another number of cells. Commas in
   quoted cells do not count. */
static int csv_rows(const char *dir, const char *name, int columns)
{
    char *text = slurp(dir, name), *line;
    int rows = -1;
    if (!text) return -1;
    for (line = text; *line; rows++) {
        size_t n = strcspn(line, "\n"), i;
        int cells = 1, quoted = 0;
        for (i = 0; i < n; i++) {
            quoted ^= line[i] == '"';
            cells += line[i] == ',' && !quoted;
        }
        if (cells != columns) {
            rows = -2;
            break;
        }
        line += n + (line[n] == '\n');
    }
    free(text);
    return rows < 0 ? -1 : rows;
}

/* The text of a CSV file without its timing columns (those whose name has
   "second" in it: they differ between runs); NULL when it is missing.
   Commas in quoted cells do not count. */
static char *csv_without_timing(const char *dir, const char *name)
{
    char *text = slurp(dir, name), *in, *out;
    unsigned long long drop = 0; /* bit c: column c is dropped */
    int line;
    if (!text) return NULL;
    for (in = out = text, line = 0; *in; line++) {
        int column = 0, kept = 0, quoted = 0;
        char *cell = in;
        for (;; in++) {
            size_t n = (size_t)(in - cell);
            int end = *in == '\0' || *in == '\n';
            if (!end && (*in != ',' || quoted)) {
                quoted ^= *in == '"';
                continue;
            }
            if (line == 0 && column < 64) {
                char header[128];
                snprintf(header, sizeof header, "%.*s", (int)(n < 127 ? n : 127), cell);
                if (strstr(header, "second")) drop |= 1ull << column;
            }
            if (column >= 64 || !(drop >> column & 1)) {
                if (kept++ > 0) *out++ = ',';
                memmove(out, cell, n);
                out += n;
            }
            column++;
            if (end) break;
            cell = in + 1;
        }
        if (*in) *out++ = *in++; /* the line break */
    }
    *out = '\0';
    return text;
}

/* 1 when every CSV file in whole/sub (sub "": whole itself) is in merged/sub
   with the same text but for the timing columns. */
static int same_csv_files(const char *whole, const char *merged, const char *sub)
{
    char from[256], to[256];
    DIR *listing;
    struct dirent *entry;
    int same = 1, files = 0;
    snprintf(from, sizeof from, "%s/%s", whole, sub);
    snprintf(to, sizeof to, "%s/%s", merged, sub);
    if ((listing = opendir(from)) == NULL) return 0;
    while ((entry = readdir(listing)) != NULL) {
        size_t n = strlen(entry->d_name);
        char *a, *b;
        if (n < 4 || strcmp(entry->d_name + n - 4, ".csv") != 0) continue;
        a = csv_without_timing(from, entry->d_name);
        b = csv_without_timing(to, entry->d_name);
        if (!a || !b || strcmp(a, b) != 0) {
            fprintf(stderr, "%s/%s differs from %s/%s\n", to, entry->d_name, from, entry->d_name);
            same = 0;
        }
        files++;
        free(a);
        free(b);
    }
    closedir(listing);
    return same && files > 0;
}

/* 1 when dir/name's text has every one of the words. */
static int log_says(const char *dir, const char *name, const char *word1, const char *word2)
{
    char *text = slurp(dir, name);
    int says = text && strstr(text, word1) && strstr(text, word2);
    if (!says) fprintf(stderr, "%s/%s does not say '%s' and '%s'\n", dir, name, word1, word2);
    free(text);
    return says;
}

static const char *const sweep_headings[] = {"# ReLU_alpha lambda sweep",
                                             "## 1. Share of alphas",
                                             "## 2. Alpha trajectories",
                                             "## 3. Histograms",
                                             "## 4. Final alpha against lambda",
                                             "## 5. Per lambda",
                                             "## 6. Test accuracy",
                                             "## Training loss",
                                             "## Findings",
                                             "## Files"};

static void test_sweep_quick(void)
{
    char out[128];
    snprintf(out, sizeof out, "%s/sweep", test_dir);
    CHECK(run("'%s/relu_alpha_sweep' --quick --jobs 2 --out '%s' > '%s.log' 2>&1", bin_dir, out, out) ==
          0);
    /* 8 charts: share, 3 trajectories, histogram, scatter, accuracy, training loss */
    CHECK(check_report(out, sweep_headings, 10) == 8);
    CHECK(csv_rows(out, "train_loss.csv", 3) >= 3); /* a point per lambda at least */
    CHECK(csv_rows(out, "final_alphas.csv", 11) == 6); /* 3 lambdas x 2 runs */
    CHECK(csv_rows(out, "per_lambda.csv", 13) == 3);
    CHECK(csv_rows(out, "share_zero.csv", 3) == 4 * 3);
    CHECK(csv_rows(out, "trajectories.csv", 3) > 0);
    CHECK(csv_rows(out, "runs/lambda_0.02_run_2.csv", 15) >= 3); /* initial, final, summary */
    CHECK(log_says(out, "REPORT.md", "Protocol: `--protocol text` (the default)", "lambda * ||alpha||_1"));
}

/* An example's --quick (with args) split into 3 shards and merged writes
   the CSV files of its whole run (already in whole, made with --jobs 2),
   the same text but for the timings, also in the subfolder `files` its
   units leave files in (or NULL); --list names as many units as the shards
   saved; a merge without one shard, or with another --seed, is refused. */
static void check_shards_merge(const char *program, const char *args, const char *whole, const char *files)
{
    char base[160], command[1024];
    int i;
    snprintf(base, sizeof base, "%s/%s_shards", test_dir, program);
    snprintf(command, sizeof command, "'%s/%s' --quick %s", bin_dir, program, args);
    CHECK(run("mkdir -p '%s'", base) == 0);
    for (i = 1; i <= 3; i++)
        CHECK(run("%s --jobs 1 --shard %d/3 --out '%s/%d' > '%s/%d.log' 2>&1", command, i, base, i, base, i) ==
              0);
    CHECK(slurp(base, "1/REPORT.md") == NULL); /* a shard alone writes no report */
    CHECK(run("test $(%s --list | wc -l) -eq $(ls '%s'/[123]/units/*.unit | wc -l)", command, base) == 0);
    CHECK(run("%s --out '%s/part' --merge '%s/1' '%s/3' > '%s/part.log' 2>&1", command, base, base, base,
              base) == 1);
    CHECK(log_says(base, "part.log", "is a shard missing", "units/"));
    CHECK(run("%s --seed 7 --out '%s/other' --merge '%s/1' '%s/2' '%s/3' > '%s/other.log' 2>&1", command,
              base, base, base, base, base) == 1);
    CHECK(log_says(base, "other.log", "seed=1", "seed=7"));
    CHECK(run("%s --out '%s/merged' --merge '%s/1' '%s/2' '%s/3' > '%s/merged.log' 2>&1", command, base,
              base, base, base, base) == 0);
    snprintf(base + strlen(base), sizeof base - strlen(base), "/merged");
    CHECK(same_csv_files(whole, base, ""));
    if (files) CHECK(same_csv_files(whole, base, files));
}

/* An example's --quick (with args, --jobs 1) stopped by SIGINT after step
   `first` (RELUNET_INTERRUPT: the process signals itself), refused to
   resume with another --seed, resumed without being asked (a checkpoint of
   the same settings is there) and stopped again after `second` more steps,
   then resumed to the end: it writes the CSV files of its whole run
   (already in whole), the same text but for the timings, also in the
   subfolder `files` (or NULL), and leaves no checkpoint or temporary file. */
static void check_resume(const char *program, const char *args, const char *whole, const char *files,
                         int first, int second)
{
    char out[160], log[200], command[1024];
    snprintf(out, sizeof out, "%s/%s_resumed", test_dir, program);
    snprintf(log, sizeof log, "%s_resumed", program);
    snprintf(command, sizeof command, "'%s/%s' --quick --jobs 1 %s --out '%s'", bin_dir, program, args, out);
    CHECK(run("RELUNET_INTERRUPT=%d %s > '%s.1.log' 2>&1", first, command, out) == 130);
    CHECK(run("grep -q '^To resume: .*--out %s --resume$' '%s.1.log'", out, out) == 0);
    CHECK(run("test -f '%s/checkpoint/settings'", out) == 0);
    CHECK(run("%s --seed 7 --resume > '%s.seed.log' 2>&1", command, out) == 1);
    snprintf(log + strlen(log), sizeof log - strlen(log), ".seed.log");
    CHECK(log_says(test_dir, log, "seed=1, but this run has seed=7", "resume with the options"));
    CHECK(run("RELUNET_INTERRUPT=%d %s > '%s.2.log' 2>&1", second, command, out) == 130);
    CHECK(run("grep -q '^resuming in .*units done' '%s.2.log'", out) == 0);
    CHECK(run("%s --resume > '%s.3.log' 2>&1", command, out) == 0);
    /* each resumed run went on from the checkpoint of the unit stopped before it */
    CHECK(run("grep -q 'continuing from this checkpoint$' '%s.2.log'", out) == 0);
    CHECK(run("grep -q 'continuing from this checkpoint$' '%s.3.log'", out) == 0);
    CHECK(same_csv_files(whole, out, ""));
    if (files) CHECK(same_csv_files(whole, out, files));
    CHECK(run("test ! -e '%s/checkpoint' && test -z \"$(find '%s' -name '*.tmp')\"", out, out) == 0);
}

static void test_sweep_shards_merge(void)
{
    char whole[128];
    snprintf(whole, sizeof whole, "%s/sweep", test_dir);
    check_shards_merge("relu_alpha_sweep", "", whole, "runs");
    check_resume("relu_alpha_sweep", "", whole, "runs", 40, 70);
    /* a setting of the example's own is named too */
    CHECK(run("'%s/relu_alpha_sweep' --quick --lambdas 0,0.02 --out '%s/lambdas' --merge "
              "'%s/relu_alpha_sweep_shards/1' > '%s/lambdas.log' 2>&1",
              bin_dir, test_dir, test_dir, test_dir) == 1);
    CHECK(log_says(test_dir, "lambdas.log", "lambdas=0,0.02,0.05", "lambdas=0,0.02:"));
}

/* SIGTERM from outside, to the parent alone while two runs train in child
   processes: it passes the signal on, waits for their checkpoints and
   exits 128 + 15; resumed (--jobs 1 now), the sweep ends as a whole run.
   The signal goes as soon as the first unit is saved: a quick sweep lasts
   about a second, and a fixed delay could outlast it. */
static void test_sweep_external_signal(void)
{
    char whole[128], out[160];
    snprintf(whole, sizeof whole, "%s/sweep", test_dir);
    snprintf(out, sizeof out, "%s/sweep_terminated", test_dir);
    CHECK(run("'%s/relu_alpha_sweep' --quick --jobs 2 --out '%s' > '%s.log' 2>&1 & pid=$!; "
              "while kill -0 $pid 2>/dev/null && test -z \"$(ls '%s/units' 2>/dev/null)\"; do sleep 0.01; done; "
              "kill -TERM $pid; wait $pid",
              bin_dir, out, out, out) == 143);
    CHECK(log_says(test_dir, "sweep_terminated.log", "interrupted (signal 15)", "To resume:"));
    CHECK(run("'%s/relu_alpha_sweep' --quick --jobs 1 --out '%s' > '%s.2.log' 2>&1", bin_dir, out, out) == 0);
    CHECK(same_csv_files(whole, out, ""));
    CHECK(same_csv_files(whole, out, "runs"));
}

/* The n-th comma-separated cell (from 0) of line `line` (from 0) of a
   file, into cell; 0 when there is none. */
static int csv_cell(const char *dir, const char *name, int line, int n, char *cell, size_t size)
{
    char *text = slurp(dir, name), *at = text;
    int found = 0;
    while (at && line-- > 0 && (at = strchr(at, '\n')) != NULL) at++;
    while (at && n-- > 0 && (at = strpbrk(at, ",\n")) != NULL && *at == ',') at++;
    if (at && n < 0 && *at != '\n') {
        size_t length = strcspn(at, ",\n");
        snprintf(cell, size, "%.*s", (int)(length < size ? length : size - 1), at);
        found = 1;
    }
    free(text);
    return found;
}

/* --protocol code: the settings its report header records, the logging
   before the step (6500 images: 102 batches, logged before batches 0 and
   100), "final" the last logged value, and 11 x 30 units in full. */
static void test_sweep_code_protocol(void)
{
    static const char *const header[] = {
        "Protocol: `--protocol code`, the author's code as published",
        "penalty lambda * ||alpha||_2 (unsquared)", "all 60,000 training images",
        "SGD lr 0.01, batch 64, 10 epochs", "alpha clamped to [0, 1] after every step",
        "alphas from {0, 0.05, ..., 0.95}",
        "logged before the step of every batch whose index in its epoch is divisible by 100",
        "final = the last logged value (batch 900 of epoch 10)", "6 runs x 5 repetitions per lambda",
        "- Loss: cross-entropy + lambda * ||alpha||_2, unsquared", "Per repetition (2 groups of 2 runs"};
    char out[128], logged[64], final[64], step[64];
    snprintf(out, sizeof out, "%s/code", test_dir);
    CHECK(run("'%s/relu_alpha_sweep' --protocol code --quick --train-size 6500 --out '%s' > '%s.log' 2>&1",
              bin_dir, out, out) == 0);
    check_report(out, header, 11);
    CHECK(csv_rows(out, "runs/lambda_0.02_run_1.csv", 15) == 3); /* steps 0 and 100, the summary */
    CHECK(csv_cell(out, "runs/lambda_0.02_run_1.csv", 2, 5, step, sizeof step) && strcmp(step, "100") == 0);
    CHECK(csv_cell(out, "runs/lambda_0.02_run_1.csv", 2, 9, logged, sizeof logged));
    CHECK(csv_cell(out, "final_alphas.csv", 5, 5, final, sizeof final)); /* lambda 0.02 (4 runs a lambda), run 1 */
    CHECK(strcmp(logged, final) == 0);
    CHECK(csv_rows(out, "share_zero_repetitions.csv", 3) == 3 * 3);
    CHECK(run("test $('%s/relu_alpha_sweep' --protocol code --list | wc -l) -eq 330", bin_dir) == 0);
    CHECK(run("'%s/relu_alpha_sweep' --protocol code --list | grep -qx lambda_0.05_run_30", bin_dir) == 0);
    CHECK(run("'%s/relu_alpha_sweep' --protocol paper > /dev/null 2>&1", bin_dir) == 2);
}

/* Missing data says where to get it; bad options exit 2, for every example. */
static void test_bad_input(void)
{
    static const struct {
        const char *program, *hint;
    } examples[] = {{"relu_alpha_sweep", "apt-get install dataset-fashion-mnist"},
                    {"conv_linearization", "apt-get install dataset-fashion-mnist"},
                    {"adaptive_mixtures", "cifar-10-binary.tar.gz"},
                    {"prelu_study", "cifar-10-binary.tar.gz"}};
    static const char *const bad_options[] = {"--epochs 0", "--lambdas 0.1,,2", "--lr fast",
                                              "--jobs", "--bogus"};
    char *log;
    int i, k;
    CHECK(run("mkdir -p '%s/empty'", test_dir) == 0);
    for (i = 0; i < 4; i++) {
        const char *program = examples[i].program;
        CHECK(run("'%s/%s' --quick --data '%s/empty' --out '%s/nodata' > '%s/nodata.log' 2>&1",
                  bin_dir, program, test_dir, test_dir, test_dir) == 1);
        log = slurp(test_dir, "nodata.log");
        CHECK(log && strstr(log, examples[i].hint) && strstr(log, "--data") &&
              strstr(log, "RELUNET_DATA"));
        free(log);
        CHECK(run("'%s/%s' --help > /dev/null", bin_dir, program) == 0);
        for (k = 0; k < 5; k++)
            CHECK(run("'%s/%s' %s > /dev/null 2>&1", bin_dir, program, bad_options[k]) == 2);
    }
    /* An output folder that cannot be made is refused before any training,
       with the system's reason. */
    CHECK(run("'%s/rai_moons' --quick --out /proc/relunet/out > '%s/noout.log' 2>&1", bin_dir,
              test_dir) == 1);
    log = slurp(test_dir, "noout.log");
    CHECK(log && strstr(log, "cannot write in the folder /proc/relunet/out: ") && !strstr(log, "loss"));
    free(log);
    CHECK(run("'%s/relu_alpha_sweep' --shard 3/2 > /dev/null 2>&1", bin_dir) == 2);
    CHECK(run("'%s/relu_alpha_sweep' --penalty l3 > /dev/null 2>&1", bin_dir) == 2);
    CHECK(run("'%s/adaptive_mixtures' --arch vgg > /dev/null 2>&1", bin_dir) == 2);
}

static void test_conv_quick(void)
{
    static const char *const headings[] = {"# Linearization of convolutional layers",
                                           "## Test accuracy",
                                           "## Findings",
                                           "## Why the alphas end where they do",
                                           "## Loss and accuracy per iteration",
                                           "## Alpha per iteration",
                                           "## Feature maps",
                                           "**not clamped**"};
    char out[128];
    snprintf(out, sizeof out, "%s/conv", test_dir);
    CHECK(run("'%s/conv_linearization' --quick --jobs 2 --out '%s' > '%s.log' 2>&1", bin_dir, out,
              out) == 0);
    /* loss and accuracy for 1 and 2 epochs, 2 alpha charts, 3 inputs, 3 images x 3 layers x 3 models */
    CHECK(check_report(out, headings, 8) == 4 + 2 + 3 + 27);
    CHECK(csv_rows(out, "models/relu.csv", 15) >= 3);
    check_resume("conv_linearization", "", out, "models", 3, 2);
    CHECK(csv_rows(out, "models/linear.csv", 15) >= 3);
    CHECK(csv_rows(out, "models/lambda_0.5_2_epochs.csv", 15) >= 3);
    CHECK(csv_rows(out, "alpha_pull.csv", 8) == 2); /* lambda 0.5 for 1 and 2 epochs */
    check_shards_merge("conv_linearization", "", out, "models");
}

/* conv_linearization --protocol code trains ReLU and linear alone and says
   so; --explain trains the stated lambda 0.5 and the four variants and
   tables them beside the published alphas. */
static void test_conv_protocols(void)
{
    static const char *const code_header[] = {
        "Protocol: `--protocol code`, the authors' baseline code: ReLU and linear only, 7 epochs"};
    static const char *const explain_headings[] = {
        "Protocol: `--explain`", "## What explains the published alphas (`--explain`)",
        "| published (the study) | any | 0.5 to 0.8 | 1 | 1 |", "| alpha clamped to [0, 1] | 0.5 |",
        "| penalty without gradient | 0.5 |", "| lambda = 0 | 0 |", "| penalty on (1 - alpha) | 0.5 |"};
    char out[128];
    snprintf(out, sizeof out, "%s/conv_code", test_dir);
    CHECK(run("'%s/conv_linearization' --quick --protocol code --out '%s' > '%s.log' 2>&1", bin_dir, out,
              out) == 0);
    check_report(out, code_header, 1);
    CHECK(run("test \"$('%s/conv_linearization' --protocol code --list | tr '\\n' ' ')\" = 'relu linear '",
              bin_dir) == 0);
    CHECK(csv_rows(out, "models/lambda_0.5_1_epochs.csv", 15) < 0);
    snprintf(out, sizeof out, "%s/conv_explain", test_dir);
    CHECK(run("'%s/conv_linearization' --quick --explain --out '%s' > '%s.log' 2>&1", bin_dir, out, out) ==
          0);
    check_report(out, explain_headings, 7);
    CHECK(csv_rows(out, "explain.csv", 7) == 5);
    CHECK(run("'%s/conv_linearization' --explain --protocol code > /dev/null 2>&1", bin_dir) == 2);
}

/* ---- the CIFAR-10 examples ------------------------------------------------ */

enum { CIFAR_RECORD = 1 + 3 * 32 * 32, SYNTHETIC_BATCH = 60, SYNTHETIC_TEST = 200 };

/* count records of CIFAR-10's binary format: a label byte, then 3 x 32 x 32
   pixels. Labels cycle through the classes; each class has its own mean
   brightness per channel under the noise, so there is something to learn. */
static int write_cifar_batch(const char *dir, const char *name, int count, unsigned *seed)
{
    unsigned char record[CIFAR_RECORD];
    FILE *f = open_in(dir, name, "wb");
    int i, k, ok;
    if (!f) return -1;
    for (i = 0, ok = 1; i < count && ok; i++) {
        record[0] = (unsigned char)(i % 10);
        for (k = 1; k < CIFAR_RECORD; k++) {
            int channel = (k - 1) / 1024, mean = 40 + 20 * ((record[0] + 3 * channel) % 10);
            *seed = *seed * 1103515245u + 12345u;
            record[k] = (unsigned char)(mean + (int)((*seed >> 16) % 41) - 20);
        }
        ok = fwrite(record, 1, sizeof record, f) == sizeof record;
    }
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* dir/cifar-10-batches-bin with five training batches, a test batch and
   the class names: 300 training and 200 test images. */
static int write_synthetic_cifar(const char *dir)
{
    static const char names[] =
        "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
    char batches[512], name[32];
    unsigned seed = 1;
    int i, failed = 0;
    FILE *meta;
    snprintf(batches, sizeof batches, "%s/cifar-10-batches-bin", dir);
    if (run("mkdir -p '%s'", batches) != 0) return -1;
    for (i = 1; i <= 5 && !failed; i++) {
        snprintf(name, sizeof name, "data_batch_%d.bin", i);
        failed = write_cifar_batch(batches, name, SYNTHETIC_BATCH, &seed);
    }
    if (failed || write_cifar_batch(batches, "test_batch.bin", SYNTHETIC_TEST, &seed) != 0 ||
        (meta = open_in(batches, "batches.meta.txt", "w")) == NULL)
        return -1;
    failed = fputs(names, meta) < 0;
    return fclose(meta) == 0 && !failed ? 0 : -1;
}

/* --data for the synthetic set. */
static const char *cifar_data(void)
{
    static char option[256];
    snprintf(option, sizeof option, "--data '%s/cifar-10-batches-bin'", cifar_dir);
    return option;
}

/* Runs an example with --quick on the synthetic set; 1 when it exits 0. */
static int run_cifar_quick(const char *program, const char *out)
{
    return run("'%s/%s' --quick --jobs 2 %s --out '%s' > '%s.log' 2>&1", bin_dir, program, cifar_data(),
               out, out) == 0;
}

static void test_mixtures_quick(void)
{
    static const char *const headings[] = {
        "# Customization of Activation Layer", "**How it differs from the study.**",
        "## Test accuracy and macro precision", "## Learned X, Y, Z per activation layer",
        "## Retraining with X, Y, Z frozen", "5x5 (`--arch lenet5`)", "## Findings"};
    char out[128];
    snprintf(out, sizeof out, "%s/mixtures", test_dir);
    CHECK(run_cifar_quick("adaptive_mixtures", out));
    /* precision, test loss, training loss, mixtures */
    CHECK(check_report(out, headings, 7) == 4);
    CHECK(csv_rows(out, "results.csv", 8) == 12);        /* 8 activations, 4 retrainings */
    CHECK(csv_rows(out, "curves.csv", 6) == 12 * 2);     /* every run, 2 epochs */
    CHECK(csv_rows(out, "xyz.csv", 5) == 6 * 3);         /* 6 mixture runs, 3 layers */
    check_shards_merge("adaptive_mixtures", cifar_data(), out, NULL);
    check_resume("adaptive_mixtures", cifar_data(), out, NULL, 3, 5);
}

/* --trials 2: every training twice (seeds 1 and 2), the study's Table 2 and
   Table 5 layouts as mean +- sd over the trials. */
static void test_mixtures_trials(void)
{
    static const char *const headings[] = {
        "## Precision over 2 trials (the study's Table 2 layout)",
        "## Retraining with X, Y, Z frozen over 2 trials (the study's Table 5 layout)",
        "| Activation | max precision | (at epoch) | last epoch precision |",
        "mean ± sd over trials with seeds 1 to 2"};
    char out[128];
    snprintf(out, sizeof out, "%s/mixtures_trials", test_dir);
    CHECK(run("'%s/adaptive_mixtures' --quick --trials 2 --jobs 2 %s --out '%s' > '%s.log' 2>&1", bin_dir,
              cifar_data(), out, out) == 0);
    check_report(out, headings, 4);
    CHECK(run("test $('%s/adaptive_mixtures' --quick --trials 2 --list | grep -c _trial_2$) -eq 12", bin_dir) ==
          0);
}

static void test_prelu_quick(void)
{
    static const char *const headings[] = {
        "# Delving Deep into Rectifiers", "**How it differs from the paper.**",
        "## Top-1 and top-5 test error", "## Learned slopes per layer",
        "## Initialisation of a 30-layer plain ReLU net", "## Findings"};
    char out[128], *md;
    snprintf(out, sizeof out, "%s/prelu", test_dir);
    CHECK(run_cifar_quick("prelu_study", out));
    CHECK(check_report(out, headings, 6) == 3); /* loss, slopes, deep net */
    CHECK(csv_rows(out, "errors.csv", 7) == 5);
    CHECK(csv_rows(out, "slopes.csv", 4) == 7); /* 6 conv layers and fc1 */
    CHECK(csv_rows(out, "deep_init.csv", 3) >= 2);
    md = slurp(out, "REPORT.md"); /* --quick trains 1 epoch: no "1 epochs" */
    CHECK(md && strstr(md, " 1 epoch,") && !strstr(md, " 1 epochs"));
    free(md);
    check_shards_merge("prelu_study", cifar_data(), out, NULL);
    check_resume("prelu_study", cifar_data(), out, NULL, 3, 5);
    /* --augment is one of the settings: the units made without it are not taken */
    CHECK(run("'%s/prelu_study' --quick --augment --resume %s --out '%s/prelu_study_resumed' > '%s/augment.log' "
              "2>&1", bin_dir, cifar_data(), test_dir, test_dir) == 1);
    CHECK(log_says(test_dir, "augment.log", "augment=0, but this run has augment=1", "--resume"));
}

/* --augment trains on randomly cropped and flipped batches (other errors,
   and the report says so); --data may name the folder that holds
   cifar-10-batches-bin, as RELUNET_DATA may. */
static void test_prelu_augment(void)
{
    char plain[128], out[128], *md, *a, *b;
    snprintf(plain, sizeof plain, "%s/prelu", test_dir);
    snprintf(out, sizeof out, "%s/prelu_augment", test_dir);
    CHECK(run("'%s/prelu_study' --quick --augment --jobs 2 --data '%s' --out '%s' > '%s.log' 2>&1",
              bin_dir, cifar_dir, out, out) == 0);
    md = slurp(out, "REPORT.md");
    CHECK(md && strstr(md, "randomly cropped from 4 pixels of zero padding"));
    a = csv_without_timing(plain, "errors.csv");
    b = csv_without_timing(out, "errors.csv");
    CHECK(a && b && strcmp(a, b) != 0);
    free(md);
    free(a);
    free(b);
}

static int count_of(const char *text, const char *what)
{
    int n = 0;
    for (text = strstr(text, what); text; text = strstr(text + strlen(what), what)) n++;
    return n;
}

/* With the study's depth the findings are judged, on two classes: the
   shallow baseline's test accuracy need not be 100% (twice chance), only
   75%. Thirty iterations train it, not deep RAI. */
static void test_rai_judged(void)
{
    char out[128], *md;
    snprintf(out, sizeof out, "%s/rai_judged", test_dir);
    CHECK(run("'%s/rai_moons' --quick --depth 100 --iterations 30 --out '%s' > '%s.log' 2>&1", bin_dir, out,
              out) == 0);
    md = slurp(out, "REPORT.md");
    CHECK(md && !strstr(md, "too short to judge") && !strstr(md, "**not judged**"));
    CHECK(md && strstr(md, "within 1% of ln 2 in every run: **reproduced**"));
    CHECK(md && strstr(md, "below ln 2 / 10 in every run: **not reproduced**"));
    free(md);
}

/* rai_moons makes its own points and trains full batch: the other
   examples' data options are refused, each by name, not ignored. */
static void test_rai_refuses_unused_options(void)
{
    static const char *const unused[][2] = {{"--data /tmp", "--data"}, {"--epochs 3", "--epochs"},
                                            {"--train-size 50", "--train-size"}, {"--train 50", "--train-size"},
                                            {"--test-size 10", "--test-size"}, {"--test 10", "--test-size"}};
    char log_path[160], *log;
    int k;
    snprintf(log_path, sizeof log_path, "%s/rai_unused.log", test_dir);
    for (k = 0; k < (int)(sizeof unused / sizeof unused[0]); k++) {
        CHECK(run("'%s/rai_moons' --quick %s --out '%s/rai_unused' > '%s' 2>&1", bin_dir, unused[k][0],
                  test_dir, log_path) == 2);
        log = slurp(test_dir, "rai_unused.log");
        CHECK(log && strstr(log, unused[k][1]) && strstr(log, "does not apply"));
        free(log);
    }
}

static void test_rai_quick(void)
{
    static const char *const headings[] = {
        "# Relaxed activation identity against backpropagation", "## Findings",
        "## Final loss and accuracy", "## Decision landscapes", "## Loss curves", "## Files"};
    char out[128], *md;
    snprintf(out, sizeof out, "%s/rai", test_dir);
    CHECK(run("'%s/rai_moons' --quick --out '%s' > '%s.log' 2>&1", bin_dir, out, out) == 0);
    CHECK(check_report(out, headings, 6) == 6); /* 4 landscapes, 2 loss charts */
    md = slurp(out, "REPORT.md");
    /* depth 2 is not the study's deep network: nothing judged, and it says why */
    CHECK(md && strstr(md, "too short to judge") && strstr(md, "hidden layers, the study's 100"));
    CHECK(md && count_of(md, "**not judged**") == 3); /* the seed finding needs two runs */
    free(md);
    CHECK(csv_rows(out, "results.csv", 10) == 4); /* 4 experiments, 1 run */
    CHECK(csv_rows(out, "losses.csv", 8) > 4);
    CHECK(csv_rows(out, "landscapes.csv", 5) == 4 * 100 * 100); /* 4 runs on the 100 x 100 grid */
    check_shards_merge("rai_moons", "", out, NULL);
    check_resume("rai_moons", "", out, NULL, 150, 333);
    /* a checkpoint of other settings, without --resume: a fresh run says so */
    CHECK(run("RELUNET_INTERRUPT=20 '%s/rai_moons' --quick --iterations 40 --out '%s/rai_other' > /dev/null "
              "2>&1", bin_dir, test_dir) == 130);
    CHECK(run("'%s/rai_moons' --quick --iterations 30 --out '%s/rai_other' > '%s/rai_other.log' 2>&1", bin_dir,
              test_dir, test_dir) == 0);
    CHECK(log_says(test_dir, "rai_other.log", "iterations=40, but this run has iterations=30", "starting afresh"));
}

/* tests/slurm.sh borrows two pieces: "--write-cifar DIR" writes the
   synthetic CIFAR-10 into DIR, "--same-csv WHOLE MERGED [SUB]" exits 0 when
   the CSV files agree as check_shards_merge wants them to. */
static int helper_mode(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-cifar") == 0) return write_synthetic_cifar(argv[2]) != 0;
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "--same-csv") == 0)
        return !same_csv_files(argv[2], argv[3], argc == 5 ? argv[4] : "");
    fprintf(stderr, "usage: test_examples [--write-cifar DIR | --same-csv WHOLE MERGED [SUB]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
    if (argc > 1) return helper_mode(argc, argv);
    snprintf(bin_dir, sizeof bin_dir, "%.*s", slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".");
    snprintf(test_dir, sizeof test_dir, "/tmp/relunet_examples_XXXXXX");
    if (!mkdtemp(test_dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(cifar_dir, sizeof cifar_dir, "%s/cifar", test_dir);
    RUN(test_sweep_quick);
    RUN(test_sweep_shards_merge);
    RUN(test_sweep_external_signal);
    RUN(test_sweep_code_protocol);
    RUN(test_conv_quick);
    RUN(test_conv_protocols);
    CHECK(write_synthetic_cifar(cifar_dir) == 0);
    RUN(test_mixtures_quick);
    RUN(test_mixtures_trials);
    RUN(test_prelu_quick);
    RUN(test_prelu_augment);
    RUN(test_rai_quick);
    RUN(test_rai_refuses_unused_options);
    RUN(test_rai_judged);
    RUN(test_bad_input);
    if (getenv("RELUNET_KEEP_TEST_OUTPUT"))
        printf("output kept in %s\n", test_dir);
    else
        run("rm -rf '%s'", test_dir);
    return finish();
}
