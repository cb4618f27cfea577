/* harness.h - the smallest test harness that does the job.
 *
 * A test is a function; RUN() calls it and counts it as passed when none of
 * its CHECKs failed. A failed CHECK prints where and why, and the test goes
 * on so one run shows every failure. finish() prints the closing line
 * "N passed, N failed" and gives the process exit code.
 *
 *     static void test_sum(void) { CHECK(1 + 1 == 2); }
 *     int main(void) { RUN(test_sum); return finish(); }
 */
#ifndef RELUNET_TEST_HARNESS_H
#define RELUNET_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>

static int harness_passed, harness_failed, harness_current_failures;

#define CHECK(cond) \
    harness_check((cond) != 0, #cond, __FILE__, __LINE__)

/* Relative closeness with an absolute floor, so values near 0 compare sanely. */
#define CHECK_NEAR(a, b, tol) \
    harness_check_near((double)(a), (double)(b), (double)(tol), #a, #b, __FILE__, __LINE__)

#define RUN(test) harness_run(test, #test)

static void harness_check(int ok, const char *what, const char *file, int line)
{
    if (ok) return;
    harness_current_failures++;
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
}

static void harness_check_near(double a, double b, double tol, const char *a_text,
                               const char *b_text, const char *file, int line)
{
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    if (scale < 1.0) scale = 1.0;
    if (fabs(a - b) <= tol * scale) return;
    harness_current_failures++;
    fprintf(stderr, "%s:%d: %s = %.9g, %s = %.9g, differ by more than %g (relative)\n",
            file, line, a_text, a, b_text, b, tol);
}

static void harness_run(void (*test)(void), const char *name)
{
    harness_current_failures = 0;
    test();
    if (harness_current_failures == 0) {
        harness_passed++;
    } else {
        harness_failed++;
        fprintf(stderr, "FAIL %s\n", name);
    }
}

static int finish(void)
{
    (void)harness_check_near; /* not every test file compares numbers */
    (void)harness_run;        /* nor runs a test: test_threads without threads */
    printf("%d passed, %d failed\n", harness_passed, harness_failed);
    return harness_failed == 0 ? 0 : 1;
}

#endif
