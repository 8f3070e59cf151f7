/*
 * libFuzzer target for the URI canonicalizer (core/uri.c): any bytes, read
 * exactly len of them (no NUL expected), and on TD_URI_OK the promises of
 * tokend/core/uri.h checked: a bounded, printable, token-free canonical
 * text that is its own canonical form, and segments the rules can trust.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/core/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise: which one, then abort (libFuzzer keeps the input). */
#define check(ok_) do {								\
	if (!(ok_)) {								\
		fprintf(stderr, "fuzz_uri.c:%d: %s\n", __LINE__, #ok_);	\
		abort();							\
	}									\
} while (0)

/* Strict UTF-8 without C0, DEL or C1: what a path segment may hold. */
static int
clean_segment(const unsigned char *s)
{
	size_t i, n = strlen((const char *)s);

	for (i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '/' || s[i] == '\\' || s[i] == ';')
			return 0;
		if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

/* Whether a parameter at p (just after '?' or '&') is named "token". */
static int
token_param_at(const char *p)
{
	return strncmp(p, "token", 5) == 0 && (p[5] == '=' || p[5] == '&' || p[5] == '\0');
}

static void
check_text(const struct td_canon_uri *u)
{
	const char *q, *p;
	size_t i;

	check(memchr(u->text, '\0', sizeof(u->text)) != NULL);
	check(u->len == strlen(u->text));
	check(u->len < TD_CANON_URI_MAX);
	check(u->text[0] == '/');
	for (i = 0; i < u->len; i++) {
		unsigned char c = (unsigned char)u->text[i];

		check(c >= 0x21 && c < 0x7f && c != '#' && c != ';' && c != '\\');
		if (c == '%')	/* escapes well formed, in upper case */
			check(i + 2 < u->len &&
			      strchr("0123456789ABCDEF", u->text[i + 1]) != NULL &&
			      strchr("0123456789ABCDEF", u->text[i + 2]) != NULL);
	}
	q = strchr(u->text, '?');
	if (q != NULL) {
		check(q[1] != '\0');		/* no empty query */
		for (p = q; p != NULL; p = strchr(p + 1, '&')) {
			check(!token_param_at(p + 1));
			check(p[1] != '&' && p[1] != '\0');	/* no empty pair */
		}
	}
	/* the path: no empty segment, no dot segment */
	for (p = u->text; p != NULL && (q == NULL || p < q); p = strchr(p + 1, '/')) {
		size_t n = strcspn(p + 1, "/?");

		if (n == 0) {	/* only "/" itself, or a trailing slash */
			check(p[1] == '\0' || p[1] == '?');
			continue;
		}
		check(!(n == 1 && p[1] == '.') && !(n == 2 && p[1] == '.' && p[2] == '.'));
	}
}

static const char *const rule_params[] = {
	"token", "version", "by_ids", "id", "from_release", "branch_id",
};
#define NRULE_PARAMS (sizeof(rule_params) / sizeof(rule_params[0]))

static int
is_rule_param(const char *name)
{
	size_t r;

	for (r = 0; r < NRULE_PARAMS; r++)
		if (strcmp(name, rule_params[r]) == 0)
			return 1;
	return 0;
}

/* The name a few servers give a decoded key ('+' still '+'), lower-cased
 * for those that ignore case, written to out (NAME_BYTES bytes): */
#define NAME_BYTES 64

static void
lower_into(char *out, const char *s, size_t n)
{
	size_t i;

	if (n > NAME_BYTES - 1)
		n = NAME_BYTES - 1;
	for (i = 0; i < n; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[n] = '\0';
}

/* PHP: '+' is a space, leading spaces dropped, ' ' and '.' are '_', a
 * closed '[' starts an array, an unclosed one is '_'. */
static void
php_name(const char *key, char *out)
{
	char buf[NAME_BYTES];
	size_t n = 0;

	while (*key == ' ' || *key == '+')
		key++;
	for (; *key != '\0' && n < sizeof(buf); key++) {
		if (*key == '[') {
			if (strchr(key, ']') != NULL)
				break;
			buf[n++] = '_';
		} else {
			buf[n++] = *key == ' ' || *key == '.' || *key == '+' ? '_' : *key;
		}
	}
	lower_into(out, buf, n);
}

/* qs (Express): the text before the first '[', or the first "[...]"
 * group's inside when the key starts with one. */
static void
qs_name(const char *key, char *out)
{
	const char *b = strchr(key, '['), *e;

	if (b == key && (e = strchr(key, ']')) != NULL)
		lower_into(out, key + 1, (size_t)(e - key - 1));
	else
		lower_into(out, key, b != NULL && b != key ? (size_t)(b - key) : strlen(key));
}

/* Rack 2: leading '[' and ']' skipped, then the name up to a bracket. */
static void
rack2_name(const char *key, char *out)
{
	key += strspn(key, "[]");
	lower_into(out, key, strcspn(key, "[]"));
}

static void
check_target(const struct td_target *t)
{
	char name[NAME_BYTES];
	size_t r;
	int i, seen;

	check(t->nsegments >= 0 && t->nsegments <= TD_PATH_SEGMENTS_MAX);
	for (i = 0; i < t->nsegments; i++) {
		const char *s = t->segments[i];

		check(s[0] != '\0');
		check(strcmp(s, ".") != 0 && strcmp(s, "..") != 0);
		check(clean_segment((const unsigned char *)s));
	}
	check(t->nparams >= 0 && t->nparams <= TD_QUERY_PARAMS_MAX);
	for (r = 0; r < NRULE_PARAMS; r++) {
		for (i = seen = 0; i < t->nparams; i++)
			seen += strcmp(t->params[i].key, rule_params[r]) == 0;
		check(seen <= 1);
	}
	for (i = 0; i < t->nparams; i++) {
		check(t->params[i].key != NULL && t->params[i].value != NULL);
		check(t->params[i].has_value || t->params[i].value[0] == '\0');
		/* a name no other server reads as one a rule reads, unless it is one */
		if (is_rule_param(t->params[i].key))
			continue;
		php_name(t->params[i].key, name);
		check(!is_rule_param(name));
		qs_name(t->params[i].key, name);
		check(!is_rule_param(name));
		rack2_name(t->params[i].key, name);
		check(!is_rule_param(name));
		lower_into(name, t->params[i].key, strlen(t->params[i].key));
		check(!is_rule_param(name));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct td_canon_uri first, again;
	int i, j;

	if (td_uri_canonicalize((const char *)data, size, &first) != TD_URI_OK) {
		check(first.why != NULL);
		return 0;
	}
	check(first.why == NULL);
	check_text(&first);
	check_target(&first.t);

	/* the text is its own canonical form: same text, same segments, the
	 * same parameters but the token */
	check(td_uri_canonicalize(first.text, first.len, &again) == TD_URI_OK);
	check(again.len == first.len && strcmp(again.text, first.text) == 0);
	check(again.t.nsegments == first.t.nsegments);
	for (i = 0; i < first.t.nsegments; i++)
		check(strcmp(again.t.segments[i], first.t.segments[i]) == 0);
	for (i = j = 0; i < first.t.nparams; i++) {
		if (strcmp(first.t.params[i].key, "token") == 0)
			continue;
		check(j < again.t.nparams);
		check(strcmp(again.t.params[j].key, first.t.params[i].key) == 0);
		check(strcmp(again.t.params[j].value, first.t.params[i].value) == 0);
		check(again.t.params[j].has_value == first.t.params[i].has_value);
		j++;
	}
	check(again.t.nparams == j);
	for (i = 0; i < again.t.nparams; i++)
		check(strcmp(again.t.params[i].key, "token") != 0);
	return 0;
}
