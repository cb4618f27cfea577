/* report.h - what the relunet examples write besides numbers on stdout: a
 * progress bar on stderr, CSV files, SVG charts and Markdown tables.
 *
 * Plain C99 with libc and libm. stb-style: declarations always; the
 * definitions in the one file that defines REPORT_IMPLEMENTATION first.
 *
 *     #define _POSIX_C_SOURCE 200809L   // optional: monotonic clock for the ETA
 *     #define REPORT_IMPLEMENTATION
 *     #include "report.h"
 *
 *     report_progress bar;
 *     report_progress_begin(&bar, "train", steps);
 *     for (step = 1; step <= steps; step++) {
 *         ... train one batch ...
 *         report_progress_update(&bar, step, "loss %.4f  %.0f img/s",
 *                                loss, report_progress_rate(&bar, step * 64.0));
 *     }
 *     report_progress_end(&bar);
 *
 *     report_mkdir_p("results/sweep");
 *     report_series s[2] = {{"train", NULL, train_loss, n}, {"test", NULL, test_loss, n}};
 *     report_chart c = {"Loss", "epoch", "cross-entropy"};  // other fields 0: automatic
 *     report_svg_line("results/sweep", "loss.svg", &c, s, 2);
 *     report_csv_series("results/sweep", "loss.csv", s, 2);
 *     md = report_fopen("results/sweep", "REPORT.md", "wb");
 *     report_md_image(md, "Loss per epoch", "loss.svg");
 *
 * Files are named by a folder and a name in it (folder NULL or "" means the
 * current one), so REPORT.md can embed the charts by their bare names.
 * Functions that write files return 0 on success and -1 when the file could
 * not be opened or written; nothing here aborts. Non-finite data (NaN, Inf)
 * is left out of charts; an axis over constant data still gets a range.
 */
#ifndef RELUNET_REPORT_H
#define RELUNET_REPORT_H

#include <stdio.h>

#ifndef REPORT_API
#define REPORT_API extern
#endif

#if defined(__GNUC__) || defined(__clang__)
#define REPORT_PRINTF(format_arg, first_arg) __attribute__((format(printf, format_arg, first_arg)))
#else
#define REPORT_PRINTF(format_arg, first_arg)
#endif

/* ---- files -------------------------------------------------------------- */

/* Creates path and its missing parents (like mkdir -p); 0 when it is a folder afterwards. */
REPORT_API int report_mkdir_p(const char *path);
/* Readies the output folder of a run before any work: creates it, checks
   that it takes a file, and removes the REPORT.md of an earlier run, which
   would otherwise sit beside CSV files it does not describe. 0, or -1 with
   errno saying why. */
REPORT_API int report_output_folder(const char *dir);
/* fopen(dir "/" name, mode); NULL on failure (errno says why). Reports use
   "wb", so their bytes (LF line ends) are the same on every system. A file
   opened for writing ("w", "wb") is written under the name + ".tmp" and
   becomes dir/name only in report_fclose, so a folder never holds a
   half-written file, whatever interrupts the program (a device or pipe is
   written in place). */
REPORT_API FILE *report_fopen(const char *dir, const char *name, const char *mode);
/* Closes a file from report_fopen; one opened for writing is renamed into
   place when every write succeeded and removed otherwise. 0 on success. */
REPORT_API int report_fclose(FILE *f);
/* Closes a file from report_fopen without putting it in place: one opened
   for writing is removed (say, the log of a training that stopped early). */
REPORT_API void report_fdiscard(FILE *f);

/* ---- progress bar on stderr --------------------------------------------- */

typedef struct report_progress {
    const char *label;
    long total;            /* steps; <= 0 when unknown (no percentage, no ETA) */
    FILE *out;             /* stderr */
    int tty;               /* 1: redraw one line with \r; 0: print whole lines */
    double plain_percent;  /* without a tty: a line every this many percent (10) */
    double plain_seconds;  /* ... or when this many seconds have passed (60) */
    /* internal */
    double start, last_time, last_percent;
    long last_step;
    int last_width, lines;
    char fields[160];
} report_progress;

/* Seconds from an arbitrary fixed point: monotonic when the platform has it. */
REPORT_API double report_seconds(void);
REPORT_API void report_progress_begin(report_progress *p, const char *label, long total);
/* Reports step (1..total) done; fields is a printf format for extra fields ("" for none). */
REPORT_API void report_progress_update(report_progress *p, long step, const char *fields, ...)
    REPORT_PRINTF(3, 4);
/* items per second since begin; 0 before any time has passed. */
REPORT_API double report_progress_rate(const report_progress *p, double items);
/* Final line: steps, time taken and the last fields. */
REPORT_API void report_progress_end(report_progress *p);

/* ---- CSV ------------------------------------------------------------------ */

typedef struct report_csv {
    FILE *file;
    int columns, column;   /* a row ends by itself after `columns` cells */
} report_csv;

REPORT_API int report_csv_open(report_csv *csv, const char *dir, const char *name,
                               const char *const *header, int columns);
REPORT_API void report_csv_num(report_csv *csv, double value);   /* %.9g; nan, inf, -inf */
REPORT_API void report_csv_int(report_csv *csv, long value);
REPORT_API void report_csv_str(report_csv *csv, const char *text); /* quoted when needed */
REPORT_API int report_csv_close(report_csv *csv);

/* ---- charts --------------------------------------------------------------- */

/* One named series; x NULL means 0, 1, 2, ...; a histogram bins the y values. */
typedef struct report_series {
    const char *name;
    const double *x, *y;
    int n;
} report_series;

/* Labels and size; a range is used when min < max and chosen from the data otherwise. */
typedef struct report_chart {
    const char *title, *x_label, *y_label;
    int width, height;           /* pixels of the plot with its axes; 0: 640 x 400 */
    double x_min, x_max, y_min, y_max;
} report_chart;

/* A grayscale (channels 1) or RGB (channels 3, CHW) image; shown normalised to its own min/max. */
typedef struct report_image {
    const float *pixels;
    int channels, height, width;
    const char *caption;         /* NULL for none */
} report_image;

enum { REPORT_VIRIDIS, REPORT_DIVERGING };  /* colour maps: sequential; blue-white-red */

/* values[row * columns + column]; row 0 lies at chart y_min, column 0 at x_min. */
typedef struct report_heatmap {
    const float *values;
    int rows, columns;
    int colormap;
    double value_min, value_max; /* colour range; automatic unless min < max */
    const char *value_label;     /* beside the colour bar */
} report_heatmap;

/* Points drawn over a heat map, coloured by class label (0, 1, ...). */
typedef struct report_points {
    const double *x, *y;
    const int *label;
    int n;
    const char *const *class_names; /* NULL: "class 0", "class 1", ... */
    int n_classes;                  /* 0: largest label + 1 */
} report_points;

/* A series that coincides point for point with an earlier one (equal, or
   within a pixel everywhere) is drawn over it dashed (lines) or as rings
   around its dots (scatter), so both show, and its legend entry says
   "(= earlier)", or with U+2248 (almost equal to) for "within a pixel". A
   line chart's series of one point is a marker, its value in the legend:
   "(one point: 0.123)". */
REPORT_API int report_svg_line(const char *dir, const char *name, const report_chart *chart,
                               const report_series *series, int n_series);
REPORT_API int report_svg_scatter(const char *dir, const char *name, const report_chart *chart,
                                  const report_series *series, int n_series);
/* bins equal bins over [x_min, x_max] (values outside are not counted); the
   series' bars stand side by side in each bin, opaque. */
REPORT_API int report_svg_histogram(const char *dir, const char *name, const report_chart *chart,
                                    const report_series *series, int n_series, int bins);
/* columns <= 0: about square. */
REPORT_API int report_svg_images(const char *dir, const char *name, const char *title,
                                 const report_image *images, int n_images, int columns);
/* The grid covers the chart's x and y ranges; points may be NULL. */
REPORT_API int report_svg_heatmap(const char *dir, const char *name, const report_chart *chart,
                                  const report_heatmap *map, const report_points *points);
/* Every point of every series as rows "series,x,y". */
REPORT_API int report_csv_series(const char *dir, const char *name,
                                 const report_series *series, int n_series);

/* Colour of t in [0,1] (clamped) in a colour map. */
REPORT_API void report_colormap(int colormap, double t, unsigned char rgb[3]);
/* The smallest 1, 2 or 5 x 10^k step that cuts [lo,hi] into at most max_intervals
 * steps between multiples of it; 0 for an empty or non-finite range. */
REPORT_API double report_nice_step(double lo, double hi, int max_intervals);
/* The multiples of that step inside [lo,hi]; returns how many were stored. */
REPORT_API int report_nice_ticks(double lo, double hi, int max_intervals, double *ticks, int capacity);

/* ---- Markdown ------------------------------------------------------------- */

REPORT_API void report_md_header(FILE *md, const char *const *cells, int n); /* row + rule */
REPORT_API void report_md_row(FILE *md, const char *const *cells, int n);
/* | label | values[0] | ... | with precision decimals; NaN shows as n/a. */
REPORT_API void report_md_row_numbers(FILE *md, const char *label, const double *values, int n,
                                      int precision);
REPORT_API void report_md_image(FILE *md, const char *caption, const char *file);

#endif /* RELUNET_REPORT_H */

/* ========================================================================== */
#ifdef REPORT_IMPLEMENTATION
#ifndef REPORT_IMPLEMENTATION_DONE
#define REPORT_IMPLEMENTATION_DONE

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#if defined(_WIN32)
#include <direct.h>
#elif defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__))
#include <unistd.h>
#endif

/* v - v is 0 only for finite v; avoids isfinite(), which some compilers lack. */
static int report__finite(double v) { return v == v && v - v == 0; }

/* A series' x: its own, or the point's index. */
static double report__x(const report_series *s, int i) { return s->x ? s->x[i] : (double)i; }

/* ---- files ---------------------------------------------------------------- */

static int report__is_dir(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return 0;
#ifdef S_ISDIR
    return S_ISDIR(st.st_mode);
#else
    return (st.st_mode & _S_IFDIR) != 0;
#endif
}

/* Something that is there but not a plain file (a device such as /dev/null,
   a pipe): written in place, since renaming onto it would replace it. */
static int report__is_special(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return 0;
#ifdef S_ISREG
    return !S_ISREG(st.st_mode);
#else
    return (st.st_mode & _S_IFREG) == 0;
#endif
}

static int report__mkdir(const char *path)
{
#if defined(_WIN32)
    return _mkdir(path);
#else
    return mkdir(path, 0777);
#endif
}

static int report__is_separator(char c)
{
#if defined(_WIN32)
    if (c == '\\') return 1;
#endif
    return c == '/';
}

REPORT_API int report_mkdir_p(const char *path)
{
    size_t i, n;
    char *buffer;
    int status = 0;
    if (!path || !*path) return -1;
    n = strlen(path);
    buffer = (char *)malloc(n + 1);
    if (!buffer) return -1;
    memcpy(buffer, path, n + 1);
    /* Each prefix ending before a separator, then the whole path unless it
       ends in one. A failed mkdir is fine when a folder is there (EEXIST, or
       EACCES on some systems). Windows' stat fails on a trailing separator
       and on a bare drive ("C:"), so neither is asked about. */
    for (i = 1; i <= n && status == 0; i++) {
        if (report__is_separator(buffer[i - 1]) || buffer[i - 1] == ':') continue;
        if (i == n || report__is_separator(buffer[i])) {
            char kept = buffer[i];
            buffer[i] = '\0';
            if (report__mkdir(buffer) != 0 && !report__is_dir(buffer)) status = -1;
            buffer[i] = kept;
        }
    }
    free(buffer);
    return status;
}

/* The files report_fopen has open for writing: where each goes when done. */
enum { REPORT__MAX_OPEN = 64 };
static struct report__pending {
    FILE *file;
    char *path; /* the final name; the file is path + ".tmp" until then */
} report__open_files[REPORT__MAX_OPEN];

/* dir "/" name [suffix] in a new string, or NULL. */
static char *report__join(const char *dir, const char *name, const char *suffix)
{
    size_t dn = dir ? strlen(dir) : 0, nn = strlen(name), sn = strlen(suffix);
    char *path = (char *)malloc(dn + nn + sn + 2);
    if (!path) return NULL;
    memcpy(path, dir ? dir : "", dn);
    if (dn > 0 && !report__is_separator(dir[dn - 1])) path[dn++] = '/';
    memcpy(path + dn, name, nn);
    memcpy(path + dn + nn, suffix, sn + 1);
    return path;
}

REPORT_API FILE *report_fopen(const char *dir, const char *name, const char *mode)
{
    int writing = mode && mode[0] == 'w', slot = 0;
    char *path, *temp;
    FILE *f;
    if (!name || !*name || !mode) return NULL;
    path = report__join(dir, name, "");
    if (path && report__is_special(path)) writing = 0;
    free(path);
    if (!writing) {
        path = report__join(dir, name, "");
        f = path ? fopen(path, mode) : NULL;
        free(path);
        return f;
    }
    while (slot < REPORT__MAX_OPEN && report__open_files[slot].file) slot++;
    if (slot == REPORT__MAX_OPEN) return NULL;
    path = report__join(dir, name, "");
    temp = report__join(dir, name, ".tmp");
    f = path && temp ? fopen(temp, mode) : NULL;
    free(temp);
    if (!f) {
        free(path);
        return NULL;
    }
    report__open_files[slot].file = f;
    report__open_files[slot].path = path;
    return f;
}

/* report_fclose when keep is set, else report_fdiscard. */
static int report__close(FILE *f, int keep)
{
    int bad, slot = 0;
    char *temp = NULL, *path = NULL;
    if (!f) return -1;
    while (slot < REPORT__MAX_OPEN && report__open_files[slot].file != f) slot++;
    if (slot < REPORT__MAX_OPEN) {
        path = report__open_files[slot].path;
        report__open_files[slot].file = NULL;
        report__open_files[slot].path = NULL;
        temp = report__join(NULL, path, ".tmp");
    }
    bad = ferror(f) || !keep;
    if (fclose(f) != 0) bad = 1;
#if defined(_WIN32)
    /* Windows' rename does not replace a file; removing it first gives up
       atomicity there (MoveFileEx would keep it, but needs windows.h). */
    if (path && temp && !bad) remove(path);
#endif
    if (path && (!temp || bad || rename(temp, path) != 0)) bad = 1;
    if (temp && bad) remove(temp);
    free(temp);
    free(path);
    return bad ? -1 : 0;
}

REPORT_API int report_fclose(FILE *f) { return report__close(f, 1); }

REPORT_API void report_fdiscard(FILE *f) { report__close(f, 0); }

REPORT_API int report_output_folder(const char *dir)
{
    char *path;
    FILE *probe;
    int status;
    if (report_mkdir_p(dir) != 0) return -1;
    path = report__join(dir, "REPORT.md", ".tmp");
    if (!path) return -1;
    probe = fopen(path, "w");
    status = probe ? 0 : -1;
    if (probe) {
        fclose(probe);
        remove(path);
        path[strlen(path) - 4] = '\0';
        remove(path); /* absent is fine */
    }
    free(path);
    return status;
}

/* ---- progress bar ------------------------------------------------------- */

REPORT_API double report_seconds(void)
{
#if defined(_WIN32)
    /* Windows' clock() counts wall time since the process started (not CPU
       time, as elsewhere); MinGW's clock_gettime would need winpthread. */
    return (double)clock() / CLOCKS_PER_SEC;
#else
#if defined(CLOCK_MONOTONIC)
    /* time.h declares clock_gettime exactly when it defines CLOCK_MONOTONIC
       (POSIX, e.g. with _POSIX_C_SOURCE >= 199309L). */
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0) return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
#endif
    return (double)time(NULL);
#endif
}

REPORT_API void report_progress_begin(report_progress *p, const char *label, long total)
{
    memset(p, 0, sizeof *p);
    p->label = label ? label : "";
    p->total = total;
    p->out = stderr;
#if defined(_POSIX_VERSION)
    p->tty = isatty(2);
#endif
    p->plain_percent = 10.0;
    p->plain_seconds = 60.0;
    p->start = p->last_time = report_seconds();
    p->last_percent = -1e9; /* the first update always prints a line */
}

REPORT_API double report_progress_rate(const report_progress *p, double items)
{
    double elapsed = report_seconds() - p->start;
    return elapsed > 0 ? items / elapsed : 0.0;
}

/* h:mm:ss or m:ss; negative means unknown. */
static void report__duration(char *text, size_t size, double seconds)
{
    long s;
    if (!(seconds >= 0) || seconds > 1e8) { snprintf(text, size, "?"); return; }
    s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(text, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(text, size, "%ld:%02ld", s / 60, s % 60);
}

static void report__progress_line(report_progress *p, long step, double now, const char *status)
{
    char line[400], elapsed[32], eta[32];
    int n = 0, width;
    double seconds = now - p->start;
    report__duration(elapsed, sizeof elapsed, seconds);
    report__duration(eta, sizeof eta,
                     p->total > 0 && step > 0 ? seconds * (double)(p->total - step) / (double)step : -1);
    if (p->total > 0) {
        double fraction = (double)step / (double)p->total;
        n = snprintf(line, sizeof line, "%s %3.0f%% ", p->label, 100.0 * fraction);
        if (p->tty) { /* the bar only where it redraws; in logs it is noise */
            int i, filled = (int)(fraction * 20.0);
            line[n++] = '[';
            for (i = 0; i < 20; i++) line[n++] = i < filled ? '#' : '.';
            line[n++] = ']';
            line[n++] = ' ';
        }
        n += snprintf(line + n, sizeof line - (size_t)n, "%ld/%ld", step, p->total);
    } else {
        n = snprintf(line, sizeof line, "%s step %ld", p->label, step);
    }
    if (p->fields[0]) n += snprintf(line + n, sizeof line - (size_t)n, "  %s", p->fields);
    if (n >= (int)sizeof line) n = (int)sizeof line - 1;
    if (status) snprintf(line + n, sizeof line - (size_t)n, "  %s %s", status, elapsed);
    else if (p->total > 0) snprintf(line + n, sizeof line - (size_t)n, "  %s, eta %s", elapsed, eta);
    else snprintf(line + n, sizeof line - (size_t)n, "  %s", elapsed);
    width = (int)strlen(line);
    if (p->tty) /* blank what is left of a longer previous line */
        fprintf(p->out, "\r%s%*s", line, p->last_width > width ? p->last_width - width : 0, "");
    else
        fprintf(p->out, "%s\n", line);
    fflush(p->out);
    p->last_width = width;
    p->last_time = now;
    p->lines++;
}

REPORT_API void report_progress_update(report_progress *p, long step, const char *fields, ...)
{
    double now = report_seconds(), percent;
    int finished = p->total > 0 && step >= p->total, due;
    if (fields) {
        va_list args;
        va_start(args, fields);
        vsnprintf(p->fields, sizeof p->fields, fields, args);
        va_end(args);
    } else {
        p->fields[0] = '\0';
    }
    if (step < 0) step = 0;
    if (p->total > 0 && step > p->total) step = p->total;
    percent = p->total > 0 ? 100.0 * (double)step / (double)p->total : 0.0;
    if (p->tty) /* ten redraws a second are plenty and keep slow terminals fast */
        due = finished || now - p->last_time >= 0.1 || p->lines == 0;
    else
        due = (finished && p->last_step != step) || now - p->last_time >= p->plain_seconds ||
              (p->total > 0 && percent >= p->last_percent + p->plain_percent) || p->lines == 0;
    p->last_step = step;
    if (!due) return;
    if (!p->tty && p->plain_percent > 0)
        p->last_percent = floor(percent / p->plain_percent) * p->plain_percent;
    report__progress_line(p, step, now, NULL);
}

REPORT_API void report_progress_end(report_progress *p)
{
    report__progress_line(p, p->last_step, report_seconds(), "done in");
    if (p->tty) fputc('\n', p->out);
    fflush(p->out);
}

/* ---- CSV ------------------------------------------------------------------ */

REPORT_API int report_csv_open(report_csv *csv, const char *dir, const char *name,
                               const char *const *header, int columns)
{
    int i;
    csv->columns = columns > 0 ? columns : 1;
    csv->column = 0;
    csv->file = report_fopen(dir, name, "wb");
    if (!csv->file) return -1;
    for (i = 0; header && i < columns; i++) report_csv_str(csv, header[i]);
    return 0;
}

/* Separator before a cell; the row break comes after the last column. */
static void report__csv_cell(report_csv *csv, const char *text)
{
    if (!csv->file) return;
    if (csv->column > 0) fputc(',', csv->file);
    fputs(text, csv->file);
    if (++csv->column == csv->columns) {
        fputc('\n', csv->file);
        csv->column = 0;
    }
}

REPORT_API void report_csv_num(report_csv *csv, double value)
{
    char text[40];
    if (value != value) strcpy(text, "nan"); /* printf may say -nan or NAN */
    else if (!report__finite(value)) strcpy(text, value > 0 ? "inf" : "-inf");
    else snprintf(text, sizeof text, "%.9g", value);
    report__csv_cell(csv, text);
}

REPORT_API void report_csv_int(report_csv *csv, long value)
{
    char text[32];
    snprintf(text, sizeof text, "%ld", value);
    report__csv_cell(csv, text);
}

REPORT_API void report_csv_str(report_csv *csv, const char *text)
{
    size_t n;
    char *quoted, *q;
    if (!text) text = "";
    n = strlen(text);
    /* RFC 4180: quote cells with separators, quotes, line breaks or edge spaces. */
    if (!strpbrk(text, ",\"\r\n") && !(n > 0 && (text[0] == ' ' || text[n - 1] == ' '))) {
        report__csv_cell(csv, text);
        return;
    }
    quoted = (char *)malloc(2 * n + 3);
    if (!quoted) { report__csv_cell(csv, ""); return; }
    q = quoted;
    *q++ = '"';
    for (; *text; text++) {
        if (*text == '"') *q++ = '"';
        *q++ = *text;
    }
    *q++ = '"';
    *q = '\0';
    report__csv_cell(csv, quoted);
    free(quoted);
}

REPORT_API int report_csv_close(report_csv *csv)
{
    FILE *f = csv->file;
    if (f && csv->column != 0) fputc('\n', f); /* finish a short last row */
    csv->file = NULL;
    return report_fclose(f);
}

REPORT_API int report_csv_series(const char *dir, const char *name,
                                 const report_series *series, int n_series)
{
    static const char *const header[3] = {"series", "x", "y"};
    report_csv csv;
    int s, i;
    if (report_csv_open(&csv, dir, name, header, 3) != 0) return -1;
    for (s = 0; s < n_series; s++) {
        for (i = 0; i < series[s].n; i++) {
            report_csv_str(&csv, series[s].name);
            report_csv_num(&csv, report__x(&series[s], i));
            report_csv_num(&csv, series[s].y[i]);
        }
    }
    return report_csv_close(&csv);
}

/* ---- numbers for axes ----------------------------------------------------- */

REPORT_API double report_nice_step(double lo, double hi, int max_intervals)
{
    static const double multiples[5] = {1, 2, 5, 10, 20};
    double magnitude;
    int i;
    if (!report__finite(lo) || !report__finite(hi) || !report__finite(hi - lo) || !(hi > lo))
        return 0.0;
    if (max_intervals < 1) max_intervals = 1;
    magnitude = pow(10.0, floor(log10((hi - lo) / max_intervals)));
    for (i = 0; i < 5; i++) {
        double step = magnitude * multiples[i];
        /* count whole steps from the multiple at or below lo to the one at or above hi;
           the 1e-9 keeps 1/0.2 = 5.000000001 from counting as 6 */
        if (ceil(hi / step - 1e-9) - floor(lo / step + 1e-9) <= max_intervals) return step;
    }
    return magnitude * 50;
}

REPORT_API int report_nice_ticks(double lo, double hi, int max_intervals, double *ticks, int capacity)
{
    double step = report_nice_step(lo, hi, max_intervals), k, last;
    int n = 0;
    if (step <= 0) return 0;
    last = floor(hi / step + 1e-9);
    for (k = ceil(lo / step - 1e-9); k <= last && n < capacity; k++) {
        double v = k * step;
        ticks[n++] = fabs(v) < step * 1e-9 ? 0.0 : v; /* no -0 */
    }
    return n;
}

/* A range fit for an axis: the caller's when fixed_lo < fixed_hi; else [0,1]
   without data, widened around constant data, and rounded out to whole steps
   (unless max_intervals is 0). */
static void report__axis_range(double *lo, double *hi, double fixed_lo, double fixed_hi, int max_intervals)
{
    double step;
    if (report__finite(fixed_lo) && report__finite(fixed_hi) && fixed_lo < fixed_hi) {
        *lo = fixed_lo;
        *hi = fixed_hi;
        return;
    }
    if (!(*lo <= *hi)) { *lo = 0; *hi = 1; }
    if (*lo == *hi) {
        double d = fabs(*lo) * 0.1;
        if (d == 0) d = 1;
        *lo -= d;
        *hi += d;
    }
    step = max_intervals > 0 ? report_nice_step(*lo, *hi, max_intervals) : 0;
    if (step > 0 && report__finite(floor(*lo / step) * step) && report__finite(ceil(*hi / step) * step)) {
        *lo = floor(*lo / step + 1e-9) * step;
        *hi = ceil(*hi / step - 1e-9) * step;
    }
    if (!(*hi > *lo)) { *lo = -1; *hi = 1; } /* data near the limits of double */
}

/* Tick label with as many decimals as the step needs, so labels line up and
   ticks over a tiny range (1 to 1.0000001) still read differently. Very
   large and very small values take the %g form with the significant digits
   from the value's first down to the step's. */
static void report__tick_label(char *text, size_t size, double value, double step)
{
    double a = fabs(value);
    int step_exponent = step > 0 ? (int)floor(log10(step) + 1e-9) : 0;
    int decimals = step_exponent >= 0 ? 0 : -step_exponent > 17 ? 17 : -step_exponent;
    if (a >= 1e6 || (a != 0 ? a < 1e-4 : decimals > 6)) {
        int digits = (a > 0 ? (int)floor(log10(a) + 1e-9) : step_exponent) - step_exponent + 1;
        snprintf(text, size, "%.*g", digits < 3 ? 3 : digits > 17 ? 17 : digits, value);
    } else {
        snprintf(text, size, "%.*f", decimals, value);
    }
}

/* ---- SVG building blocks ---------------------------------------------- */

/* Okabe-Ito, reordered so the first colours are the most distinct on white;
   yellow comes last because thin yellow lines are hard to see. */
static const char *const report__palette[8] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                "#E69F00", "#56B4E9", "#000000", "#F0E442"};
static const char *report__colour(int i) { return report__palette[(i < 0 ? 0 : i) % 8]; }

/* Text for XML: & < > " escaped, control characters (not allowed in XML) dropped. */
static void report__xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '&') fputs("&amp;", f);
        else if (c == '<') fputs("&lt;", f);
        else if (c == '>') fputs("&gt;", f);
        else if (c == '"') fputs("&quot;", f);
        else if (c >= 0x20 || c == '\t' || c == '\n') fputc(c, f);
    }
}

/* Estimated width of text in pixels: sans-serif averages about 0.6 em a character. */
static double report__text_width(const char *s, double font_size)
{
    int n = 0;
    for (; s && *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80; /* UTF-8 characters */
    return n * font_size * 0.6;
}

/* <text> at (x,y); anchor start/middle/end; rotate -90 for a y label. */
static void report__text(FILE *f, double x, double y, const char *anchor, double size, const char *extra,
                         const char *s)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%g\"%s>", x, y, anchor, size,
            extra ? extra : "");
    report__xml_text(f, s);
    fputs("</text>\n", f);
}

static FILE *report__svg_open(const char *dir, const char *name, double width, double height)
{
    FILE *f = report_fopen(dir, name, "wb");
    if (!f) return NULL;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"Helvetica, Arial, sans-serif\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            width, height, width, height);
    return f;
}

static int report__svg_close(FILE *f)
{
    fputs("</svg>\n", f);
    return report_fclose(f);
}

/* Rectangles of pixel cells, with runs of one colour in a row merged into one
   rectangle: decision landscapes and saturated images shrink a lot. */
typedef struct report__cells {
    FILE *f;
    double y, height, run_x, run_end;
    long colour; /* 0xRRGGBB of the open run, -1 for none */
} report__cells;

static void report__cells_flush(report__cells *c)
{
    if (c->colour >= 0)
        fprintf(c->f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#%06lx\"/>\n",
                c->run_x, c->y, c->run_end - c->run_x, c->height, c->colour);
    c->colour = -1;
}

static void report__cells_init(report__cells *c, FILE *f)
{
    memset(c, 0, sizeof *c);
    c->f = f;
    c->colour = -1;
}

/* Adds the cell [x, x+width) of the current row; colour -1 leaves it empty. */
static void report__cell(report__cells *c, double x, double width, long colour)
{
    if (colour != c->colour || x > c->run_end + 1e-6) {
        report__cells_flush(c);
        c->run_x = x;
    }
    c->colour = colour;
    c->run_end = x + width;
}

static long report__rgb(const unsigned char rgb[3]) { return (long)rgb[0] << 16 | (long)rgb[1] << 8 | rgb[2]; }

/* ---- plot frame shared by every chart ------------------------------------- */

#define REPORT__MAX_TICKS 24

typedef struct report__plot {
    FILE *f;
    double x_lo, x_hi, y_lo, y_hi; /* data ranges shown */
    double left, top, width, height; /* plot box in pixels */
    double side_x;                  /* left edge of the area right of the plot */
    int x_intervals, y_intervals;
    int legend_items;
} report__plot;

static int report__intervals(double pixels, double per_interval)
{
    int n = (int)(pixels / per_interval);
    return n < 2 ? 2 : n > 10 ? 10 : n;
}

/* Sizes and tick density from the chart; call before the axis ranges are chosen. */
static void report__plot_init(report__plot *p, const report_chart *c)
{
    memset(p, 0, sizeof *p);
    p->width = c->width > 0 ? c->width : 640;
    p->height = c->height > 0 ? c->height : 400;
    p->x_intervals = report__intervals(p->width, 100);
    p->y_intervals = report__intervals(p->height, 50);
}

static double report__px(const report__plot *p, double x)
{
    double v = p->left + (x - p->x_lo) / (p->x_hi - p->x_lo) * p->width;
    return v < -1e5 ? -1e5 : v > 1e5 ? 1e5 : v; /* far-off points stay printable */
}

static double report__py(const report__plot *p, double y)
{
    double v = p->top + (p->y_hi - y) / (p->y_hi - p->y_lo) * p->height;
    return v < -1e5 ? -1e5 : v > 1e5 ? 1e5 : v;
}

/* Opens the file and draws title, grid, ticks, tick labels, axis labels and the
   frame, sizing the margins to the labels; side_width pixels are kept free on
   the right for a legend or colour bar. Data drawn next is clipped to the box. */
static int report__plot_open(report__plot *p, const report_chart *c, const char *dir, const char *name,
                             double side_width)
{
    double xt[REPORT__MAX_TICKS], yt[REPORT__MAX_TICKS], label_width = 0, bottom, total_width;
    double x_step = report_nice_step(p->x_lo, p->x_hi, p->x_intervals);
    double y_step = report_nice_step(p->y_lo, p->y_hi, p->y_intervals);
    int nx = report_nice_ticks(p->x_lo, p->x_hi, p->x_intervals, xt, REPORT__MAX_TICKS);
    int ny = report_nice_ticks(p->y_lo, p->y_hi, p->y_intervals, yt, REPORT__MAX_TICKS);
    int i;
    char text[48];
    FILE *f;
    for (i = 0; i < ny; i++) {
        double w;
        report__tick_label(text, sizeof text, yt[i], y_step);
        w = report__text_width(text, 11);
        if (w > label_width) label_width = w;
    }
    p->left = (c->y_label && *c->y_label ? 26 : 8) + label_width + 8;
    p->top = c->title && *c->title ? 36 : 14;
    bottom = 24 + (c->x_label && *c->x_label ? 20 : 0);
    total_width = p->left + p->width + 16 + side_width;
    p->side_x = p->left + p->width + 16;
    f = p->f = report__svg_open(dir, name, total_width, p->top + p->height + bottom);
    if (!f) return -1;
    if (c->title && *c->title)
        report__text(f, p->left + p->width / 2, 22, "middle", 15, " font-weight=\"bold\"", c->title);
    fputs("<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n", f);
    for (i = 0; i < nx; i++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", report__px(p, xt[i]), p->top,
                report__px(p, xt[i]), p->top + p->height);
    for (i = 0; i < ny; i++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", p->left, report__py(p, yt[i]),
                p->left + p->width, report__py(p, yt[i]));
    fputs("</g>\n<g fill=\"#333\">\n", f);
    for (i = 0; i < nx; i++) {
        report__tick_label(text, sizeof text, xt[i], x_step);
        report__text(f, report__px(p, xt[i]), p->top + p->height + 16, "middle", 11, NULL, text);
    }
    for (i = 0; i < ny; i++) {
        report__tick_label(text, sizeof text, yt[i], y_step);
        report__text(f, p->left - 6, report__py(p, yt[i]) + 4, "end", 11, NULL, text);
    }
    if (c->x_label && *c->x_label)
        report__text(f, p->left + p->width / 2, p->top + p->height + 38, "middle", 12, NULL, c->x_label);
    if (c->y_label && *c->y_label) {
        double x = 16, y = p->top + p->height / 2;
        char rotate[64];
        snprintf(rotate, sizeof rotate, " transform=\"rotate(-90 %.1f %.1f)\"", x, y);
        report__text(f, x, y, "middle", 12, rotate, c->y_label);
    }
    /* the clip leaves room for markers on the frame, where rounded-out ranges put extremes */
    fprintf(f, "</g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"#555\"/>\n<clipPath id=\"plot\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
               "height=\"%.1f\"/></clipPath>\n<g clip-path=\"url(#plot)\">\n",
            p->left, p->top, p->width, p->height, p->left - 5, p->top - 5, p->width + 10, p->height + 10);
    return 0;
}

/* Ends the clipped data group. */
static void report__plot_data_end(report__plot *p) { fputs("</g>\n", p->f); }

enum { REPORT__KEY_LINE, REPORT__KEY_DOT, REPORT__KEY_BOX };

#define REPORT__DOT_RADIUS 3.5    /* a scatter chart's points */
#define REPORT__LONE_RADIUS 2.5   /* a line's point with no neighbour to join */
#define REPORT__MARKER_RADIUS 5.0 /* a line chart's series of one point */

static int report__point_ok(const report_series *s, int i)
{
    return i >= 0 && i < s->n && report__finite(report__x(s, i)) && report__finite(s->y[i]);
}

/* How a series is drawn so that no other hides it. A series that coincides
   point for point with an earlier one (its leader) is drawn over it as one of
   the group's members: lines dashed so that each member shows in turn along
   the path and the leader in the gaps, points as rings around the leader's
   dots. Its legend entry names the leader. */
typedef struct report__look {
    int leader;  /* the series it coincides with; its own index when none */
    int member;  /* 0 for a leader, 1, 2, ... for the series drawn over it */
    int members; /* series in the group, the leader included */
    int equal;   /* 1: the leader's very points; 0: within a pixel of them */
} report__look;

/* Whether a and b have the same points (2), points within a pixel of each
   other's on this plot (1), or neither (0): same number of points, missing at
   the same places, at least one shown. */
static int report__coincide(const report__plot *p, const report_series *a, const report_series *b)
{
    double x_pixel = (p->x_hi - p->x_lo) / p->width, y_pixel = (p->y_hi - p->y_lo) / p->height;
    int equal = 1, shown = 0, i;
    if (a->n != b->n) return 0;
    for (i = 0; i < a->n; i++) {
        int ok = report__point_ok(a, i);
        double dx, dy;
        if (ok != report__point_ok(b, i)) return 0;
        if (!ok) continue;
        dx = fabs(report__x(a, i) - report__x(b, i));
        dy = fabs(a->y[i] - b->y[i]);
        if (!(dx <= x_pixel && dy <= y_pixel)) return 0;
        equal = equal && dx == 0 && dy == 0;
        shown = 1;
    }
    return shown ? 1 + equal : 0;
}

/* Each series joins the group of the first earlier leader it coincides with. */
static void report__find_looks(const report__plot *p, const report_series *s, int n_series, report__look *look)
{
    int k, j;
    for (k = 0; k < n_series; k++) {
        look[k].leader = k;
        look[k].member = look[k].equal = 0;
        look[k].members = 1;
        for (j = 0; j < k; j++) {
            int how;
            if (look[j].leader != j || (how = report__coincide(p, &s[j], &s[k])) == 0) continue;
            look[k].leader = j;
            look[k].member = look[j].members++;
            look[k].equal = how == 2;
            break;
        }
    }
    for (k = 0; k < n_series; k++) look[k].members = look[look[k].leader].members;
}

/* 1 when the series has exactly one point to show; *value is its y. */
static int report__one_point(const report_series *s, double *value)
{
    int i, shown = 0;
    for (i = 0; i < s->n; i++)
        if (report__point_ok(s, i)) {
            *value = s->y[i];
            shown++;
        }
    return shown == 1;
}

/* The key a series gets in the legend: a line chart's one-point series is a marker. */
static int report__series_key(const report_series *s, int key)
{
    double value;
    return key == REPORT__KEY_LINE && report__one_point(s, &value) ? REPORT__KEY_DOT : key;
}

#define REPORT__DASH 8 /* pixels of a member's turn along a shared line */

/* stroke-dasharray of series k's line: a group's members each take a turn of
   REPORT__DASH pixels in a period of that per member, the leader showing in
   the last; past the palette's 8 colours the repeated colours are dashed. */
static void report__dash(char *attribute, size_t size, int k, const report__look *look)
{
    if (look && look->member > 0)
        snprintf(attribute, size, " stroke-dasharray=\"%d %d\" stroke-dashoffset=\"%d\"", REPORT__DASH,
                 REPORT__DASH * (look->members - 1), -REPORT__DASH * (look->member - 1));
    else if (k >= 8)
        snprintf(attribute, size, " stroke-dasharray=\"6 3\"");
    else
        attribute[0] = '\0';
}

/* Fill and stroke of a marker: a dot, or a ring around the leader's for a member. */
static void report__marker_paint(FILE *f, const char *colour, int member)
{
    if (member > 0) fprintf(f, "fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"", colour);
    else fprintf(f, "fill=\"%s\" stroke=\"white\" stroke-width=\"0.6\"", colour);
}

static double report__marker_radius(double radius, int member) { return radius + 2.5 * member; }

static void report__marker(FILE *f, double x, double y, double radius, const char *colour, int member)
{
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%g\" ", x, y, report__marker_radius(radius, member));
    report__marker_paint(f, colour, member);
    fputs("/>\n", f);
}

static void report__append(char *text, size_t size, const char *format, ...) REPORT_PRINTF(3, 4);

/* Appends to the string in text, cutting what does not fit. */
static void report__append(char *text, size_t size, const char *format, ...)
{
    size_t used = strlen(text);
    va_list args;
    if (used + 1 >= size) return;
    va_start(args, format);
    vsnprintf(text + used, size - used, format, args);
    va_end(args);
}

/* Significant digits that show value to within resolution, and at least 4. */
static int report__digits(double value, double resolution)
{
    int digits = 0;
    if (value != 0 && resolution > 0) digits = (int)floor(log10(fabs(value))) - (int)floor(log10(resolution)) + 1;
    return digits < 4 ? 4 : digits > 17 ? 17 : digits;
}

/* Series k's legend text: its name, then "(= leader)" when it is drawn over
   another (U+2248 for "=" when within a pixel), and "(one point: y)" when a
   line chart shows it as a marker, y to a tenth of the y axis' step. Empty
   for an unnamed series, which gets no entry. */
static void report__legend_label(char *text, size_t size, const report__plot *p, const report_series *s, int k,
                                 const report__look *look, int key)
{
    const char *leader = look && look[k].member > 0 ? s[look[k].leader].name : NULL;
    double value, resolution = report_nice_step(p->y_lo, p->y_hi, p->y_intervals) / 10;
    text[0] = '\0';
    if (!s[k].name || !*s[k].name) return;
    report__append(text, size, "%s", s[k].name);
    if (leader && *leader) report__append(text, size, " (%s %s)", look[k].equal ? "=" : "\xE2\x89\x88", leader);
    if (key == REPORT__KEY_LINE && report__one_point(&s[k], &value))
        report__append(text, size, " (one point: %.*g)", report__digits(value, resolution), value);
}

/* Width a legend of these names needs. */
static double report__legend_width(const char *name, double width)
{
    double w = name && *name ? 28 + report__text_width(name, 12) + 8 : 0;
    return w > width ? w : width;
}

/* One more legend entry, stacked down the right of the plot; unnamed series
   get none. look (NULL for none) gives a member's dashes or ring. */
static void report__legend_item(report__plot *p, double x, const char *name, int colour, int key,
                                const report__look *look)
{
    double y = p->top + 8 + 20 * p->legend_items;
    const char *c = report__colour(colour);
    char dash[64];
    if (!name || !*name) return;
    if (key == REPORT__KEY_LINE) {
        report__dash(dash, sizeof dash, colour, look);
        fprintf(p->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"%s/>\n",
                x, y, x + 22, y, c, dash);
    } else if (key == REPORT__KEY_DOT) {
        report__marker(p->f, x + 11, y, 4, c, look ? look->member : 0);
    } else {
        fprintf(p->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"12\" fill=\"%s\"/>\n", x, y - 6, c);
    }
    report__text(p->f, x + 28, y + 4, "start", 12, " fill=\"#333\"", name);
    p->legend_items++;
}

/* Room the series' legend needs on the right of the plot. */
static double report__legend_room(const report__plot *p, const report_series *s, int n_series,
                                  const report__look *look, int key)
{
    char label[256];
    double width = 0;
    int k;
    for (k = 0; k < n_series; k++) {
        report__legend_label(label, sizeof label, p, s, k, look, key);
        width = report__legend_width(label, width);
    }
    return width;
}

static void report__legend(report__plot *p, const report_series *s, int n_series, const report__look *look, int key)
{
    char label[256];
    int k;
    for (k = 0; k < n_series; k++) {
        report__legend_label(label, sizeof label, p, s, k, look, key);
        report__legend_item(p, p->side_x, label, k, report__series_key(&s[k], key), look ? &look[k] : NULL);
    }
}

/* Finite range of the series' x (axis 0) or y (axis 1) values over points
   whose x and y are both finite; lo > hi when there are none. */
static void report__series_range(const report_series *s, int n_series, int axis, double *lo, double *hi)
{
    int k, i;
    *lo = HUGE_VAL;
    *hi = -HUGE_VAL;
    for (k = 0; k < n_series; k++) {
        for (i = 0; i < s[k].n; i++) {
            double x = report__x(&s[k], i), y = s[k].y[i], v = axis ? y : x;
            if (!report__finite(x) || !report__finite(y)) continue;
            if (v < *lo) *lo = v;
            if (v > *hi) *hi = v;
        }
    }
}

/* Axis ranges for x/y series: from the data unless the chart fixes them. */
static void report__series_ranges(report__plot *p, const report_chart *c, const report_series *s, int n_series)
{
    report__series_range(s, n_series, 0, &p->x_lo, &p->x_hi);
    report__axis_range(&p->x_lo, &p->x_hi, c->x_min, c->x_max, p->x_intervals);
    report__series_range(s, n_series, 1, &p->y_lo, &p->y_hi);
    report__axis_range(&p->y_lo, &p->y_hi, c->y_min, c->y_max, p->y_intervals);
}

/* ---- charts --------------------------------------------------------------- */

/* One path per series, broken where points are missing: a gap, not a jump.
   Points with no neighbour are dots; a series of one point is a marker. */
static void report__draw_line(report__plot *p, const report_series *s, int k, const report__look *look)
{
    const char *colour = report__colour(k);
    double last_x = 0, last_y = 0, value;
    double lone_radius = report__one_point(s, &value) ? REPORT__MARKER_RADIUS : REPORT__LONE_RADIUS;
    int pen_down = 0, started = 0, i;
    char dash[64];
    report__dash(dash, sizeof dash, k, look);
    for (i = 0; i < s->n; i++) {
        double x, y;
        if (!report__point_ok(s, i)) { pen_down = 0; continue; }
        x = report__px(p, report__x(s, i));
        y = report__py(p, s->y[i]);
        if (!report__point_ok(s, i - 1) && !report__point_ok(s, i + 1)) {
            report__marker(p->f, x, y, lone_radius, colour, look->member);
            continue;
        }
        /* points within half a pixel of the last one drawn add nothing visible */
        if (pen_down && fabs(x - last_x) < 0.5 && fabs(y - last_y) < 0.5 && report__point_ok(s, i + 1))
            continue;
        if (!started)
            fprintf(p->f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"%s d=\"",
                    colour, dash);
        fprintf(p->f, "%s%.1f %.1f", pen_down ? " L" : started ? " M" : "M", x, y);
        started = pen_down = 1;
        last_x = x;
        last_y = y;
    }
    if (started) fputs("\"/>\n", p->f);
}

static void report__draw_dots(report__plot *p, const report_series *s, int k, const report__look *look)
{
    double radius = report__marker_radius(REPORT__DOT_RADIUS, look->member);
    int i;
    fputs("<g ", p->f);
    report__marker_paint(p->f, report__colour(k), look->member);
    fputs(look->member > 0 ? ">\n" : " fill-opacity=\"0.8\">\n", p->f);
    for (i = 0; i < s->n; i++)
        if (report__point_ok(s, i))
            fprintf(p->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%g\"/>\n", report__px(p, report__x(s, i)),
                    report__py(p, s->y[i]), radius);
    fputs("</g>\n", p->f);
}

static int report__series_chart(const char *dir, const char *name, const report_chart *chart,
                                const report_series *series, int n_series, int key)
{
    report__plot p;
    report__look *look = (report__look *)calloc((size_t)(n_series > 0 ? n_series : 1), sizeof *look);
    int k, status;
    if (!look) return -1;
    report__plot_init(&p, chart);
    report__series_ranges(&p, chart, series, n_series);
    report__find_looks(&p, series, n_series, look);
    status = report__plot_open(&p, chart, dir, name, report__legend_room(&p, series, n_series, look, key));
    if (status == 0) {
        for (k = 0; k < n_series; k++) {
            if (key == REPORT__KEY_LINE) report__draw_line(&p, &series[k], k, &look[k]);
            else report__draw_dots(&p, &series[k], k, &look[k]);
        }
        report__plot_data_end(&p);
        report__legend(&p, series, n_series, look, key);
        status = report__svg_close(p.f);
    }
    free(look);
    return status;
}

REPORT_API int report_svg_line(const char *dir, const char *name, const report_chart *chart,
                               const report_series *series, int n_series)
{
    return report__series_chart(dir, name, chart, series, n_series, REPORT__KEY_LINE);
}

REPORT_API int report_svg_scatter(const char *dir, const char *name, const report_chart *chart,
                                  const report_series *series, int n_series)
{
    return report__series_chart(dir, name, chart, series, n_series, REPORT__KEY_DOT);
}

REPORT_API int report_svg_histogram(const char *dir, const char *name, const report_chart *chart,
                                    const report_series *series, int n_series, int bins)
{
    report__plot p;
    report_chart c = *chart;
    double lo, hi, width, most = 0, gap;
    long *counts;
    int k, i;
    if (bins < 1) bins = 1;
    counts = (long *)calloc((size_t)n_series * (size_t)bins + 1, sizeof *counts);
    if (!counts) return -1;
    /* bins over the x range: the data's y values are the histogram's x */
    report__plot_init(&p, chart);
    lo = HUGE_VAL;
    hi = -HUGE_VAL;
    for (k = 0; k < n_series; k++)
        for (i = 0; i < series[k].n; i++)
            if (report__finite(series[k].y[i])) {
                if (series[k].y[i] < lo) lo = series[k].y[i];
                if (series[k].y[i] > hi) hi = series[k].y[i];
            }
    report__axis_range(&lo, &hi, chart->x_min, chart->x_max, p.x_intervals);
    width = (hi - lo) / bins;
    for (k = 0; k < n_series; k++) {
        long *count = counts + (size_t)k * (size_t)bins;
        for (i = 0; i < series[k].n; i++) {
            double v = series[k].y[i];
            long b;
            if (!report__finite(v) || v < lo || v > hi) continue;
            b = (long)((v - lo) / width);
            if (b >= bins) b = bins - 1; /* hi itself belongs to the last bin */
            if ((double)++count[b] > most) most = (double)count[b];
        }
    }
    p.x_lo = lo;
    p.x_hi = hi;
    p.y_lo = 0;
    p.y_hi = most;
    report__axis_range(&p.y_lo, &p.y_hi, chart->y_min, chart->y_max, p.y_intervals);
    if (!c.y_label) c.y_label = "count";
    if (report__plot_open(&p, &c, dir, name, report__legend_room(&p, series, n_series, NULL, REPORT__KEY_BOX)) != 0) {
        free(counts);
        return -1;
    }
    /* series side by side within each bin, opaque: no mixed colour the legend
       does not show, no series behind another; a gap keeps the bins apart */
    gap = n_series > 1 ? 0.15 : 0;
    for (k = 0; k < n_series; k++) {
        const long *count = counts + (size_t)k * (size_t)bins;
        fprintf(p.f, "<g fill=\"%s\" stroke=\"white\" stroke-width=\"0.5\">\n", report__colour(k));
        for (i = 0; i < bins; i++) {
            double x0 = report__px(&p, lo + i * width), x1 = report__px(&p, lo + (i + 1) * width);
            double bar = (x1 - x0) * (1 - gap) / n_series, x = x0 + (x1 - x0) * gap / 2 + k * bar;
            double y = report__py(&p, (double)count[i]);
            if (count[i] > 0)
                fprintf(p.f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>\n", x, y, bar,
                        p.top + p.height - y);
        }
        fputs("</g>\n", p.f);
    }
    free(counts);
    report__plot_data_end(&p);
    report__legend(&p, series, n_series, NULL, REPORT__KEY_BOX);
    return report__svg_close(p.f);
}

/* ---- images and heat maps ------------------------------------------------- */

REPORT_API void report_colormap(int colormap, double t, unsigned char rgb[3])
{
    /* nine stops each: viridis, and RdBu reversed (0 blue, 0.5 white, 1 red) */
    static const unsigned char stops[2][9][3] = {
        {{68, 1, 84}, {71, 45, 123}, {59, 82, 139}, {44, 114, 142}, {33, 145, 140},
         {40, 174, 128}, {94, 201, 98}, {173, 220, 48}, {253, 231, 37}},
        {{33, 102, 172}, {67, 147, 195}, {146, 197, 222}, {209, 229, 240}, {247, 247, 247},
         {253, 219, 199}, {244, 165, 130}, {214, 96, 77}, {178, 24, 43}}};
    const unsigned char(*map)[3] = stops[colormap == REPORT_DIVERGING ? 1 : 0];
    double position;
    int i, c;
    if (!(t >= 0)) t = 0; /* also NaN */
    if (t > 1) t = 1;
    position = t * 8;
    i = (int)position;
    if (i > 7) i = 7;
    for (c = 0; c < 3; c++)
        rgb[c] = (unsigned char)(map[i][c] + (position - i) * (map[i + 1][c] - map[i][c]) + 0.5);
}

/* min/max of the finite values; lo > hi when there are none. */
static void report__float_range(const float *v, long n, double *lo, double *hi)
{
    long i;
    *lo = HUGE_VAL;
    *hi = -HUGE_VAL;
    for (i = 0; i < n; i++) {
        if (!report__finite(v[i])) continue;
        if (v[i] < *lo) *lo = v[i];
        if (v[i] > *hi) *hi = v[i];
    }
}

/* value scaled to 0..255 over [lo,hi]; a constant image comes out mid gray. */
static int report__level(double v, double lo, double hi)
{
    double t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    return (int)(255 * (t < 0 ? 0 : t > 1 ? 1 : t) + 0.5);
}

#define REPORT__IMAGE_SIZE 72.0 /* pixels the longer side of every image is shown at */

REPORT_API int report_svg_images(const char *dir, const char *name, const char *title,
                                 const report_image *images, int n_images, int columns)
{
    double cell_width = REPORT__IMAGE_SIZE, caption_height = 0, top = title && *title ? 36 : 10;
    double row_height, width;
    int i, rows;
    FILE *f;
    if (n_images < 0) n_images = 0;
    if (columns <= 0) columns = (int)ceil(sqrt((double)n_images));
    if (columns < 1) columns = 1;
    if (columns > n_images && n_images > 0) columns = n_images;
    rows = (n_images + columns - 1) / columns;
    for (i = 0; i < n_images; i++) {
        if (!images[i].caption || !*images[i].caption) continue;
        caption_height = 16;
        if (report__text_width(images[i].caption, 10) > cell_width)
            cell_width = report__text_width(images[i].caption, 10);
    }
    cell_width += 10;
    row_height = REPORT__IMAGE_SIZE + caption_height + 10;
    width = 10 + columns * cell_width;
    if (title && report__text_width(title, 15) + 20 > width) width = report__text_width(title, 15) + 20;
    f = report__svg_open(dir, name, width, top + rows * row_height + 4);
    if (!f) return -1;
    if (title && *title) report__text(f, width / 2, 22, "middle", 15, " font-weight=\"bold\"", title);
    for (i = 0; i < n_images; i++) {
        const report_image *im = &images[i];
        long plane = (long)im->height * im->width, r, col;
        double lo, hi, scale, x0, y0;
        int rgb = im->channels == 3;
        report__cells cells;
        if (!im->pixels || im->height <= 0 || im->width <= 0) continue;
        report__float_range(im->pixels, plane * (rgb ? 3 : 1), &lo, &hi);
        scale = REPORT__IMAGE_SIZE / (im->height > im->width ? im->height : im->width);
        x0 = 10 + (i % columns) * cell_width + (cell_width - 10 - im->width * scale) / 2;
        y0 = top + (i / columns) * row_height;
        /* crispEdges: no hairline seams between neighbouring cells */
        fputs("<g shape-rendering=\"crispEdges\">\n", f);
        report__cells_init(&cells, f);
        cells.height = scale;
        for (r = 0; r < im->height; r++) {
            cells.y = y0 + (double)r * scale;
            for (col = 0; col < im->width; col++) {
                const float *px = im->pixels + r * im->width + col;
                long colour = -1;
                if (rgb && report__finite(px[0]) && report__finite(px[plane]) && report__finite(px[2 * plane]))
                    colour = (long)report__level(px[0], lo, hi) << 16 | (long)report__level(px[plane], lo, hi) << 8 |
                             report__level(px[2 * plane], lo, hi);
                else if (!rgb && report__finite(px[0]))
                    colour = 0x010101L * report__level(px[0], lo, hi);
                report__cell(&cells, x0 + (double)col * scale, scale, colour);
            }
            report__cells_flush(&cells);
        }
        fprintf(f, "</g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\" "
                   "stroke-width=\"0.5\"/>\n", x0, y0, im->width * scale, im->height * scale);
        if (im->caption && *im->caption)
            report__text(f, x0 + im->width * scale / 2, y0 + im->height * scale + 12, "middle", 10,
                         " fill=\"#333\"", im->caption);
    }
    return report__svg_close(f);
}

#define REPORT__BAR_WIDTH 14.0

/* Vertical colour bar at x over the plot's height, ticks on its right. */
static void report__colour_bar(report__plot *p, double x, int colormap, double lo, double hi, const char *label)
{
    double ticks[REPORT__MAX_TICKS], step = report_nice_step(lo, hi, p->y_intervals), label_width = 0;
    int i, n = report_nice_ticks(lo, hi, p->y_intervals, ticks, REPORT__MAX_TICKS);
    char text[48];
    fputs("<g shape-rendering=\"crispEdges\">\n", p->f);
    for (i = 0; i < 64; i++) {
        unsigned char rgb[3];
        report_colormap(colormap, (i + 0.5) / 64, rgb);
        fprintf(p->f, "<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\" fill=\"#%06lx\"/>\n", x,
                p->top + p->height * (63 - i) / 64, REPORT__BAR_WIDTH, p->height / 64 + 0.3, report__rgb(rgb));
    }
    fprintf(p->f, "</g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#555\"/>\n",
            x, p->top, REPORT__BAR_WIDTH, p->height);
    for (i = 0; i < n; i++) {
        double y = p->top + (hi - ticks[i]) / (hi - lo) * p->height;
        report__tick_label(text, sizeof text, ticks[i], step);
        if (report__text_width(text, 11) > label_width) label_width = report__text_width(text, 11);
        fprintf(p->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\"/>\n",
                x + REPORT__BAR_WIDTH, y, x + REPORT__BAR_WIDTH + 4, y);
        report__text(p->f, x + REPORT__BAR_WIDTH + 6, y + 4, "start", 11, " fill=\"#333\"", text);
    }
    if (label && *label) {
        double lx = x + REPORT__BAR_WIDTH + 14 + label_width, ly = p->top + p->height / 2;
        char rotate[64];
        snprintf(rotate, sizeof rotate, " transform=\"rotate(90 %.1f %.1f)\"", lx, ly);
        report__text(p->f, lx, ly, "middle", 12, rotate, label);
    }
}

REPORT_API int report_svg_heatmap(const char *dir, const char *name, const report_chart *chart,
                                  const report_heatmap *map, const report_points *points)
{
    report__plot p;
    double lo, hi, cell_w, cell_h, bar_room, legend = 0;
    char class_name[32];
    int r, col, i, n_classes = 0;
    report__cells cells;
    report__plot_init(&p, chart);
    /* the grid fills the axes exactly; without ranges its cells are units */
    p.x_lo = p.y_lo = 0;
    p.x_hi = map->columns > 0 ? map->columns : 1;
    p.y_hi = map->rows > 0 ? map->rows : 1;
    report__axis_range(&p.x_lo, &p.x_hi, chart->x_min, chart->x_max, 0);
    report__axis_range(&p.y_lo, &p.y_hi, chart->y_min, chart->y_max, 0);
    report__float_range(map->values, map->values ? (long)map->rows * map->columns : 0, &lo, &hi);
    /* colours span the data exactly; constant or empty maps still get a bar */
    report__axis_range(&lo, &hi, map->value_min, map->value_max, 0);
    if (points && points->label) {
        n_classes = points->n_classes;
        for (i = 0; n_classes <= 0 && i < points->n; i++)
            if (points->label[i] + 1 > n_classes && points->label[i] < 8) n_classes = points->label[i] + 1;
        for (i = 0; i < n_classes && points->n > 0; i++) {
            snprintf(class_name, sizeof class_name, "class %d", i);
            legend = report__legend_width(points->class_names ? points->class_names[i] : class_name, legend);
        }
    }
    bar_room = REPORT__BAR_WIDTH + 6 + 6 * 11 * 0.6 + 24;
    if (report__plot_open(&p, chart, dir, name, bar_room + legend) != 0) return -1;
    cell_w = p.width / (map->columns > 0 ? map->columns : 1);
    cell_h = p.height / (map->rows > 0 ? map->rows : 1);
    fputs("<g shape-rendering=\"crispEdges\">\n", p.f);
    report__cells_init(&cells, p.f);
    for (r = 0; map->values && r < map->rows; r++) {
        cells.y = p.top + p.height - (r + 1) * cell_h;
        cells.height = cell_h + 0.02; /* overlap rows a little against seams */
        for (col = 0; col < map->columns; col++) {
            double v = map->values[(long)r * map->columns + col];
            unsigned char rgb[3];
            report_colormap(map->colormap, (v - lo) / (hi - lo), rgb);
            report__cell(&cells, p.left + col * cell_w, cell_w, report__finite(v) ? report__rgb(rgb) : -1);
        }
        report__cells_flush(&cells);
    }
    fputs("</g>\n", p.f);
    for (i = 0; points && points->x && points->y && i < points->n; i++) {
        int label = points->label ? points->label[i] : 0;
        if (!report__finite(points->x[i]) || !report__finite(points->y[i])) continue;
        fprintf(p.f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" stroke=\"#222\" stroke-width=\"0.8\"/>\n",
                report__px(&p, points->x[i]), report__py(&p, points->y[i]), label < 0 ? "#888" : report__colour(label));
    }
    report__plot_data_end(&p);
    report__colour_bar(&p, p.side_x, map->colormap, lo, hi, map->value_label);
    for (i = 0; i < n_classes && points && points->n > 0; i++) {
        snprintf(class_name, sizeof class_name, "class %d", i);
        report__legend_item(&p, p.side_x + bar_room, points->class_names ? points->class_names[i] : class_name, i,
                            REPORT__KEY_DOT, NULL);
    }
    return report__svg_close(p.f);
}

/* ---- Markdown ------------------------------------------------------------- */

/* A table cell: | would end the cell and a line break the table. */
static void report__md_cell(FILE *md, const char *s)
{
    fputs("| ", md);
    for (; s && *s; s++) {
        if (*s == '|') fputs("\\|", md);
        else if (*s == '\n' || *s == '\r') fputc(' ', md);
        else fputc(*s, md);
    }
    fputc(' ', md);
}

REPORT_API void report_md_row(FILE *md, const char *const *cells, int n)
{
    int i;
    for (i = 0; i < n; i++) report__md_cell(md, cells[i]);
    fputs("|\n", md);
}

REPORT_API void report_md_header(FILE *md, const char *const *cells, int n)
{
    int i;
    report_md_row(md, cells, n);
    for (i = 0; i < n; i++) fputs("| --- ", md);
    fputs("|\n", md);
}

REPORT_API void report_md_row_numbers(FILE *md, const char *label, const double *values, int n, int precision)
{
    char text[64];
    int i;
    if (precision < 0) precision = 0;
    if (precision > 17) precision = 17;
    report__md_cell(md, label);
    for (i = 0; i < n; i++) {
        if (!report__finite(values[i])) {
            snprintf(text, sizeof text, "%s", values[i] != values[i] ? "n/a" : values[i] > 0 ? "inf" : "-inf");
        } else {
            snprintf(text, sizeof text, "%.*f", precision, values[i]);
            if (text[0] == '-' && strspn(text + 1, "0.") == strlen(text + 1))
                memmove(text, text + 1, strlen(text)); /* -0.000 is just 0.000 */
        }
        report__md_cell(md, text);
    }
    fputs("|\n", md);
}

REPORT_API void report_md_image(FILE *md, const char *caption, const char *file)
{
    fputs("![", md);
    for (; caption && *caption; caption++) {
        if (*caption == '[' || *caption == ']' || *caption == '\\') fputc('\\', md);
        fputc(*caption == '\n' ? ' ' : *caption, md);
    }
    fputs("](", md);
    for (; file && *file; file++) { /* a space would end the link target */
        if (*file == ' ') fputs("%20", md);
        else fputc(*file, md);
    }
    fputs(")\n\n", md);
}

#endif /* REPORT_IMPLEMENTATION_DONE */
#endif /* REPORT_IMPLEMENTATION */
