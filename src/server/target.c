#include <string.h>

#include "tokend/server/parse.h"
#include "tokend/server/target.h"

static enum td_target_status
parse_path(struct td_target *t, const char *path, size_t len)
{
	size_t i = 0, start, used = 0;
	ssize_t n;

	if (len == 0 || path[0] != '/')
		return TD_TARGET_BAD;
	if (len > TD_PATH_MAX)
		return TD_TARGET_TOO_LONG;
	t->nsegments = 0;
	while (i < len) {
		while (i < len && path[i] == '/')
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		n = td_percent_decode(path + start, i - start, t->segbuf + used,
				      sizeof(t->segbuf) - used);
		if (n < 0)
			return TD_TARGET_BAD;
		if (t->nsegments >= 0 && t->nsegments < TD_PATH_SEGMENTS_MAX)
			t->segments[t->nsegments++] = t->segbuf + used;
		else
			t->nsegments = -1;	/* too deep for any route: a 404 */
		used += (size_t)n + 1;
	}
	return TD_TARGET_OK;
}

static enum td_target_status
parse_query(struct td_target *t, const char *q, size_t len)
{
	size_t i = 0, start, eq, used = 0;
	ssize_t n;

	if (len > TD_QUERY_MAX)
		return TD_TARGET_TOO_LONG;
	t->nparams = 0;
	while (i < len) {
		start = i;
		while (i < len && q[i] != '&')
			i++;
		if (i > start) {
			if (t->nparams == TD_QUERY_PARAMS_MAX)
				return TD_TARGET_TOO_LONG;
			for (eq = start; eq < i && q[eq] != '='; eq++)
				;
			n = td_percent_decode(q + start, eq - start, t->querybuf + used,
					      sizeof(t->querybuf) - used);
			if (n < 0)
				return TD_TARGET_BAD;
			t->params[t->nparams].key = t->querybuf + used;
			used += (size_t)n + 1;
			n = eq < i ? td_percent_decode(q + eq + 1, i - eq - 1, t->querybuf + used,
						       sizeof(t->querybuf) - used)
				   : td_percent_decode("", 0, t->querybuf + used,
						       sizeof(t->querybuf) - used);
			if (n < 0)
				return TD_TARGET_BAD;
			t->params[t->nparams].value = t->querybuf + used;
			t->params[t->nparams].has_value = eq < i;
			used += (size_t)n + 1;
			t->nparams++;
		}
		i++;	/* past '&' */
	}
	return TD_TARGET_OK;
}

enum td_target_status
td_target_parse(struct td_target *t, const char *uri)
{
	const char *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : strlen(uri);
	enum td_target_status st;

	t->nsegments = 0;
	t->nparams = 0;
	st = parse_path(t, uri, plen);
	if (st != TD_TARGET_OK || q == NULL)
		return st;
	return parse_query(t, q + 1, strlen(q + 1));
}

const char *
td_target_query(const struct td_target *t, const char *key)
{
	int i;

	for (i = 0; i < t->nparams; i++)
		if (strcmp(t->params[i].key, key) == 0)
			return t->params[i].value;
	return NULL;
}
