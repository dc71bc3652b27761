/*
 * rules_text_check(): UTF-8 validity and control characters.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rules/rules_int.h"

static const char *const accepted[] = {
	"",
	"web tier, port 443",
	"h\xc3\xa9llo",		/* U+00E9 */
	"\xc2\x80",		/* U+0080, smallest two-byte */
	"\xe0\xa0\x80",		/* U+0800, smallest three-byte */
	"\xe2\x82\xac",		/* U+20AC euro sign */
	"\xed\x9f\xbf",		/* U+D7FF, just below the surrogates */
	"\xee\x80\x80",		/* U+E000, just above them */
	"\xef\xbf\xbf",		/* U+FFFF */
	"\xf0\x90\x80\x80",	/* U+10000, smallest four-byte */
	"\xf0\x9d\x84\x9e",	/* U+1D11E */
	"\xf4\x8f\xbf\xbf",	/* U+10FFFF, the last code point */
	"~ !\"#$%&'()*+,-./:;", /* printable ASCII edges */
};

START_TEST(utf8_accepts)
{
	size_t off = 99;
	const char *why = "untouched";

	ck_assert_int_eq(rules_text_check(accepted[_i], strlen(accepted[_i]), &off, &why), 0);
	ck_assert_uint_eq(off, 99);
	ck_assert_str_eq(why, "untouched");
}
END_TEST

struct refuse_case {
	const char *in;
	size_t off;
	const char *why;
};

static const struct refuse_case refused[] = {
	{"ab\xc0\x80", 2, "overlong encoding"},
	{"\xc1\xbf", 0, "overlong encoding"},
	{"\xe0\x80\x80", 0, "overlong encoding"},
	{"\xe0\x9f\xbf", 0, "overlong encoding"},
	{"\xf0\x80\x80\x80", 0, "overlong encoding"},
	{"\xf0\x8f\xbf\xbf", 0, "overlong encoding"},
	{"x\xed\xa0\x80", 1, "surrogate code point"},
	{"\xed\xbf\xbf", 0, "surrogate code point"},
	{"\xed\xb0\x80", 0, "surrogate code point"},
	{"\xf4\x90\x80\x80", 0, "over U+10FFFF"},
	{"\xf5\x80\x80\x80", 0, "over U+10FFFF"},
	{"\xf7\xbf\xbf\xbf", 0, "over U+10FFFF"},
	{"\xf8\x88\x80\x80\x80", 0, "invalid byte"},
	{"\xff", 0, "invalid byte"},
	{"\xfe", 0, "invalid byte"},
	{"abc\x80", 3, "stray continuation byte"},
	{"\xbf", 0, "stray continuation byte"},
	{"\xc3", 0, "truncated sequence"},
	{"ok\xe2\x82", 2, "truncated sequence"},
	{"\xf0\x9d\x84", 0, "truncated sequence"},
	{"\xe2\x28\xa1", 0, "truncated sequence"},
	{"\xc3\xc3\xa9", 0, "truncated sequence"},
	{"\x01", 0, "control character"},
	{"line\nbreak", 4, "control character"},
	{"tab\there", 3, "control character"},
	{"\x1f", 0, "control character"},
	{"del\x7f", 3, "control character"},
	{"\x1b[31mred", 0, "control character"},
};

START_TEST(utf8_refuses)
{
	const struct refuse_case *c = &refused[_i];
	size_t off = 99;
	const char *why = NULL;

	ck_assert_int_eq(rules_text_check(c->in, strlen(c->in), &off, &why), -EILSEQ);
	ck_assert_uint_eq(off, c->off);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, c->why) != NULL, "reason \"%s\" is not \"%s\"", why, c->why);
}
END_TEST

/* len, not the NUL, bounds the check: a sequence cut by len is truncated. */
START_TEST(utf8_respects_len)
{
	size_t off;
	const char *why;

	ck_assert_int_eq(rules_text_check("\xe2\x82\xac", 2, &off, &why), -EILSEQ);
	ck_assert_str_eq(why, "truncated sequence");
	ck_assert_int_eq(rules_text_check("ab\x01", 2, &off, &why), 0);
	/* an embedded NUL within len is a control character */
	ck_assert_int_eq(rules_text_check("a\0b", 3, &off, &why), -EILSEQ);
	ck_assert_uint_eq(off, 1);
}
END_TEST

START_TEST(desc_valid_limits)
{
	char buf[RULES_DESC_MAX + 1];

	memset(buf, 'a', sizeof(buf));
	ck_assert(rules_desc_valid(buf, RULES_DESC_MAX));
	ck_assert(!rules_desc_valid(buf, RULES_DESC_MAX + 1));
	ck_assert(rules_desc_valid("caf\xc3\xa9", 5));
	ck_assert(!rules_desc_valid("caf\xc3", 4));
	ck_assert(!rules_desc_valid("tab\there", 8));
}
END_TEST

/* Cleaning keeps valid text and marks every bad byte, a cut sequence too. */
static const struct {
	const char *in, *out;
} cleaned[] = {
	{"caf\xc3\xa9 ok", "caf\xc3\xa9 ok"},
	{"id \xff\xfe", "id ??"},
	{"a\nb\x7f", "a?b?"},
	{"cut \xe2\x82", "cut ??"}, /* a 3-byte sequence cut after 2 */
	{"\xc0\xafx", "??x"},	    /* overlong */
	{"\xed\xa0\x80x", "???x"},  /* a surrogate */
	{"\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!"},
};

START_TEST(text_clean)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", cleaned[_i].in);
	rules_text_clean(buf);
	ck_assert_str_eq(buf, cleaned[_i].out);
}
END_TEST

static Suite *
utf8_suite(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("check");

	tcase_add_loop_test(tc, utf8_accepts, 0, sizeof(accepted) / sizeof(accepted[0]));
	tcase_add_loop_test(tc, utf8_refuses, 0, sizeof(refused) / sizeof(refused[0]));
	tcase_add_test(tc, utf8_respects_len);
	tcase_add_test(tc, desc_valid_limits);
	tcase_add_loop_test(tc, text_clean, 0, sizeof(cleaned) / sizeof(cleaned[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(utf8_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
