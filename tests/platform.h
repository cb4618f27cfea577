/* platform.h - what the tests need from the system beyond ISO C, on POSIX
 * systems and on Windows (whose C library has _mkdir with one argument, no
 * mkdtemp and no setenv): a fresh temporary folder, mkdir, rmdir, setenv.
 *
 *     char dir[256];
 *     if (!temp_dir_new(dir, sizeof dir, "relunet_test_data")) return 1;
 */
#ifndef RELUNET_TEST_PLATFORM_H
#define RELUNET_TEST_PLATFORM_H

#include <stdio.h>
#include <stdlib.h>

#if defined(_WIN32)
#include <direct.h>
#include <io.h>
#define temp_mkdir_one(path) _mkdir(path)
#define temp_rmdir(path) _rmdir(path)
#define test_setenv(name, value) _putenv_s(name, value)
#define test_unsetenv(name) _putenv_s(name, "")
#else
#include <sys/stat.h>
#include <unistd.h>
#define temp_mkdir_one(path) mkdir(path, 0700)
#define temp_rmdir(path) rmdir(path)
#define test_setenv(name, value) setenv(name, value, 1)
#define test_unsetenv(name) unsetenv(name)
#endif

/* dir gets a new, empty folder NAME_XXXXXX (X: unique characters) under the
   system's temporary folder; 0 (after saying why) when none can be made. */
static int temp_dir_new(char *dir, size_t size, const char *name)
{
#if defined(_WIN32)
    const char *root = getenv("TEMP");
    snprintf(dir, size, "%s\\%s_XXXXXX", root != NULL ? root : ".", name);
    if (_mktemp(dir) != NULL && _mkdir(dir) == 0) return 1;
#else
    snprintf(dir, size, "/tmp/%s_XXXXXX", name);
    if (mkdtemp(dir) != NULL) return 1;
#endif
    perror(dir);
    return 0;
}

#endif
