#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tu_make_basedir(char *dir, size_t size, const char *name)
{
    const char *base = getenv("TMPDIR");
    int n;

    if (base == NULL || base[0] == '\0') {
        base = "/tmp";
    }
    n = snprintf(dir, size, "%s/nl-test-%s-XXXXXX", base, name);
    if (n <= 0 || (size_t)n >= size || mkdtemp(dir) == NULL) {
        fprintf(stderr, "test_%s: cannot make a temporary directory under %s\n", name, base);
        exit(EXIT_FAILURE);
    }
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tu_remove_tree(const char *dir)
{
    if (dir[0] != '\0') {
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

void tu_make_subdir(char *dir, size_t size, const char *parent)
{
    int n = snprintf(dir, size, "%s/test-XXXXXX", parent);
    ck_assert(n > 0 && (size_t)n < size);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}
