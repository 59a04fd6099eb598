/* Unit tests for fetcher/seen.h: the hash set against a reference, the
 * file surviving a reopen, duplicate adds, a torn or garbled tail cut off
 * (the records before it kept), and appends after a truncation aligned;
 * checkpoint records (the last wins, a torn one dropped with the tail);
 * and the changelog's record format (seenlog.h): key, value, corrupt
 * records and tombstones told apart. */
#include "nl_err.h"
#include "seen.h"
#include "seenlog.h"
#include "testutil.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[512];
static char errbuf[512];

static void setup(void)
{
    tu_make_basedir(base, sizeof(base), "seen");
}

static void teardown(void)
{
    tu_remove_tree(base);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

START_TEST(test_hset)
{
    fx_hset s = {0};
    uint64_t x = 88172645463325252ULL;

    ck_assert_int_eq(fx_hset_has(&s, 0), 0);
    ck_assert_int_eq(fx_hset_add(&s, 0), 1); /* 0 is a valid hash too */
    ck_assert_int_eq(fx_hset_has(&s, 0), 1);
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ck_assert_int_eq(fx_hset_add(&s, x), 1);
        ck_assert_int_eq(fx_hset_add(&s, x), 0);
    }
    ck_assert_uint_eq(s.n, 20001);
    ck_assert_int_eq(fx_hset_has(&s, 12345), 0);
    fx_hset_free(&s);
}
END_TEST

START_TEST(test_persist_and_tail)
{
    char path[600];
    fx_seen *s = NULL;
    int fd;

    snprintf(path, sizeof(path), "%s/seen.0", base);
    ck_assert_int_eq(fx_seen_open(path, &s, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(fx_seen_count(s), 0);
    ck_assert_int_eq(fx_seen_add(s, fx_seen_hash("https://a.example/1"), errbuf, sizeof(errbuf)),
                     1);
    ck_assert_int_eq(fx_seen_add(s, fx_seen_hash("https://a.example/2"), errbuf, sizeof(errbuf)),
                     1);
    ck_assert_int_eq(fx_seen_add(s, fx_seen_hash("https://a.example/1"), errbuf, sizeof(errbuf)),
                     0);
    ck_assert_int_eq(fx_seen_sync(s, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(fx_seen_close(s), 0);
    ck_assert_int_eq(file_size(path), 32);

    /* A torn record, then a zero-filled block: both cut off. */
    fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "\x01\x02\x03", 3), 3);
    close(fd);
    ck_assert_int_eq(fx_seen_open(path, &s, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(fx_seen_count(s), 2);
    ck_assert_int_eq(fx_seen_has(s, fx_seen_hash("https://a.example/2")), 1);
    ck_assert_int_eq(fx_seen_has(s, fx_seen_hash("https://a.example/3")), 0);
    ck_assert_int_eq(file_size(path), 32);
    ck_assert_int_eq(fx_seen_add(s, fx_seen_hash("https://a.example/3"), errbuf, sizeof(errbuf)),
                     1);
    fx_seen_close(s);
    ck_assert_int_eq(file_size(path), 48);

    fd = open(path, O_WRONLY | O_APPEND);
    {
        char zeros[64] = {0};
        ck_assert_int_eq(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
    }
    close(fd);
    ck_assert_int_eq(fx_seen_open(path, &s, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(fx_seen_count(s), 3);
    ck_assert_int_eq(file_size(path), 48);
    fx_seen_close(s);
}
END_TEST

START_TEST(test_checkpoint)
{
    char path[600];
    fx_seen *s = NULL;
    int fd;

    snprintf(path, sizeof(path), "%s/seen.1", base);
    ck_assert_int_eq(fx_seen_open(path, &s, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(fx_seen_checkpoint(s), -1);
    ck_assert_int_eq(fx_seen_add(s, 11, errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(fx_seen_set_checkpoint(s, 1, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(fx_seen_set_checkpoint(s, 1, errbuf, sizeof(errbuf)), 0); /* no new record */
    ck_assert_int_eq(fx_seen_add(s, 12, errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(fx_seen_set_checkpoint(s, 5000000000LL, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(fx_seen_set_checkpoint(s, -3, errbuf, sizeof(errbuf)), NL_EINVAL);
    ck_assert_int_eq(fx_seen_checkpoint(s), 5000000000LL);
    ck_assert_int_eq(fx_seen_close(s), 0);
    ck_assert_int_eq(file_size(path), 4 * 16);

    /* Reopened: two URLs (a checkpoint is not one), the last checkpoint. */
    ck_assert_int_eq(fx_seen_open(path, &s, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(fx_seen_count(s), 2);
    ck_assert_int_eq(fx_seen_has(s, 11), 1);
    ck_assert_int_eq(fx_seen_has(s, 5000000000ULL), 0);
    ck_assert_int_eq(fx_seen_checkpoint(s), 5000000000LL);
    ck_assert_int_eq(fx_seen_add(s, 13, errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(fx_seen_set_checkpoint(s, 7, errbuf, sizeof(errbuf)), 0);
    fx_seen_close(s);

    /* A torn checkpoint is dropped with the tail: the one before it holds. */
    ck_assert_int_eq(truncate(path, 5 * 16 + 9), 0);
    ck_assert_int_eq(fx_seen_open(path, &s, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(fx_seen_count(s), 3);
    ck_assert_int_eq(fx_seen_checkpoint(s), 5000000000LL);
    ck_assert_int_eq(file_size(path), 5 * 16);
    fx_seen_close(s);

    /* A garbled record before a checkpoint takes the checkpoint with it. */
    fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "garbage!", 8, 16), 8);
    close(fd);
    ck_assert_int_eq(fx_seen_open(path, &s, errbuf, sizeof(errbuf)), 0);
    ck_assert_uint_eq(fx_seen_count(s), 1);
    ck_assert_int_eq(fx_seen_checkpoint(s), -1);
    fx_seen_close(s);
}
END_TEST

START_TEST(test_changelog_format)
{
    char key[17], why[128];
    size_t len = 0;
    uint64_t h = 0;
    uint64_t want = fx_seen_hash("https://a.example/1");
    char *val;

    fx_seenlog_key(0x00ab, key);
    ck_assert_str_eq(key, "00000000000000ab");
    fx_seenlog_key(want, key);
    val = fx_seenlog_value(want, 4, &len);
    ck_assert_ptr_nonnull(val);
    ck_assert_uint_eq(strlen(val), len);
    ck_assert_ptr_nonnull(strstr(val, "\"schema\":\"newsline.seen/1\""));
    ck_assert_ptr_nonnull(strstr(val, "\"partition\":4"));
    ck_assert_int_eq(fx_seenlog_parse(key, 16, val, len, &h, why, sizeof(why)), 0);
    ck_assert_uint_eq(h, want);

    /* Corrupt: each says why; a tombstone is not corrupt. */
    ck_assert_int_eq(fx_seenlog_parse(key, 15, val, len, &h, why, sizeof(why)), NL_EINVAL);
    ck_assert_int_eq(fx_seenlog_parse("00000000000000AB", 16, val, len, &h, why, sizeof(why)),
                     NL_EINVAL);
    ck_assert_int_eq(fx_seenlog_parse(NULL, 0, val, len, &h, why, sizeof(why)), NL_EINVAL);
    ck_assert_int_eq(fx_seenlog_parse("00000000000000ab", 16, val, len, &h, why, sizeof(why)),
                     NL_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "id"));
    ck_assert_int_eq(fx_seenlog_parse(key, 16, "not json", 8, &h, why, sizeof(why)), NL_EINVAL);
    ck_assert_int_eq(fx_seenlog_parse(key, 16, "[1]", 3, &h, why, sizeof(why)), NL_EINVAL);
    {
        const char *wrong = "{\"schema\":\"newsline.raw/1\"}";
        ck_assert_int_eq(fx_seenlog_parse(key, 16, wrong, strlen(wrong), &h, why, sizeof(why)),
                         NL_EINVAL);
    }
    ck_assert_ptr_nonnull(strstr(why, "schema"));
    ck_assert_int_eq(fx_seenlog_parse(key, 16, val, len - 1, &h, why, sizeof(why)), NL_EINVAL);
    ck_assert_int_eq(fx_seenlog_parse(key, 16, NULL, 0, &h, why, sizeof(why)), 1);
    free(val);
}
END_TEST

START_TEST(test_open_error)
{
    fx_seen *s = NULL;
    ck_assert_int_eq(fx_seen_open("/nonexistent-dir/seen.0", &s, errbuf, sizeof(errbuf)), NL_EIO);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(errbuf, "/nonexistent-dir/seen.0"));
}
END_TEST

int main(void)
{
    Suite *su = suite_create("seen");
    TCase *tc = tcase_create("seen");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_hset);
    tcase_add_test(tc, test_persist_and_tail);
    tcase_add_test(tc, test_checkpoint);
    tcase_add_test(tc, test_changelog_format);
    tcase_add_test(tc, test_open_error);
    suite_add_tcase(su, tc);
    sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
