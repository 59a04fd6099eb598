/* Temporary directories for the unit tests (shared by the test files). */
#ifndef NL_TESTUTIL_H
#define NL_TESTUTIL_H

#include <stddef.h>

/* Makes <$TMPDIR or /tmp>/nl-test-<name>-XXXXXX into dir[size]; exits the
 * test program with a message if it cannot. */
void tu_make_basedir(char *dir, size_t size, const char *name);

/* Removes the tree under dir, best effort (nothing if dir is empty). */
void tu_remove_tree(const char *dir);

/* Makes <parent>/test-XXXXXX into dir[size], as a Check assertion. */
void tu_make_subdir(char *dir, size_t size, const char *parent);

#endif
