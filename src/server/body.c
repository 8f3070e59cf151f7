#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tokend/server/body.h"

int
td_media_type_is_json(const char *ct)
{
	const char *end;
	size_t len;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	end = strchr(ct, ';');
	len = end ? (size_t)(end - ct) : strlen(ct);
	while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
		len--;
	if (len == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return 1;
	/* structured syntax suffix (RFC 6839): application/vnd.api+json */
	return len > 17 && strncasecmp(ct, "application/", 12) == 0 &&
	       strncasecmp(ct + len - 5, "+json", 5) == 0;
}

/* Key counts of the objects in text, in the order they open. The text is
 * JSON json-c has already accepted, so the scan only needs to follow
 * strings, nesting and the key positions; it decodes nothing. */
static int
text_key_counts(const char *s, size_t len, int **counts, size_t *n)
{
	size_t i, cap = 16, top = 0, stack_cap = 16;
	int *c = malloc(cap * sizeof(*c));
	size_t *stack = malloc(stack_cap * sizeof(*stack));	/* index in c, or SIZE_MAX for [ */
	int expect_key = 0, rc = -1;

	*n = 0;
	if (c == NULL || stack == NULL)
		goto done;
	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '"':
			if (expect_key && top > 0 && stack[top - 1] != (size_t)-1)
				c[stack[top - 1]]++;
			expect_key = 0;
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			break;
		case '{':
		case '[':
			if (top == stack_cap) {
				size_t *grown = realloc(stack, 2 * stack_cap * sizeof(*stack));

				if (grown == NULL)
					goto done;
				stack = grown;
				stack_cap *= 2;
			}
			if (s[i] == '[') {
				stack[top++] = (size_t)-1;
				break;
			}
			if (*n == cap) {
				int *grown = realloc(c, 2 * cap * sizeof(*c));

				if (grown == NULL)
					goto done;
				c = grown;
				cap *= 2;
			}
			c[*n] = 0;
			stack[top++] = (*n)++;
			expect_key = 1;
			break;
		case '}':
		case ']':
			if (top > 0)
				top--;
			break;
		case ',':
			expect_key = top > 0 && stack[top - 1] != (size_t)-1;
			break;
		case '\'':
			rc = -2;	/* json-c lets single-quoted strings through; JSON does not */
			goto done;
		default:
			break;
		}
	}
	*counts = c;
	c = NULL;
	rc = 0;
done:
	free(c);
	free(stack);
	return rc;
}

/* The parsed objects' sizes in the same (opening) order. */
static int
tree_matches(struct json_object *o, const int *counts, size_t n, size_t *at)
{
	size_t i;

	if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++)
			if (!tree_matches(json_object_array_get_idx(o, i), counts, n, at))
				return 0;
		return 1;
	}
	if (!json_object_is_type(o, json_type_object))
		return 1;
	if (*at >= n || counts[*at] != json_object_object_length(o))
		return 0;
	(*at)++;
	json_object_object_foreach(o, key, value) {
		(void)key;
		if (!tree_matches(value, counts, n, at))
			return 0;
	}
	return 1;
}

/* Why a body json-c accepted is still refused, or NULL. A repeated key makes an object mean different things to different
 * parsers (json-c keeps the last value, others the first), so it is
 * refused. json-c keeps keys in first-seen order, so the objects of the
 * text and of the tree line up until the first object with a repeat,
 * where the text counts more keys than the tree holds. */
static const char *
ambiguous(const char *text, size_t len, struct json_object *obj)
{
	size_t n = 0, at = 0;
	int *counts = NULL, rc, dup;

	if (memchr(text, '{', len) == NULL && memchr(text, '\'', len) == NULL)
		return NULL;
	rc = text_key_counts(text, len, &counts, &n);
	if (rc == -2)
		return "single-quoted strings are not JSON";
	if (rc != 0)
		return "out of memory";		/* refuse rather than guess */
	dup = !tree_matches(obj, counts, n, &at) || at != n;
	free(counts);
	return dup ? "duplicate key in an object" : NULL;
}

struct json_object *
td_json_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	const char *why;
	size_t end;

	if (len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "body too large to parse");
		return NULL;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "body contains a NUL byte");
		return NULL;
	}
	tok = json_tokener_new_ex(max_depth);
	if (tok == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue && obj == NULL) {
		/* A bare top-level number ("123") only ends at a delimiter:
		 * give json-c the end of input as one. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		if (jerr == json_tokener_success)
			goto done;
	}
	if (jerr == json_tokener_continue) {
		snprintf(err, errlen, "truncated JSON");
		goto fail;
	}
	if (jerr != json_tokener_success) {
		snprintf(err, errlen, "%s", json_tokener_error_desc(jerr));
		goto fail;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++) {
		if (!strchr(" \t\r\n", text[end])) {
			snprintf(err, errlen, "trailing data after the JSON value");
			goto fail;
		}
	}
done:
	json_tokener_free(tok);
	if ((why = ambiguous(text, len, obj)) != NULL) {
		snprintf(err, errlen, "%s", why);
		json_object_put(obj);
		return NULL;
	}
	return obj;
fail:
	json_object_put(obj);
	json_tokener_free(tok);
	return NULL;
}
