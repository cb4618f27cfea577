/* test_readme.c - README.md is read as a new user reads it: every Markdown
 * table renders as one table (no rows stranded after a paragraph, D1), and
 * every binary its one-line build commands make is in .gitignore (D15).
 * Run from the repository's root, as make test does.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* The whole file as a string (free it); NULL when it cannot be read. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;
    char *text = NULL;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = (char *)malloc((size_t)n + 1)) != NULL)
        text[fread(text, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return text;
}

/* The next line of *text into line (without its newline); 0 at the end. */
static int next_line(const char **text, char *line, size_t size)
{
    size_t n;
    if (**text == '\0') return 0;
    n = strcspn(*text, "\n");
    snprintf(line, size, "%.*s", (int)(n < size ? n : size - 1), *text);
    *text += n + ((*text)[n] == '\n');
    return 1;
}

static int is_table_row(const char *line) { return line[0] == '|'; }

static int is_separator_row(const char *line)
{
    return is_table_row(line) && strspn(line, "|-: ") == strlen(line);
}

/* A table starts with a header row followed by a separator row; every other
   row must follow another row. Fenced code is skipped. */
static void test_tables_are_whole(void)
{
    char *readme = read_text("README.md");
    const char *text = readme;
    char line[2048], previous[2048] = "", next[2048];
    int fenced = 0, stranded = 0, tables = 0;
    CHECK(readme != NULL);
    while (readme && next_line(&text, line, sizeof line)) {
        const char *peek = text;
        if (strncmp(line, "```", 3) == 0) fenced = !fenced;
        if (!fenced && is_table_row(line) && !is_table_row(previous)) {
            if (next_line(&peek, next, sizeof next) && is_separator_row(next)) {
                tables++;
            } else {
                fprintf(stderr, "README.md: a table row outside a table: %s\n", line);
                stranded++;
            }
        }
        snprintf(previous, sizeof previous, "%s", fenced ? "" : line);
    }
    CHECK(tables >= 3);
    CHECK(stranded == 0);
    free(readme);
}

/* Each "cc ... -o NAME" of the README leaves NAME in the root folder:
   .gitignore must name it as "/NAME". */
static void test_built_binaries_are_ignored(void)
{
    char *readme = read_text("README.md"), *ignore = read_text(".gitignore");
    const char *text = readme, *output;
    char line[2048], entry[300];
    int commands = 0;
    CHECK(readme != NULL && ignore != NULL);
    while (readme && ignore && next_line(&text, line, sizeof line)) {
        size_t n;
        if (strstr(line, "cc ") == NULL || (output = strstr(line, " -o ")) == NULL) continue;
        output += 4;
        n = strcspn(output, " ");
        snprintf(entry, sizeof entry, "\n/%.*s\n", (int)n, output);
        commands++;
        if (strstr(ignore, entry) == NULL)
            fprintf(stderr, ".gitignore lacks /%.*s (built by the README)\n", (int)n, output);
        CHECK(strstr(ignore, entry) != NULL);
    }
    CHECK(commands >= 5);
    free(readme);
    free(ignore);
}

int main(void)
{
    RUN(test_tables_are_whole);
    RUN(test_built_binaries_are_ignored);
    return finish();
}
