#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tokend/limits.h"
#include "tokend/server/parse.h"
#include "tokend/server/router.h"

static const struct {
	const char *name;
	unsigned bit;
} method_names[] = {
	{ "GET", TD_METHOD_GET }, { "HEAD", TD_METHOD_HEAD }, { "POST", TD_METHOD_POST },
	{ "PUT", TD_METHOD_PUT }, { "PATCH", TD_METHOD_PATCH }, { "DELETE", TD_METHOD_DELETE },
	{ "OPTIONS", TD_METHOD_OPTIONS },
};

#define METHOD_NAMES_N (sizeof(method_names) / sizeof(method_names[0]))

unsigned
td_method_parse(const char *name)
{
	size_t i;

	for (i = 0; i < METHOD_NAMES_N; i++)
		if (strcmp(name, method_names[i].name) == 0)
			return method_names[i].bit;
	return TD_METHOD_OTHER;
}

size_t
td_methods_format(unsigned methods, char *buf, size_t size)
{
	size_t i, len = 0;
	int n;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	for (i = 0; i < METHOD_NAMES_N; i++) {
		if (!(methods & method_names[i].bit))
			continue;
		n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", method_names[i].name);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	return len;
}

/* Matches segments against one pattern; fills the parameters on success. */
static int
pattern_match(const char *pattern, const char *const *segments, int nsegments,
	      struct td_route_match *m)
{
	const char *p = pattern, *end;
	int64_t id;
	size_t len;
	int i = 0;

	m->nids = m->nstrs = 0;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			return i == nsegments;
		if (i == nsegments)
			return 0;
		end = strchr(p, '/');
		len = end ? (size_t)(end - p) : strlen(p);
		if (p[0] == '{' && p[1] == '*') {
			if (m->nstrs == TD_ROUTE_PARAMS_MAX)
				return 0;
			m->strs[m->nstrs++] = segments[i];
		} else if (p[0] == '{') {
			if (m->nids == TD_ROUTE_PARAMS_MAX ||
			    td_parse_id(segments[i], strlen(segments[i]), TD_ID_MAX, &id) != 0)
				return 0;
			m->ids[m->nids++] = id;
		} else if (strlen(segments[i]) != len || memcmp(p, segments[i], len) != 0) {
			return 0;
		}
		i++;
		p += len;
	}
}

enum td_match_status
td_router_match(const struct td_route *routes, size_t nroutes, unsigned method,
		const char *const *segments, int nsegments, struct td_route_match *m)
{
	unsigned want = method == TD_METHOD_HEAD ? TD_METHOD_GET : method;
	struct td_route_match scratch;
	size_t i;

	m->route = NULL;
	m->allow = 0;
	if (nsegments < 0)
		return TD_MATCH_NOT_FOUND;
	for (i = 0; i < nroutes; i++) {
		if (!pattern_match(routes[i].pattern, segments, nsegments, &scratch))
			continue;
		if (routes[i].methods & want) {
			*m = scratch;
			m->route = &routes[i];
			return TD_MATCH_OK;
		}
		m->allow |= routes[i].methods;
	}
	if (m->allow == 0)
		return TD_MATCH_NOT_FOUND;
	if (m->allow & TD_METHOD_GET)
		m->allow |= TD_METHOD_HEAD;
	return TD_MATCH_BAD_METHOD;
}

enum td_dialect
td_dialect_for_path(const char *const *segments, int nsegments)
{
	if (nsegments >= 1 && (strcmp(segments[0], "access_tokens") == 0 ||
			       strcmp(segments[0], "roles") == 0))
		return TD_DIALECT_DATOCMS;
	if (nsegments >= 1 && strcmp(segments[0], "public") == 0)
		return TD_DIALECT_SOFTWAREONE;
	if (nsegments >= 4 && strcmp(segments[0], "v1") == 0 &&
	    strcmp(segments[1], "spaces") == 0 && strcmp(segments[3], "api_keys") == 0)
		return TD_DIALECT_STORYBLOK;
	if (nsegments >= 2 && strcmp(segments[0], "v1") == 0 && strcmp(segments[1], "verify") == 0)
		return TD_DIALECT_VERIFY;
	return TD_DIALECT_ADMIN;
}
