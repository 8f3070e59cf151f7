/* Token strings: round trip, every altered byte refused, wrong and dropped
 * key ids, keyring file rules, PAT secret hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tokend/core/sign.h"

static char dir[] = "/tmp/tokend-sign-XXXXXX";
static char path[256];
static struct td_keyring kr;

static int
setup(void **state)
{
	char err[256];
	uint32_t kid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keyring", dir);
	assert_int_equal(td_keyring_generate(path, &kid, err, sizeof(err)), 0);
	assert_int_equal(kid, 1);
	assert_int_equal(td_keyring_load(&kr, path, err, sizeof(err)), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	td_keyring_wipe(&kr);
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct td_token_ref
sample(enum td_token_kind kind)
{
	struct td_token_ref ref = { .kind = kind, .kid = 1, .space_id = 288868932106293LL,
				    .id = 66337183532202LL };

	assert_int_equal(td_token_new_secret(ref.secret), 0);
	return ref;
}

static void
test_round_trip_every_kind(void **state)
{
	char tok[TD_TOKEN_STR_MAX];
	struct td_token_ref ref, back;
	enum td_token_kind k;
	size_t i;

	(void)state;
	for (k = 0; k < TD_KIND__MAX; k++) {
		if (k == TD_KIND_IDT)
			continue;	/* its own test below */
		ref = sample(k);
		assert_int_equal(td_token_format(&kr, &ref, tok, sizeof(tok)), 0);
		assert_int_equal(strlen(tok), TD_TOKEN_LEN);
		assert_memory_equal(tok, td_token_kind_prefix(k), TD_TOKEN_PREFIX_LEN);
		for (i = 0; i < TD_TOKEN_LEN; i++)	/* URL-safe: no escaping in ?token= */
			assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					       "0123456789-_", tok[i]));
		assert_int_equal(td_token_parse(&kr, tok, strlen(tok), &back), TD_TOKEN_OK);
		assert_int_equal(back.kind, k);
		assert_int_equal(back.kid, 1);
		assert_true(back.space_id == ref.space_id);
		assert_true(back.id == ref.id);
		assert_memory_equal(back.secret, ref.secret, TD_SECRET_BYTES);
	}
}

static void
test_idt_form(void **state)
{
	char tok[TD_TOKEN_STR_MAX], bad[TD_TOKEN_STR_MAX];
	struct td_token_ref ref = sample(TD_KIND_IDT), back;
	size_t len;

	(void)state;
	ref.id = 12345678;
	assert_int_equal(td_token_format(&kr, &ref, tok, sizeof(tok)), 0);
	len = strlen(tok);
	assert_int_equal(len, TD_IDT_HEAD_LEN + TD_TOKEN_B64_LEN);
	assert_memory_equal(tok, "idt:TKN-1234-5678:", TD_IDT_HEAD_LEN);
	assert_int_equal(td_token_parse(&kr, tok, len, &back), TD_TOKEN_OK);
	assert_int_equal(back.kind, TD_KIND_IDT);
	assert_int_equal(back.id, 12345678);
	assert_true(back.space_id == ref.space_id);
	/* another TKN id in front of a valid payload is a forgery */
	memcpy(bad, tok, len + 1);
	bad[16] = '9';
	assert_int_equal(td_token_parse(&kr, bad, len, &back), TD_TOKEN_FORGED);
	memcpy(bad, tok, len + 1);
	bad[12] = 'x';
	assert_int_equal(td_token_parse(&kr, bad, len, &back), TD_TOKEN_MALFORMED);
	memcpy(bad, tok, len + 1);
	bad[len - 1] = bad[len - 1] == 'A' ? 'B' : 'A';
	assert_int_not_equal(td_token_parse(&kr, bad, len, &back), TD_TOKEN_OK);
	/* TKN-NNNN-NNNN holds 8 digits: larger ids cannot take this form */
	ref.id = 100000000;
	assert_int_equal(td_token_format(&kr, &ref, tok, sizeof(tok)), -1);
}

static void
test_every_altered_byte_is_refused(void **state)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char tok[TD_TOKEN_STR_MAX], bad[TD_TOKEN_STR_MAX];
	struct td_token_ref ref = sample(TD_KIND_PUBLIC), back;
	size_t i, j;

	(void)state;
	assert_int_equal(td_token_format(&kr, &ref, tok, sizeof(tok)), 0);
	for (i = 0; i < TD_TOKEN_LEN; i++) {
		for (j = 0; j < sizeof(alphabet) - 1; j++) {
			if (alphabet[j] == tok[i])
				continue;
			memcpy(bad, tok, sizeof(tok));
			bad[i] = alphabet[j];
			if (td_token_parse(&kr, bad, TD_TOKEN_LEN, &back) == TD_TOKEN_OK)
				fail_msg("altered byte %zu ('%c' -> '%c') accepted", i, tok[i], bad[i]);
		}
	}
	/* truncated, extended, empty */
	assert_int_equal(td_token_parse(&kr, tok, TD_TOKEN_LEN - 1, &back), TD_TOKEN_MALFORMED);
	memcpy(bad, tok, sizeof(tok));
	assert_int_equal(td_token_parse(&kr, bad, 0, &back), TD_TOKEN_MALFORMED);
	assert_int_equal(td_token_parse(&kr, "td_pub_", 7, &back), TD_TOKEN_MALFORMED);
}

static void
test_prefix_swap_is_forged(void **state)
{
	char tok[TD_TOKEN_STR_MAX];
	struct td_token_ref ref = sample(TD_KIND_PUBLIC), back;

	(void)state;
	assert_int_equal(td_token_format(&kr, &ref, tok, sizeof(tok)), 0);
	memcpy(tok, "td_prv_", TD_TOKEN_PREFIX_LEN);	/* public posing as preview */
	assert_int_equal(td_token_parse(&kr, tok, TD_TOKEN_LEN, &back), TD_TOKEN_FORGED);
}

static void
test_rotation_and_dropped_keys(void **state)
{
	char tok1[TD_TOKEN_STR_MAX], tok2[TD_TOKEN_STR_MAX], err[256], line[128];
	struct td_keyring kr2, only2;
	struct td_token_ref ref = sample(TD_KIND_PRIVATE), back;
	uint32_t kid;
	FILE *f, *g;
	char path2[300];

	(void)state;
	assert_int_equal(td_token_format(&kr, &ref, tok1, sizeof(tok1)), 0);
	/* a second key: the newest signs, both verify */
	assert_int_equal(td_keyring_generate(path, &kid, err, sizeof(err)), 0);
	assert_int_equal(kid, 2);
	assert_int_equal(td_keyring_load(&kr2, path, err, sizeof(err)), 0);
	assert_int_equal(td_keyring_newest(&kr2)->kid, 2);
	ref.kid = 2;
	assert_int_equal(td_token_format(&kr2, &ref, tok2, sizeof(tok2)), 0);
	assert_int_equal(td_token_parse(&kr2, tok1, TD_TOKEN_LEN, &back), TD_TOKEN_OK);
	assert_int_equal(td_token_parse(&kr2, tok2, TD_TOKEN_LEN, &back), TD_TOKEN_OK);
	/* the old keyring does not know key 2 */
	assert_int_equal(td_token_parse(&kr, tok2, TD_TOKEN_LEN, &back), TD_TOKEN_UNKNOWN_KEY);
	/* dropping key 1 revokes what it signed */
	snprintf(path2, sizeof(path2), "%s/only2", dir);
	f = fopen(path, "r");
	g = fopen(path2, "w");
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "2 ", 2) == 0)
			fputs(line, g);
	fclose(f);
	fclose(g);
	chmod(path2, 0600);
	assert_int_equal(td_keyring_load(&only2, path2, err, sizeof(err)), 0);
	assert_int_equal(td_token_parse(&only2, tok1, TD_TOKEN_LEN, &back), TD_TOKEN_UNKNOWN_KEY);
	assert_int_equal(td_token_parse(&only2, tok2, TD_TOKEN_LEN, &back), TD_TOKEN_OK);
	/* formatting with a key not in the ring fails */
	ref.kid = 9;
	assert_int_equal(td_token_format(&kr2, &ref, tok2, sizeof(tok2)), -1);
	unlink(path2);
	td_keyring_wipe(&kr2);
	td_keyring_wipe(&only2);
}

static void
test_keyring_file_rules(void **state)
{
	struct td_keyring k;
	char err[256], p[300];
	struct stat st;
	FILE *f;

	(void)state;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	chmod(path, 0640);
	assert_int_not_equal(td_keyring_load(&k, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "chmod 600"));
	chmod(path, 0600);
	assert_int_not_equal(td_keyring_load(&k, "/nonexistent/keyring", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "tokend keys generate"));

	snprintf(p, sizeof(p), "%s/bad", dir);
	f = fopen(p, "w");
	fputs("1 c2hvcnQ=\n", f);	/* not 32 bytes */
	fclose(f);
	chmod(p, 0600);
	assert_int_not_equal(td_keyring_load(&k, p, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "line 1"));
	f = fopen(p, "w");
	fputs("# only a comment\n", f);
	fclose(f);
	assert_int_not_equal(td_keyring_load(&k, p, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "no keys"));
	unlink(p);
}

static void
test_pat_hash_is_keyed(void **state)
{
	unsigned char secret[TD_SECRET_BYTES], h1[TD_PAT_HASH_BYTES], h2[TD_PAT_HASH_BYTES];
	struct td_keyring k2;
	char err[256];

	(void)state;
	assert_int_equal(td_token_new_secret(secret), 0);
	assert_int_equal(td_pat_secret_hash(td_keyring_find(&kr, 1), secret, h1), 0);
	assert_int_equal(td_pat_secret_hash(td_keyring_find(&kr, 1), secret, h2), 0);
	assert_memory_equal(h1, h2, sizeof(h1));
	assert_int_equal(td_keyring_load(&k2, path, err, sizeof(err)), 0);
	assert_int_equal(td_pat_secret_hash(td_keyring_find(&k2, 2), secret, h2), 0);
	assert_memory_not_equal(h1, h2, sizeof(h1));	/* another key, another hash */
	assert_memory_not_equal(h1, secret, TD_SECRET_BYTES);
	td_keyring_wipe(&k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_kind),
		cmocka_unit_test(test_idt_form),
		cmocka_unit_test(test_every_altered_byte_is_refused),
		cmocka_unit_test(test_prefix_swap_is_forged),
		cmocka_unit_test(test_rotation_and_dropped_keys),
		cmocka_unit_test(test_keyring_file_rules),
		cmocka_unit_test(test_pat_hash_is_keyed),
	};

	return cmocka_run_group_tests_name("sign", tests, setup, teardown);
}
