/* test_api_groups.c - every name the header's API GROUPS list gives is
 * declared in the header: an RN_API function or a #define, so the list
 * cannot drift from the code. "name(_ex)" stands for name and name_ex.
 * Run from the repository's root, as make test does.
 */
#include "harness.h"

#include <ctype.h>
#include <string.h>

enum { MAX_NAMES = 256, NAME_SIZE = 64, LINE_SIZE = 1024 };

static char names[MAX_NAMES][NAME_SIZE];
static int name_count;

static int is_name_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static void add_name(const char *start, size_t length, const char *suffix)
{
    size_t suffix_length = strlen(suffix);
    if (name_count == MAX_NAMES || length >= NAME_SIZE || suffix_length >= NAME_SIZE - length)
        return;
    memcpy(names[name_count], start, length);
    memcpy(names[name_count] + length, suffix, suffix_length + 1);
    name_count++;
}

/* The rn_ and RN_ names on one line of the list. */
static void add_names_of(const char *line)
{
    const char *at = line;
    while (*at) {
        size_t length = 0;
        if (is_name_char(*at) && (at == line || !is_name_char(at[-1])) &&
            (strncmp(at, "rn_", 3) == 0 || strncmp(at, "RN_", 3) == 0)) {
            while (is_name_char(at[length])) length++;
            add_name(at, length, "");
            if (at[length] == '(' && at[length + 1] == '_') { /* name(_ex) */
                char suffix[NAME_SIZE];
                size_t n = strcspn(at + length + 1, ")");
                snprintf(suffix, sizeof suffix, "%.*s", (int)n, at + length + 1);
                add_name(at, length, suffix);
            }
            at += length;
        } else {
            at++;
        }
    }
}

/* name( right after a declaration's start: "RN_API ... name(" or
   "#define name(" / "#define name ". */
static int declares(const char *line, const char *name)
{
    size_t n = strlen(name);
    const char *at;
    if (strncmp(line, "RN_API ", 7) != 0 && strncmp(line, "#define ", 8) != 0) return 0;
    for (at = strstr(line, name); at != NULL; at = strstr(at + 1, name))
        if (!is_name_char(at[-1]) && (at[n] == '(' || (line[0] == '#' && at[n] == ' ')))
            return 1;
    return 0;
}

static void test_every_listed_name_is_declared(void)
{
    FILE *header = fopen("relunet.h", "r");
    char line[LINE_SIZE];
    int in_list = 0, declared[MAX_NAMES] = {0}, i, missing = 0;
    CHECK(header != NULL);
    if (header == NULL) {
        fprintf(stderr, "test_api_groups: run it from the repository's root\n");
        return;
    }
    while (fgets(line, sizeof line, header)) {
        if (strncmp(line, "API GROUPS", 10) == 0) {
            in_list = 1;
            continue;
        }
        if (in_list && line[0] != ' ') in_list = 0; /* the next heading */
        if (in_list) add_names_of(line);
        for (i = 0; !in_list && i < name_count; i++) declared[i] |= declares(line, names[i]);
    }
    fclose(header);
    printf("API GROUPS names %d functions and macros\n", name_count);
    CHECK(name_count > 80); /* the list was found */
    for (i = 0; i < name_count; i++)
        if (!declared[i]) {
            fprintf(stderr, "API GROUPS names %s, which relunet.h does not declare\n", names[i]);
            missing++;
        }
    CHECK(missing == 0);
}

int main(void)
{
    RUN(test_every_listed_name_is_declared);
    return finish();
}
