/*
 * The canonical form of a verified URI (see tokend/core/uri.h for the
 * rules). One pass over the path and one over the query, in the fixed
 * buffers of struct td_canon_uri: no allocation, every size bounded.
 */
#include <string.h>

#include "tokend/core/token.h"
#include "tokend/core/uri.h"
#include "tokend/server/parse.h"

/* A refusal leaves no canonical text behind. */
#define BAD(why_) do { out->why = (why_); out->text[0] = '\0'; out->len = 0; \
		       return TD_URI_BAD; } while (0)

/* The parameters a verify rule reads (core/verify.c). */
static const char *const rule_params[] = {
	"token", "version", "by_ids", "id", "from_release", "branch_id", "resolve_relations",
	"resolve_links",
};
#define NRULE_PARAMS (sizeof(rule_params) / sizeof(rule_params[0]))

/* Raw characters kept as they are in the canonical text besides the
 * unreserved ones; anything else is escaped. */
#define KEEP_PATH  "!$&'()*+,=:@"
#define KEEP_QUERY "!$'()*+,=:@/?"

static int
unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

struct writer {
	char *buf;
	size_t len, cap;
	int overflow;
};

static void
put(struct writer *w, char c)
{
	if (w->len + 1 >= w->cap) {
		w->overflow = 1;
		return;
	}
	w->buf[w->len++] = c;
}

static void
put_escape(struct writer *w, unsigned char b)
{
	static const char hex[] = "0123456789ABCDEF";

	put(w, '%');
	put(w, hex[b >> 4]);
	put(w, hex[b & 15]);
}

/* A raw span (escapes already checked well formed) in canonical spelling. */
static void
put_canonical(struct writer *w, const char *s, size_t len, const char *keep)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			c = (unsigned char)(td_hex_digit(s[i + 1]) * 16 + td_hex_digit(s[i + 2]));
			i += 2;
			if (unreserved(c))
				put(w, (char)c);
			else
				put_escape(w, c);
		} else if (unreserved(c) || (c != '\0' && c < 0x80 && strchr(keep, c) != NULL)) {
			put(w, (char)c);
		} else {
			put_escape(w, c);
		}
	}
}

/* Characters that Unicode compatibility normalization (NFKC), which some
 * servers apply to paths, turns into '.', '/' or '\\'. */
static const char *const confusables[] = {
	"\xef\xbc\x8e", "\xef\xbc\x8f", "\xef\xbc\xbc",	/* fullwidth . / \ */
	"\xef\xb9\x92", "\xef\xb9\xa8",			/* small . \ */
	"\xe2\x80\xa4", "\xe2\x88\x95", "\xe2\x81\x84",	/* one dot leader, division and fraction slash */
};

static int
confusable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(confusables) / sizeof(confusables[0]); i++)
		if (memmem(s, n, confusables[i], 3) != NULL)
			return 1;
	return 0;
}

/* Decodes one path segment into dst (room bytes, NUL added); -1 with *why
 * for what servers read differently. */
static int
decode_segment(const char *s, size_t len, char *dst, size_t room, size_t *outlen,
	       const char **why)
{
	size_t i, n = 0, chars;
	unsigned char any = 0;		/* all bytes or-ed: ASCII needs no UTF-8 checks */
	int hi, lo;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (len - i < 3 || (hi = td_hex_digit(s[i + 1])) < 0 ||
			    (lo = td_hex_digit(s[i + 2])) < 0) {
				*why = "malformed escape";
				return -1;
			}
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
			if (c == '/' || c == '\\') {
				*why = "encoded slash or backslash in the path";
				return -1;
			}
			if (c == '%') {
				*why = "encoded percent in the path";
				return -1;
			}
		} else if (c == '\\') {
			*why = "backslash in the path";
			return -1;
		} else if (c == ' ') {
			*why = "unescaped space in the path";
			return -1;
		}
		if (c == ';') {
			*why = "path parameter (;) in the path";
			return -1;
		}
		/* C0, DEL, and C1 (U+0080..U+009F, 0xC2 0x80..0x9F in UTF-8) */
		if (c < 0x20 || c == 0x7f ||
		    (c >= 0x80 && c <= 0x9f && n > 0 && (unsigned char)dst[n - 1] == 0xc2)) {
			*why = "control character or NUL in the path";
			return -1;
		}
		if (n + 1 >= room) {
			*why = "path too long";
			return -1;
		}
		dst[n++] = (char)c;
		any |= c;
	}
	dst[n] = '\0';
	if ((any & 0x80) && td_utf8_valid((const unsigned char *)dst, n, &chars) != 0) {
		*why = "path is not UTF-8 (overlong forms included)";
		return -1;
	}
	/* Windows servers drop a segment's trailing dots and spaces */
	if (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '.') &&
	    !(n == 1 || (n == 2 && dst[0] == '.'))) {
		*why = "a path segment ending in a dot or a space";
		return -1;
	}
	if ((any & 0x80) && confusable(dst, n)) {
		*why = "a character some servers normalize to '.', '/' or '\\'";
		return -1;
	}
	*outlen = n;
	return 0;
}

static int
is_dots(const char *d, size_t n, size_t dots)
{
	return n == dots && strncmp(d, "..", dots) == 0;
}

static enum td_uri_status
canonical_path(const char *path, size_t plen, struct td_canon_uri *out, struct writer *w)
{
	struct td_target *t = &out->t;
	const char *raw[TD_PATH_SEGMENTS_MAX];
	size_t rawlen[TD_PATH_SEGMENTS_MAX];
	size_t i = 0, start, used = 0, dl;
	int n = 0, trailing = 0, k;

	if (plen == 0 || path[0] != '/')
		BAD("not an absolute path");
	if (plen > TD_PATH_MAX)
		BAD("path too long");
	for (;;) {
		while (i < plen && path[i] == '/')
			i++;
		if (i == plen) {
			trailing |= plen > 0 && path[plen - 1] == '/';
			break;
		}
		start = i;
		while (i < plen && path[i] != '/')
			i++;
		if (decode_segment(path + start, i - start, t->segbuf + used,
				   sizeof(t->segbuf) - used, &dl, &out->why) != 0)
			return TD_URI_BAD;
		trailing = 0;
		if (is_dots(t->segbuf + used, dl, 1)) {
			trailing = 1;
			continue;
		}
		if (is_dots(t->segbuf + used, dl, 2)) {
			if (n == 0)
				BAD("dot segments climb above the root");
			n--;
			trailing = 1;
			continue;
		}
		if (n == TD_PATH_SEGMENTS_MAX)
			BAD("path deeper than the rules judge");
		t->segments[n] = t->segbuf + used;
		raw[n] = path + start;
		rawlen[n] = i - start;
		n++;
		used += dl + 1;
	}
	t->nsegments = n;
	if (n == 0)
		put(w, '/');
	for (k = 0; k < n; k++) {
		put(w, '/');
		put_canonical(w, raw[k], rawlen[k], KEEP_PATH);
	}
	if (trailing && n > 0)
		put(w, '/');
	if (w->len > TD_PATH_MAX)	/* escaped, it would be refused as input */
		BAD("path too long");
	return TD_URI_OK;
}

/* The rule parameter key names exactly, else -1. */
static int
rule_param(const char *key)
{
	size_t i;

	for (i = 0; i < NRULE_PARAMS; i++)
		if (strcmp(key, rule_params[i]) == 0)
			return (int)i;
	return -1;
}

/* Whether another server could read key as a rule parameter: the name in
 * any case, with '.', ' ' or '+' for '_' (PHP), or with a "[...]" suffix
 * (PHP, Rails arrays and hashes); after leading spaces (PHP drops them) and
 * brackets (qs reads "[name]" as name, Rack 2 "]name" and "name]"), or
 * with an unclosed '[' for '_' (PHP). */
static int
like_rule_param(const char *key)
{
	char norm[32];
	size_t k = 0;

	while (*key == ' ' || *key == '+' || *key == '[' || *key == ']')
		key++;
	for (;; key++) {
		if (*key == '\0' || *key == '[' || *key == ']') {
			norm[k] = '\0';
			if (rule_param(norm) >= 0)
				return 1;
			if (*key != '[' || strchr(key, ']') != NULL)
				return 0;
		}
		if (k == sizeof(norm) - 1)
			return 0;
		norm[k++] = (char)(*key == '.' || *key == ' ' || *key == '+' || *key == '['
				   ? '_' : lower(*key));
	}
}

/* A name a server that decodes twice, or decodes before it splits, or trims,
 * would read as another name. */
static int
odd_name(const char *key)
{
	for (; *key != '\0'; key++)
		if (*key == '%' || *key == '&' || *key == '=' || (unsigned char)*key < 0x20 ||
		    *key == 0x7f)
			return 1;
	return 0;
}

/* Whether a decoded value holds "&<rule parameter>=": what a server that
 * decodes the query before splitting it would read as that parameter. */
static int
hides_rule_param(const char *v)
{
	char name[32];
	size_t k;

	while ((v = strchr(v, '&')) != NULL) {
		for (v++, k = 0; *v != '\0' && *v != '=' && *v != '&' && k < sizeof(name) - 1; v++)
			name[k++] = *v;
		name[k] = '\0';
		if (rule_param(name) >= 0 || like_rule_param(name))
			return 1;
	}
	return 0;
}

static enum td_uri_status
canonical_query(const char *q, size_t qlen, struct td_canon_uri *out, struct writer *w)
{
	struct td_target *t = &out->t;
	unsigned char seen[NRULE_PARAMS] = { 0 };
	size_t i = 0, start, eq, used = 0, at = w->len;
	ssize_t n;
	int first = 1, r;

	if (qlen > TD_QUERY_MAX)
		BAD("query too long");
	if (memchr(q, ';', qlen) != NULL)
		BAD("';' in the query (a separator to some servers)");
	while (i < qlen) {
		start = i;
		while (i < qlen && q[i] != '&')
			i++;
		if (i > start) {
			struct td_query_param *p = &t->params[t->nparams];

			if (t->nparams == TD_QUERY_PARAMS_MAX)
				BAD("too many query parameters");
			for (eq = start; eq < i && q[eq] != '='; eq++)
				;
			n = td_percent_decode(q + start, eq - start, t->querybuf + used,
					      sizeof(t->querybuf) - used);
			if (n < 0)
				BAD("malformed escape or NUL in the query");
			p->key = t->querybuf + used;
			used += (size_t)n + 1;
			n = td_percent_decode(eq < i ? q + eq + 1 : "", eq < i ? i - eq - 1 : 0,
					      t->querybuf + used, sizeof(t->querybuf) - used);
			if (n < 0)
				BAD("malformed escape or NUL in the query");
			p->value = t->querybuf + used;
			p->has_value = eq < i;
			used += (size_t)n + 1;
			t->nparams++;
			if ((r = rule_param(p->key)) >= 0) {
				if (seen[r]++)
					BAD("a parameter a rule reads is given twice");
			} else if (like_rule_param(p->key)) {
				BAD("a parameter spelled like one a rule reads");
			}
			if (odd_name(p->key))
				BAD("a parameter name with an escaped %, &, = or a control character");
			if (hides_rule_param(p->value))
				BAD("an escaped parameter a rule reads inside a value");
			if (r != 0) {	/* never the token */
				put(w, first ? '?' : '&');
				first = 0;
				put_canonical(w, q + start, eq - start, KEEP_QUERY);
				if (eq < i) {
					put(w, '=');
					put_canonical(w, q + eq + 1, i - eq - 1, KEEP_QUERY);
				}
			}
		}
		i++;	/* past '&' */
	}
	if (w->len > at + 1 + TD_QUERY_MAX)	/* escaped, it would be refused as input */
		BAD("query too long");
	return TD_URI_OK;
}

enum td_uri_status
td_uri_canonicalize(const char *raw, size_t len, struct td_canon_uri *out)
{
	struct writer w = { out->text, 0, sizeof(out->text), 0 };
	const char *q;
	size_t plen;

	out->t.nsegments = 0;
	out->t.nparams = 0;
	out->len = 0;
	out->text[0] = '\0';
	out->why = NULL;
	if (raw == NULL || memchr(raw, '#', len) != NULL)
		BAD(raw == NULL ? "no URI" : "a fragment (#) in the URI");
	if (memchr(raw, '\0', len) != NULL)
		BAD("NUL in the URI");
	q = memchr(raw, '?', len);
	plen = q != NULL ? (size_t)(q - raw) : len;
	if (canonical_path(raw, plen, out, &w) != TD_URI_OK)
		return TD_URI_BAD;
	if (q != NULL && canonical_query(q + 1, len - plen - 1, out, &w) != TD_URI_OK)
		return TD_URI_BAD;
	if (w.overflow)
		BAD("canonical form too long");
	out->text[w.len] = '\0';
	out->len = w.len;
	return TD_URI_OK;
}
