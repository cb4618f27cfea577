/* test_report.c - tests of examples/report.h: CSV text, SVG well-formedness,
 * axis ticks, non-finite and constant data, Markdown text, progress lines.
 *
 *     cc -std=c99 -Wall -Wextra -pedantic -Werror -Itests -Iexamples \
 *        tests/test_report.c -o test_report -lm
 *
 * Files go to a fresh folder under /tmp, removed at the end unless
 * RELUNET_KEEP_TEST_OUTPUT is set (then its name is printed, to look at the SVGs).
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, rmdir; also gives report.h its monotonic clock */
#define REPORT_IMPLEMENTATION
#include "report.h"
#include "harness.h"
#include "xmlcheck.h"
#include "platform.h"

#include <stdlib.h>
#include <string.h>

static char test_dir[128];
static char created[64][160]; /* files and folders to remove, in order of creation */
static int n_created;

static const char *remember(const char *name)
{
    snprintf(created[n_created++], sizeof created[0], "%s/%s", test_dir, name);
    return name;
}

/* The whole file as a string; NULL when it cannot be read. */
static char *slurp(const char *name)
{
    char path[200];
    FILE *f;
    long n;
    char *text;
    snprintf(path, sizeof path, "%s/%s", test_dir, name);
    f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = (char *)malloc((size_t)n + 1);
    if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
        free(text);
        text = NULL;
    }
    if (text) text[n] = '\0';
    fclose(f);
    return text;
}

static char *slurp_stream(FILE *f)
{
    long n;
    char *text;
    fflush(f);
    n = ftell(f);
    rewind(f);
    text = (char *)calloc((size_t)n + 1, 1);
    if (text && fread(text, 1, (size_t)n, f) != (size_t)n) text[0] = '\0';
    return text;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    size_t len = strlen(what);
    for (text = strstr(text, what); text; text = strstr(text + len, what)) n++;
    return n;
}

/* Checks an SVG file: our checker always, xmllint too where it is installed. */
static void check_svg(const char *name, const char *text)
{
    int ok = text && xml_well_formed(text);
    if (!ok) fprintf(stderr, "%s: %s\n", name, text ? xml_error : "not readable");
    CHECK(ok);
    CHECK(text && strstr(text, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    /* non-finite numbers would print as nan or inf */
    CHECK(text && !strstr(text, "nan") && !strstr(text, "inf"));
    if (system("command -v xmllint >/dev/null 2>&1") == 0) {
        char command[256];
        snprintf(command, sizeof command, "xmllint --noout '%s/%s'", test_dir, name);
        CHECK(system(command) == 0);
    }
}

static void test_checker_catches_errors(void)
{
    /* the checker must be able to fail, or the SVG tests prove nothing */
    CHECK(xml_well_formed("<svg><g a=\"1\"/><text>a &amp; b</text></svg>"));
    CHECK(!xml_well_formed("<svg><g></svg>"));
    CHECK(!xml_well_formed("<svg><text>a & b</text></svg>"));
    CHECK(!xml_well_formed("<svg><text>a > b</text></svg>"));
    CHECK(!xml_well_formed("<svg a=1></svg>"));
    CHECK(!xml_well_formed("<svg a=\"<\"></svg>"));
    CHECK(!xml_well_formed("<svg></svg><svg></svg>"));
}

/* ---- axes ------------------------------------------------------------------ */

static void check_ticks(double lo, double hi, const double *expected, int n_expected)
{
    double ticks[32];
    int i, n = report_nice_ticks(lo, hi, 6, ticks, 32);
    CHECK(n == n_expected);
    for (i = 0; i < n && i < n_expected; i++) CHECK_NEAR(ticks[i], expected[i], 1e-12);
}

static void test_nice_ticks(void)
{
    static const double unit[6] = {0, 0.2, 0.4, 0.6, 0.8, 1};
    static const double seven[4] = {0, 2, 4, 6};
    static const double across_zero[3] = {0, 5, 10};
    static const double small[4] = {0.001, 0.002, 0.003, 0.004};
    static const double negative[6] = {-500, -400, -300, -200, -100, 0};
    double ticks[3];
    check_ticks(0, 1, unit, 6);
    check_ticks(0, 7.3, seven, 4);
    check_ticks(-3, 12, across_zero, 3);
    check_ticks(0.001, 0.0042, small, 4);
    check_ticks(-500, 0, negative, 6);
    CHECK_NEAR(report_nice_step(0, 7.3, 6), 2, 1e-12);
    CHECK_NEAR(report_nice_step(0, 1, 10), 0.1, 1e-12);
    /* nothing to tick, and no writing past the capacity */
    CHECK(report_nice_ticks(1, 1, 6, ticks, 3) == 0);
    CHECK(report_nice_ticks(0, NAN, 6, ticks, 3) == 0);
    CHECK(report_nice_ticks(-HUGE_VAL, 0, 6, ticks, 3) == 0);
    CHECK(report_nice_ticks(0, 1, 6, ticks, 3) == 3);
    CHECK(report_nice_step(2, 1, 6) == 0);
}

static void test_axis_range(void)
{
    double lo = 5, hi = 5;
    report__axis_range(&lo, &hi, 0, 0, 6); /* constant data */
    CHECK(lo < 5 && hi > 5);
    lo = HUGE_VAL, hi = -HUGE_VAL; /* no data */
    report__axis_range(&lo, &hi, 0, 0, 6);
    CHECK(lo == 0 && hi == 1);
    lo = 0.03, hi = 0.91; /* rounded out to whole steps */
    report__axis_range(&lo, &hi, 0, 0, 6);
    CHECK_NEAR(lo, 0, 1e-12);
    CHECK_NEAR(hi, 1, 1e-12);
    lo = 0.03, hi = 0.91; /* the caller's range wins */
    report__axis_range(&lo, &hi, -2, 3, 6);
    CHECK(lo == -2 && hi == 3);
}

/* ---- files and CSV ---------------------------------------------------------- */

static void test_mkdir_p(void)
{
    char path[200];
    FILE *f;
    remember("a");
    remember("a/b");
    snprintf(path, sizeof path, "%s/a/b/c/", test_dir);
    remember("a/b/c");
    CHECK(report_mkdir_p(path) == 0);
    CHECK(report__is_dir(path));
    CHECK(report_mkdir_p(path) == 0); /* already there */
    f = report_fopen(path, "file", "w");
    remember("a/b/c/file");
    CHECK(f != NULL);
    CHECK(report_fclose(f) == 0);
    snprintf(path, sizeof path, "%s/a/b/c/file/d", test_dir); /* a file in the way */
    CHECK(report_mkdir_p(path) != 0);
    CHECK(report_mkdir_p("") != 0);
}

/* D5: a file is under its name only once it is whole: while it is being
   written the folder holds NAME.tmp, and a failed write leaves neither. */
static void test_files_appear_whole(void)
{
    FILE *f = report_fopen(test_dir, remember("whole.txt"), "w"), *old;
    char *text;
    CHECK(f != NULL);
    fputs("first", f);
    fflush(f);
    CHECK(slurp("whole.txt") == NULL);
    text = slurp("whole.txt.tmp");
    CHECK(text && strcmp(text, "first") == 0);
    free(text);
    CHECK(report_fclose(f) == 0);
    CHECK(slurp("whole.txt.tmp") == NULL);
    text = slurp("whole.txt");
    CHECK(text && strcmp(text, "first") == 0);
    free(text);
    /* Rewriting keeps the old version readable until the new one is done. */
    f = report_fopen(test_dir, "whole.txt", "w");
    fputs("second", f);
    text = slurp("whole.txt");
    CHECK(text && strcmp(text, "first") == 0);
    free(text);
    CHECK(report_fclose(f) == 0);
    text = slurp("whole.txt");
    CHECK(text && strcmp(text, "second") == 0);
    free(text);
    /* A stream that failed is removed, and the old file stays. */
    f = report_fopen(test_dir, "whole.txt", "w");
    old = f;
    CHECK(f != NULL && fputs("third", f) >= 0);
    if (f) fgetc(f); /* reading a write-only stream sets its error flag (glibc, musl) */
    if (f && !ferror(f)) {
        printf("skipped: a failed stream is removed (this C library sets no error flag "
               "on reading a write-only stream)\n");
        report_fclose(old);
    } else {
        CHECK(report_fclose(old) != 0);
        CHECK(slurp("whole.txt.tmp") == NULL);
        text = slurp("whole.txt");
        CHECK(text && strcmp(text, "second") == 0);
        free(text);
    }
    /* The output folder is checked before any work, and a stale report goes. */
    f = report_fopen(test_dir, remember("REPORT.md"), "w");
    CHECK(report_fclose(f) == 0);
    CHECK(report_output_folder(test_dir) == 0);
    CHECK(slurp("REPORT.md") == NULL && slurp("REPORT.md.tmp") == NULL);
    CHECK(report_output_folder("/proc/relunet/out") != 0);
}

static void test_csv(void)
{
    static const char *const header[3] = {"name", "value", "note"};
    float tenth = 0.1f;
    report_csv csv;
    char *text;
    CHECK(report_csv_open(&csv, test_dir, remember("table.csv"), header, 3) == 0);
    report_csv_str(&csv, "a");
    report_csv_num(&csv, 1.5);
    report_csv_str(&csv, "plain");
    report_csv_str(&csv, "b,c");
    report_csv_num(&csv, NAN);
    report_csv_str(&csv, "say \"hi\"");
    report_csv_int(&csv, -42);
    report_csv_num(&csv, -HUGE_VAL);
    report_csv_str(&csv, " padded");
    /* Float precision survives. A float object, not the constant 0.1f, which
       C lets s390x evaluate in double precision (FLT_EVAL_METHOD 1). */
    report_csv_num(&csv, tenth);
    CHECK(report_csv_close(&csv) == 0);
    text = slurp("table.csv");
    CHECK(text && strcmp(text, "name,value,note\n"
                               "a,1.5,plain\n"
                               "\"b,c\",nan,\"say \"\"hi\"\"\"\n"
                               "-42,-inf,\" padded\"\n"
                               "0.100000001\n") == 0);
    free(text);
}

static void test_csv_series_and_errors(void)
{
    static const double x[2] = {0.5, 1.5}, y[3] = {1, 2, 3};
    report_series s[2] = {{"with x", x, y, 2}, {"no x", NULL, y, 3}};
    report_csv csv;
    char *text;
    CHECK(report_csv_series(test_dir, remember("series.csv"), s, 2) == 0);
    text = slurp("series.csv");
    CHECK(text && strcmp(text, "series,x,y\nwith x,0.5,1\nwith x,1.5,2\nno x,0,1\nno x,1,2\nno x,2,3\n") == 0);
    free(text);
    /* a folder that is not there: an error, and the writers do nothing */
    CHECK(report_csv_open(&csv, "/nonexistent/relunet", "x.csv", NULL, 2) != 0);
    report_csv_num(&csv, 1);
    CHECK(report_csv_close(&csv) != 0);
    CHECK(report_csv_series("/nonexistent/relunet", "x.csv", s, 2) != 0);
}

/* ---- charts --------------------------------------------------------------- */

static void test_line_chart(void)
{
    double y0[5] = {0, 1, NAN, 3, 4};
    static const double x1[3] = {0, 2, 4}, y1[3] = {2, 2, 2};
    double y2[3] = {HUGE_VAL, 1.5, NAN}; /* one lone finite point */
    report_series s[4] = {{"a <b> & \"c\"", NULL, y0, 5}, {"constant", x1, y1, 3}, {"lone", NULL, y2, 3},
                          {"empty", NULL, NULL, 0}};
    report_chart chart = {"Loss & accuracy", "epoch", "value", 0, 0, 0, 0, 0, 0};
    char *text;
    const char *path;
    CHECK(report_svg_line(test_dir, remember("line.svg"), &chart, s, 4) == 0);
    text = slurp("line.svg");
    check_svg("line.svg", text);
    if (!text) return;
    CHECK(strstr(text, "a &lt;b&gt; &amp; &quot;c&quot;") != NULL);
    CHECK(strstr(text, "Loss &amp; accuracy") != NULL);
    path = strstr(text, "<path");
    /* the NaN breaks the first line into two runs instead of joining across it */
    CHECK(path && count(strchr(path, 'd'), "M") >= 2 && strstr(path, " M") && strstr(path, " M") < strstr(path, "/>"));
    CHECK(count(text, "<path") == 2); /* the one-point series is a marker, the empty series nothing */
    CHECK(count(text, "r=\"5\"") == 1);
    CHECK(strstr(text, ">lone (one point: 1.5)<") != NULL);
    CHECK(count(text, "stroke-width=\"2.5\"") == 3); /* three line keys, and a dot for "lone" */
    free(text);
}

static void test_constant_and_empty_charts(void)
{
    static const double y[4] = {2, 2, 2, 2};
    report_series s = {NULL, NULL, y, 4};
    report_chart chart = {NULL, NULL, NULL, 0, 0, 0, 0, 0, 0};
    char *text;
    CHECK(report_svg_line(test_dir, remember("constant.svg"), &chart, &s, 1) == 0);
    text = slurp("constant.svg");
    check_svg("constant.svg", text);
    CHECK(text && strstr(text, ">2.00<") && strstr(text, ">1.80<")); /* an axis around 2 */
    free(text);
    CHECK(report_svg_scatter(test_dir, remember("empty.svg"), &chart, NULL, 0) == 0);
    text = slurp("empty.svg");
    check_svg("empty.svg", text);
    CHECK(text && strstr(text, ">0.0<") && strstr(text, ">1.0<")); /* [0,1] without data */
    free(text);
}

static void test_scatter_skips_nonfinite(void)
{
    double x[5] = {1, 2, NAN, 4, 5}, y[5] = {1, -HUGE_VAL, 3, 4, 5};
    static const double x2[2] = {0, 1}, y2[2] = {0, 1};
    report_series s[2] = {{NULL, x, y, 5}, {"second", x2, y2, 2}};
    report_chart chart = {"Final alpha vs lambda", "lambda", "alpha", 500, 300, 0, 0, 0, 0};
    char *text;
    CHECK(report_svg_scatter(test_dir, remember("scatter.svg"), &chart, s, 2) == 0);
    text = slurp("scatter.svg");
    check_svg("scatter.svg", text);
    CHECK(text && count(text, "r=\"3.5\"") == 3 + 2); /* 3 finite + 2 */
    CHECK(text && count(text, "<circle") == 3 + 2 + 1); /* and one legend key, for the named series only */
    CHECK(text && strstr(text, "width=\"500.0\" height=\"300.0\"")); /* the plot has the size asked for */
    free(text);
}

static void test_histogram(void)
{
    double v[7] = {0, 0.1, 0.1, 0.55, 1.0, NAN, 7}; /* 7 lies outside [0,1] */
    report_series s = {NULL, NULL, v, 7};
    report_chart chart = {"alphas", "alpha", NULL, 0, 0, 0, 1, 0, 0};
    char *text, *data;
    CHECK(report_svg_histogram(test_dir, remember("hist.svg"), &chart, &s, 1, 10) == 0);
    text = slurp("hist.svg");
    check_svg("hist.svg", text);
    data = text ? strstr(text, "url(#plot)") : NULL;
    CHECK(data && count(data, "<rect") == 4); /* bins 0, 1, 5 and 9 */
    CHECK(text && strstr(text, ">count<") != NULL);
    free(text);
    chart.x_max = 0; /* automatic range over constant data, several series */
    {
        static const double c[3] = {3, 3, 3};
        report_series two[2] = {{"constant", NULL, c, 3}, {"empty", NULL, NULL, 0}};
        CHECK(report_svg_histogram(test_dir, remember("hist2.svg"), &chart, two, 2, 0) == 0);
        text = slurp("hist2.svg");
        check_svg("hist2.svg", text);
        CHECK(text && !strstr(text, "fill-opacity")); /* side by side, opaque */
        free(text);
    }
}

/* The x positions of the rectangles in the plot (not the legend's), in order;
   returns how many. */
static int data_rect_xs(const char *text, double *xs, int capacity)
{
    const char *rect = text ? strstr(text, "url(#plot)") : NULL;
    const char *end = rect ? strstr(rect, "</g>\n</g>\n") : NULL;
    int n = 0;
    while (end && (rect = strstr(rect, "<rect x=\"")) != NULL && rect < end && n < capacity) {
        rect += strlen("<rect x=\"");
        xs[n++] = atof(rect);
    }
    return n;
}

static void test_histogram_side_by_side(void)
{
    /* two series with the same values: overlaid, one would hide the other */
    static const double v[5] = {0.05, 0.05, 0.35, 0.35, 0.95};
    report_series s[2] = {{"layer 1", NULL, v, 5}, {"layer 2", NULL, v, 5}};
    report_chart chart = {"alphas", "alpha", NULL, 0, 0, 0, 1, 0, 0};
    double xs[16];
    int n, i, j, distinct = 1;
    char *text;
    CHECK(report_svg_histogram(test_dir, remember("hist_side.svg"), &chart, s, 2, 10) == 0);
    text = slurp("hist_side.svg");
    check_svg("hist_side.svg", text);
    n = data_rect_xs(text, xs, 16);
    CHECK(n == 6); /* bins 0, 3 and 9, once per series */
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++) distinct = distinct && xs[i] != xs[j];
    CHECK(distinct); /* each series has its own place in the bin */
    CHECK(text && !strstr(text, "opacity")); /* opaque: no mixed colours */
    free(text);
}

static void test_coinciding_series(void)
{
    static const double a[4] = {1, 2, 3, 4}, x[4] = {0, 1, 2, 3};
    double near[4] = {1, 2, 3, 4 + 1e-9}, other[4] = {4, 3, 2, 1};
    report_series s[4] = {{"a", x, a, 4}, {"b", x, a, 4}, {"c", x, near, 4}, {"d", x, other, 4}};
    report_chart chart = {NULL, NULL, NULL, 0, 0, 0, 0, 0, 0};
    char *text;
    CHECK(report_svg_line(test_dir, remember("coincide_line.svg"), &chart, s, 4) == 0);
    text = slurp("coincide_line.svg");
    check_svg("coincide_line.svg", text);
    CHECK(text && strstr(text, ">b (= a)<") && strstr(text, ">c (\xE2\x89\x88 a)<") && strstr(text, ">d<"));
    CHECK(text && strstr(text, ">a<"));
    /* b and c take turns over a, in the plot and in the legend */
    CHECK(text && count(text, "stroke-dasharray=\"8 16\" stroke-dashoffset=\"0\"") == 2);
    CHECK(text && count(text, "stroke-dasharray=\"8 16\" stroke-dashoffset=\"-8\"") == 2);
    free(text);
    CHECK(report_svg_scatter(test_dir, remember("coincide_scatter.svg"), &chart, s, 4) == 0);
    text = slurp("coincide_scatter.svg");
    check_svg("coincide_scatter.svg", text);
    CHECK(text && strstr(text, ">b (= a)<") && strstr(text, ">c (\xE2\x89\x88 a)<"));
    /* b and c are rings of two sizes around a's dots, and so are their legend keys */
    CHECK(text && count(text, "fill=\"none\" stroke=\"#D55E00\" stroke-width=\"1.5\"") == 2);
    CHECK(text && count(text, "fill=\"none\" stroke=\"#009E73\" stroke-width=\"1.5\"") == 2);
    CHECK(text && count(text, "r=\"6\"") == 4 && count(text, "r=\"8.5\"") == 4);
    free(text);
}

static void test_one_point_series(void)
{
    static const double y[1] = {0.123}, z[2] = {2, 1};
    report_series s[2] = {{"train", NULL, y, 1}, {"test", NULL, z, 2}};
    report_chart chart = {"Loss", "epoch", "loss", 0, 0, 0, 0, 0, 0};
    char *text;
    CHECK(report_svg_line(test_dir, remember("one_point.svg"), &chart, s, 2) == 0);
    text = slurp("one_point.svg");
    check_svg("one_point.svg", text);
    CHECK(text && strstr(text, ">train (one point: 0.123)<") && strstr(text, ">test<"));
    CHECK(text && count(text, "r=\"5\"") == 1); /* a marker, not a 2.5-pixel dot */
    CHECK(text && count(text, "<path") == 1);
    free(text);
    { /* one point each, a millionth apart: the legend tells them apart as the axis does */
        static const double a[1] = {2.3113375}, b[1] = {2.3113386};
        report_series close[2] = {{"lambda = 0", NULL, a, 1}, {"lambda = 0.02", NULL, b, 1}};
        CHECK(report_svg_line(test_dir, remember("one_point_close.svg"), &chart, close, 2) == 0);
        text = slurp("one_point_close.svg");
        check_svg("one_point_close.svg", text);
        CHECK(text && strstr(text, "(one point: 2.3113375)<") && strstr(text, "(one point: 2.3113386)<"));
        free(text);
    }
}

/* Tick labels of one axis (anchor "end": y, "middle": x), in order. */
static int tick_labels(const char *text, const char *anchor, char labels[][32], int capacity)
{
    char pattern[64];
    const char *at = text;
    int n = 0;
    snprintf(pattern, sizeof pattern, "text-anchor=\"%s\" font-size=\"11\">", anchor);
    while (at && (at = strstr(at, pattern)) != NULL && n < capacity) {
        const char *end;
        at += strlen(pattern);
        end = strchr(at, '<');
        if (!end || end - at >= 32) break;
        memcpy(labels[n], at, (size_t)(end - at));
        labels[n++][end - at] = '\0';
    }
    return n;
}

static int all_different(char labels[][32], int n)
{
    int i, j;
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++)
            if (strcmp(labels[i], labels[j]) == 0) return 0;
    return 1;
}

static void test_tick_labels_over_tiny_ranges(void)
{
    static const double ranges[][2] = {{1, 1 + 1e-7}, {1e6, 1e6 + 1}, {-1e-9, 1e-9}, {0.25, 0.25 + 1e-12},
                                       {2.302585, 2.302590}};
    static const double y[3] = {2.3025851, 2.3025862, 2.3025873}, x[3] = {1e6, 1e6 + 0.5, 1e6 + 1};
    report_series s = {"loss", x, y, 3};
    report_chart chart = {NULL, NULL, NULL, 0, 0, 0, 0, 0, 0};
    char labels[REPORT__MAX_TICKS][32], *text;
    size_t r;
    int n;
    for (r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        double ticks[REPORT__MAX_TICKS], step = report_nice_step(ranges[r][0], ranges[r][1], 6);
        int i;
        n = report_nice_ticks(ranges[r][0], ranges[r][1], 6, ticks, REPORT__MAX_TICKS);
        for (i = 0; i < n; i++) report__tick_label(labels[i], sizeof labels[i], ticks[i], step);
        CHECK(n >= 2 && all_different(labels, n));
    }
    CHECK(report_svg_line(test_dir, remember("tiny_range.svg"), &chart, &s, 1) == 0);
    text = slurp("tiny_range.svg");
    check_svg("tiny_range.svg", text);
    n = tick_labels(text, "end", labels, REPORT__MAX_TICKS);
    CHECK(n >= 2 && all_different(labels, n));
    n = tick_labels(text, "middle", labels, REPORT__MAX_TICKS);
    CHECK(n >= 2 && all_different(labels, n));
    free(text);
}

static void test_images(void)
{
    float gray[9] = {0, 1, 2, 3, NAN, 5, 6, 7, 8};
    static const float rgb[12] = {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4};
    report_image images[3] = {{gray, 1, 3, 3, "x<y"}, {rgb, 3, 2, 2, NULL}, {NULL, 1, 5, 5, "none"}};
    char *text;
    CHECK(report_svg_images(test_dir, remember("images.svg"), "conv1 & conv2", images, 3, 0) == 0);
    text = slurp("images.svg");
    check_svg("images.svg", text);
    CHECK(text && strstr(text, "x&lt;y") && strstr(text, "conv1 &amp; conv2"));
    CHECK(text && strstr(text, "fill=\"#000000\"") && strstr(text, "fill=\"#ffffff\"")); /* own min, max */
    CHECK(text && count(text, "fill=\"#808080\"") == 2); /* constant image: gray, one run per row */
    CHECK(text && count(text, "shape-rendering") == 2);  /* the image without pixels is left out */
    free(text);
    CHECK(report_svg_images(test_dir, remember("no_images.svg"), NULL, NULL, 0, 0) == 0);
    text = slurp("no_images.svg");
    check_svg("no_images.svg", text);
    free(text);
}

static void test_colormap(void)
{
    unsigned char c[3];
    report_colormap(REPORT_DIVERGING, 0, c);
    CHECK(c[0] == 33 && c[1] == 102 && c[2] == 172);
    report_colormap(REPORT_DIVERGING, 0.5, c);
    CHECK(c[0] == 247 && c[1] == 247 && c[2] == 247);
    report_colormap(REPORT_DIVERGING, 2, c); /* clamped */
    CHECK(c[0] == 178 && c[1] == 24 && c[2] == 43);
    report_colormap(REPORT_VIRIDIS, NAN, c);
    CHECK(c[0] == 68 && c[1] == 1 && c[2] == 84);
    report_colormap(REPORT_VIRIDIS, 1, c);
    CHECK(c[0] == 253 && c[1] == 231 && c[2] == 37);
}

static void test_heatmap(void)
{
    float grid[4 * 5];
    double px[4] = {-0.5, 0.5, NAN, 0.9}, py[4] = {0.5, -0.5, 0, 0.9};
    static const int label[4] = {0, 1, 1, 1};
    static const char *const names[2] = {"moon A", "moon B"};
    report_heatmap map = {NULL, 4, 5, REPORT_DIVERGING, 0, 1, "P(class 1)"};
    report_points points = {px, py, label, 4, names, 2};
    report_chart chart = {"Decision landscape", "x1", "x2", 400, 400, -1, 1, -1, 1};
    char *text;
    int i;
    for (i = 0; i < 20; i++) grid[i] = (float)i / 19;
    grid[7] = NAN;
    map.values = grid;
    CHECK(report_svg_heatmap(test_dir, remember("heat.svg"), &chart, &map, &points) == 0);
    text = slurp("heat.svg");
    check_svg("heat.svg", text);
    CHECK(text && count(text, "stroke-width=\"0.8\"") == 3); /* finite points */
    CHECK(text && strstr(text, "moon B") && strstr(text, "P(class 1)"));
    CHECK(text && strstr(text, "fill=\"#2166ac\"") && strstr(text, "fill=\"#b2182b\"")); /* 0 and 1 */
    free(text);
    for (i = 0; i < 20; i++) grid[i] = 0.5f; /* constant, automatic colour range, no points */
    map.value_min = map.value_max = 0;
    map.colormap = REPORT_VIRIDIS;
    chart.x_min = chart.x_max = 0;
    CHECK(report_svg_heatmap(test_dir, remember("heat2.svg"), &chart, &map, NULL) == 0);
    text = slurp("heat2.svg");
    check_svg("heat2.svg", text);
    free(text);
}

static void test_write_errors(void)
{
    report_chart chart = {"t", "x", "y", 0, 0, 0, 0, 0, 0};
    static const double y[2] = {1, 2};
    report_series s = {"s", NULL, y, 2};
    FILE *full = fopen("/dev/full", "w");
    CHECK(report_svg_line("/nonexistent/relunet", "x.svg", &chart, &s, 1) != 0);
    CHECK(report_svg_images("/nonexistent/relunet", "x.svg", "t", NULL, 0, 0) != 0);
    if (full) { /* Linux: every write fails with ENOSPC, found at the latest by fclose */
        fclose(full);
        CHECK(report_svg_line("/dev", "full", &chart, &s, 1) != 0);
        CHECK(report_csv_series("/dev", "full", &s, 1) != 0);
    }
}

/* ---- Markdown -------------------------------------------------------------- */

static void test_markdown(void)
{
    static const char *const header[4] = {"model", "error %", "slope", "note"};
    double values[3] = {1.23456, -0.0001, NAN};
    FILE *md = tmpfile();
    char *text;
    CHECK(md != NULL);
    if (!md) return;
    report_md_header(md, header, 4);
    report_md_row_numbers(md, "a|b", values, 3, 3);
    report_md_row(md, header, 2);
    report_md_image(md, "Loss [per] epoch", "loss curve.svg");
    text = slurp_stream(md);
    CHECK(text && strcmp(text, "| model | error % | slope | note |\n"
                               "| --- | --- | --- | --- |\n"
                               "| a\\|b | 1.235 | 0.000 | n/a |\n"
                               "| model | error % |\n"
                               "![Loss \\[per\\] epoch](loss%20curve.svg)\n\n") == 0);
    free(text);
    fclose(md);
}

/* ---- progress bar -------------------------------------------------------- */

static void test_progress_plain_lines(void)
{
    report_progress bar;
    FILE *log = tmpfile();
    char *text, *last;
    long step;
    CHECK(log != NULL);
    if (!log) return;
    report_progress_begin(&bar, "train", 1000);
    bar.out = log; /* as when stderr goes to a file */
    bar.tty = 0;
    for (step = 1; step <= 1000; step++)
        report_progress_update(&bar, step, "epoch %ld loss %.2f", step / 100, 1.0 / (double)step);
    report_progress_end(&bar);
    CHECK(report_progress_rate(&bar, 100) >= 0);
    text = slurp_stream(log);
    /* the first step, every 10 %, and the closing line: short logs */
    CHECK(text && count(text, "\n") == 12);
    CHECK(text && count(text, "train") == 12 && !strchr(text, '\r') && !strchr(text, '['));
    CHECK(text && strncmp(text, "train   0% 1/1000  epoch 0 loss 1.00  0:00, eta ", 48) == 0);
    CHECK(text && strstr(text, "train  50% 500/1000  epoch 5 loss 0.00"));
    last = text ? strstr(text, "1000/1000  epoch 10 loss 0.00  done in ") : NULL;
    CHECK(last && strchr(last, '\n') == strrchr(text, '\n'));
    free(text);
    fclose(log);
}

static void test_progress_unknown_total_and_tty(void)
{
    report_progress bar;
    FILE *log = tmpfile();
    char *text;
    CHECK(log != NULL);
    if (!log) return;
    report_progress_begin(&bar, "load", 0); /* no total: no percentage, no division by it */
    bar.out = log;
    bar.tty = 0;
    report_progress_update(&bar, 1, "%s", "");
    report_progress_update(&bar, -5, NULL);
    report_progress_update(&bar, 3, "files %d", 3);
    report_progress_end(&bar);
    report_progress_begin(&bar, "tty", 4); /* a terminal: one line redrawn, closed by a newline */
    bar.out = log;
    bar.tty = 1;
    report_progress_update(&bar, 1, "a long field text");
    report_progress_update(&bar, 9, "short"); /* past the end: shown as 4/4 */
    report_progress_end(&bar);
    text = slurp_stream(log);
    CHECK(text && strncmp(text, "load step 1  0:00\n", 18) == 0);
    CHECK(text && strstr(text, "load step 3  files 3  done in 0:"));
    CHECK(text && count(text, "\r") == 3 && strstr(text, "\rtty 100% [####################] 4/4  short"));
    CHECK(text && text[strlen(text) - 1] == '\n');
    free(text);
    fclose(log);
}

int main(void)
{
    int i;
    if (!temp_dir_new(test_dir, sizeof test_dir, "relunet_test_report")) return 1;
    RUN(test_checker_catches_errors);
    RUN(test_nice_ticks);
    RUN(test_axis_range);
    RUN(test_mkdir_p);
    RUN(test_files_appear_whole);
    RUN(test_csv);
    RUN(test_csv_series_and_errors);
    RUN(test_line_chart);
    RUN(test_constant_and_empty_charts);
    RUN(test_scatter_skips_nonfinite);
    RUN(test_histogram);
    RUN(test_histogram_side_by_side);
    RUN(test_coinciding_series);
    RUN(test_one_point_series);
    RUN(test_tick_labels_over_tiny_ranges);
    RUN(test_images);
    RUN(test_colormap);
    RUN(test_heatmap);
    RUN(test_write_errors);
    RUN(test_markdown);
    RUN(test_progress_plain_lines);
    RUN(test_progress_unknown_total_and_tty);
    if (getenv("RELUNET_KEEP_TEST_OUTPUT")) {
        fprintf(stderr, "output kept in %s\n", test_dir);
    } else {
        for (i = n_created - 1; i >= 0; i--) /* files and folders, newest first */
            if (remove(created[i]) != 0) temp_rmdir(created[i]);
        temp_rmdir(test_dir);
    }
    return finish();
}
