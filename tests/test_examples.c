/* test_examples.c - runs the Fashion-MNIST examples (relu_alpha_sweep,
 * conv_linearization) with --quick and checks what they write: REPORT.md
 * with every section, every SVG it embeds present and well-formed, CSV files
 * with the rows they should have; that a sweep split into shards and merged
 * gives the same numbers as one run; and that bad input fails clearly.
 *
 * The example programs are looked for beside this test's binary (the
 * Makefile builds both into the same folder). Needs Fashion-MNIST (make test
 * installs dataset-fashion-mnist). Output goes to a fresh folder under /tmp,
 * removed at the end unless RELUNET_KEEP_TEST_OUTPUT is set.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "harness.h"
#include "xmlcheck.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char bin_dir[512];
static char test_dir[64];

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

/* The whole file as a string (free it); NULL when it cannot be read. */
static char *slurp(const char *dir, const char *name)
{
    char path[1024];
    FILE *f;
    long n;
    char *text = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
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
   -1 when it is missing or a row has another number of cells. */
static int csv_rows(const char *dir, const char *name, int columns)
{
    char *text = slurp(dir, name), *line;
    int rows = -1;
    if (!text) return -1;
    for (line = text; *line; rows++) {
        size_t n = strcspn(line, "\n");
        int cells = 1;
        size_t i;
        for (i = 0; i < n; i++) cells += line[i] == ',';
        if (cells != columns) {
            rows = -2;
            break;
        }
        line += n + (line[n] == '\n');
    }
    free(text);
    return rows < 0 ? -1 : rows;
}

/* The text of a CSV file with the last `drop` cells of every row cut off
   (the timing columns, which differ between runs). */
static char *csv_without_last(const char *dir, const char *name, int drop)
{
    char *text = slurp(dir, name), *in, *out;
    if (!text) return NULL;
    for (in = out = text; *in;) {
        size_t n = strcspn(in, "\n"), keep = n;
        int cut = 0;
        while (keep > 0 && cut < drop) cut += in[--keep] == ',';
        memmove(out, in, keep);
        out += keep;
        *out++ = '\n';
        in += n + (in[n] == '\n');
    }
    *out = '\0';
    return text;
}

static const char *const sweep_headings[] = {"# ReLU_alpha lambda sweep",
                                             "## 1. Share of alphas",
                                             "## 2. Alpha trajectories",
                                             "## 3. Histograms",
                                             "## 4. Final alpha against lambda",
                                             "## 5. Per lambda",
                                             "## 6. Test accuracy",
                                             "## Comparison with the study",
                                             "## Files"};

static void test_sweep_quick(void)
{
    char out[128];
    snprintf(out, sizeof out, "%s/sweep", test_dir);
    CHECK(run("'%s/relu_alpha_sweep' --quick --jobs 2 --out '%s' > '%s.log' 2>&1", bin_dir, out, out) ==
          0);
    /* 6 charts: share, 3 trajectories, histogram, scatter, accuracy */
    CHECK(check_report(out, sweep_headings, 9) == 7);
    CHECK(csv_rows(out, "final_alphas.csv", 11) == 6); /* 3 lambdas x 2 runs */
    CHECK(csv_rows(out, "per_lambda.csv", 13) == 3);
    CHECK(csv_rows(out, "share_zero.csv", 3) == 4 * 3);
    CHECK(csv_rows(out, "trajectories.csv", 3) > 0);
    CHECK(csv_rows(out, "runs/lambda_0.02_run_2.csv", 15) >= 3); /* initial, final, summary */
}

/* Two shards merged give the numbers of the single run (test_sweep_quick's). */
static void test_sweep_shards_merge(void)
{
    char whole[128], merged[128];
    char *a, *b;
    int i;
    snprintf(whole, sizeof whole, "%s/sweep", test_dir);
    snprintf(merged, sizeof merged, "%s/merged", test_dir);
    for (i = 1; i <= 2; i++)
        CHECK(run("'%s/relu_alpha_sweep' --quick --jobs 1 --shard %d/2 --out '%s/shard%d' > "
                  "'%s/shard%d.log' 2>&1",
                  bin_dir, i, test_dir, i, test_dir, i) == 0);
    /* a shard alone has half the runs: no report */
    CHECK(csv_rows(test_dir, "shard1/runs/lambda_0_run_1.csv", 15) >= 3);
    CHECK(csv_rows(test_dir, "shard1/runs/lambda_0_run_2.csv", 15) < 0);
    CHECK(run("'%s/relu_alpha_sweep' --quick --merge '%s/shard1' > /dev/null 2>&1", bin_dir, test_dir) !=
          0);
    CHECK(run("'%s/relu_alpha_sweep' --quick --out '%s' --merge '%s/shard1' '%s/shard2' > '%s.log' 2>&1",
              bin_dir, merged, test_dir, test_dir, merged) == 0);
    CHECK(check_report(merged, sweep_headings, 9) == 7);
    a = csv_without_last(whole, "final_alphas.csv", 2);
    b = csv_without_last(merged, "final_alphas.csv", 2);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
    a = slurp(whole, "per_lambda.csv");
    b = slurp(merged, "per_lambda.csv");
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
}

static void test_bad_input(void)
{
    char *log;
    static const char *const programs[] = {"relu_alpha_sweep", "conv_linearization"};
    int i;
    for (i = 0; i < 2; i++) {
        CHECK(run("'%s/%s' --quick --data '%s/nowhere' --out '%s/nodata' > '%s/nodata.log' 2>&1",
                  bin_dir, programs[i], test_dir, test_dir, test_dir) == 1);
        log = slurp(test_dir, "nodata.log");
        CHECK(log && strstr(log, "apt-get install dataset-fashion-mnist") && strstr(log, "--data"));
        free(log);
        CHECK(run("'%s/%s' --help > /dev/null", bin_dir, programs[i]) == 0);
        CHECK(run("'%s/%s' --epochs 0 > /dev/null 2>&1", bin_dir, programs[i]) == 2);
        CHECK(run("'%s/%s' --lambdas 0.1,,2 > /dev/null 2>&1", bin_dir, programs[i]) == 2);
        CHECK(run("'%s/%s' --bogus > /dev/null 2>&1", bin_dir, programs[i]) == 2);
    }
    CHECK(run("'%s/relu_alpha_sweep' --shard 3/2 > /dev/null 2>&1", bin_dir) == 2);
    CHECK(run("'%s/relu_alpha_sweep' --penalty l3 > /dev/null 2>&1", bin_dir) == 2);
}

static void test_conv_quick(void)
{
    static const char *const headings[] = {"# Linearization of convolutional layers",
                                           "## Test accuracy",
                                           "## Comparison with the study",
                                           "## Loss and accuracy per iteration",
                                           "## Alpha per iteration",
                                           "## Feature maps",
                                           "**not clamped**"};
    char out[128];
    snprintf(out, sizeof out, "%s/conv", test_dir);
    CHECK(run("'%s/conv_linearization' --quick --jobs 2 --out '%s' > '%s.log' 2>&1", bin_dir, out,
              out) == 0);
    /* loss and accuracy for 1 and 2 epochs, 2 alpha charts, 3 inputs, 3 images x 3 layers x 3 models */
    CHECK(check_report(out, headings, 7) == 4 + 2 + 3 + 27);
    CHECK(csv_rows(out, "models/relu.csv", 15) >= 3);
    CHECK(csv_rows(out, "models/linear.csv", 15) >= 3);
    CHECK(csv_rows(out, "models/lambda_0.5_2_epochs.csv", 15) >= 3);
}

int main(int argc, char **argv)
{
    const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
    snprintf(bin_dir, sizeof bin_dir, "%.*s", slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".");
    snprintf(test_dir, sizeof test_dir, "/tmp/relunet_examples_XXXXXX");
    if (!mkdtemp(test_dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_sweep_quick);
    RUN(test_sweep_shards_merge);
    RUN(test_bad_input);
    RUN(test_conv_quick);
    if (getenv("RELUNET_KEEP_TEST_OUTPUT"))
        printf("output kept in %s\n", test_dir);
    else
        run("rm -rf '%s'", test_dir);
    return finish();
}
