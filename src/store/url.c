/*
 * redis_url: where the data lives. Every part is range-checked and every
 * mistake named; the credentials are percent-decoded and never echoed.
 */
#include <stdio.h>
#include <string.h>

#include "tokend/server/parse.h"
#include "tokend/store/store.h"

#define REDIS_PORT 6379
#define SENTINEL_PORT 26379

/* "[user]:password@" at *p, if there is one (the last '@' ends it, so a
 * password may hold '@' percent-encoded or not); *p moves past it. */
static int
parse_userinfo(const char **p, struct td_redis_url *out, char *err, size_t errlen)
{
	const char *at = strrchr(*p, '@'), *colon;

	if (at == NULL)
		return 0;
	colon = memchr(*p, ':', (size_t)(at - *p));
	if (colon == NULL ||
	    td_percent_decode(*p, (size_t)(colon - *p), out->user, sizeof(out->user)) < 0 ||
	    td_percent_decode(colon + 1, (size_t)(at - colon - 1), out->password,
			      sizeof(out->password)) < 0) {
		snprintf(err, errlen, "invalid value for redis_url: bad user:password part");
		return -1;
	}
	*p = at + 1;
	return 0;
}

/* "host[:port]" (len bytes) into node. */
static int
parse_node(const char *s, size_t len, int default_port, struct td_redis_node *node,
	   char *err, size_t errlen)
{
	const char *colon = memchr(s, ':', len);
	long long n;

	node->port = default_port;
	if (colon != NULL) {
		if (td_parse_int64(colon + 1, (size_t)(s + len - colon - 1), 1, 65535, &n) != 0) {
			snprintf(err, errlen, "invalid value for redis_url: bad port");
			return -1;
		}
		node->port = (int)n;
		len = (size_t)(colon - s);
	}
	if (len == 0 || len >= sizeof(node->host)) {
		snprintf(err, errlen, "invalid value for redis_url: missing host");
		return -1;
	}
	memcpy(node->host, s, len);
	node->host[len] = '\0';
	return 0;
}

/* "/N" or "" (database 0). */
static int
parse_db(const char *s, int *db, char *err, size_t errlen)
{
	long long n;

	if (s == NULL || s[0] == '\0' || (s[0] == '/' && s[1] == '\0'))
		return 0;
	if (s[0] != '/' || td_parse_int64(s + 1, strlen(s + 1), 0, TD_REDIS_DB_MAX, &n) != 0) {
		snprintf(err, errlen, "invalid value for redis_url: database must be 0..%d",
			 TD_REDIS_DB_MAX);
		return -1;
	}
	*db = (int)n;
	return 0;
}

static int
parse_unix(const char *p, struct td_redis_url *out, char *err, size_t errlen)
{
	const char *q = strchr(p, '?');
	size_t len = q ? (size_t)(q - p) : strlen(p);
	long long n;

	if (len == 0 || p[0] != '/' || len >= sizeof(out->path)) {
		snprintf(err, errlen, "invalid value for redis_url: want unix:///absolute/path");
		return -1;
	}
	memcpy(out->path, p, len);
	out->path[len] = '\0';
	out->is_unix = 1;
	if (q != NULL) {
		if (strncmp(q, "?db=", 4) != 0 ||
		    td_parse_int64(q + 4, strlen(q + 4), 0, TD_REDIS_DB_MAX, &n) != 0) {
			snprintf(err, errlen, "invalid value for redis_url: want ?db=0..%d",
				 TD_REDIS_DB_MAX);
			return -1;
		}
		out->db = (int)n;
	}
	return 0;
}

/* "host[:port],host[:port]…" from p to end into nodes (at most max). */
static int
parse_node_list(const char *p, const char *end, int default_port, struct td_redis_node *nodes,
		int max, int *n, const char *what, char *err, size_t errlen)
{
	const char *comma;

	for (; p < end; p = comma + 1) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		if (*n == max) {
			snprintf(err, errlen, "invalid value for redis_url: more than %d %s", max, what);
			return -1;
		}
		if (parse_node(p, (size_t)(comma - p), default_port, &nodes[(*n)++], err, errlen) != 0)
			return -1;
	}
	if (*n == 0) {
		snprintf(err, errlen, "invalid value for redis_url: missing host");
		return -1;
	}
	return 0;
}

/* host:port[,host:port…]/MASTER_NAME[/db] after the userinfo. */
static int
parse_sentinel(const char *p, struct td_redis_url *out, char *err, size_t errlen)
{
	const char *slash = strchr(p, '/'), *name, *name_end;
	size_t len;

	if (slash == NULL) {
		snprintf(err, errlen, "invalid value for redis_url: want "
			 "redis-sentinel://host:port[,host:port…]/MASTER_NAME[/db]");
		return -1;
	}
	if (parse_node_list(p, slash, SENTINEL_PORT, out->sentinels, TD_SENTINELS_MAX,
			    &out->nsentinels, "sentinels", err, errlen) != 0)
		return -1;
	name = slash + 1;
	name_end = strchr(name, '/');
	len = name_end ? (size_t)(name_end - name) : strlen(name);
	if (len == 0 || len >= sizeof(out->master_name) ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") < len) {
		snprintf(err, errlen, "invalid value for redis_url: the master name must be 1..%d "
			 "of A-Z a-z 0-9 . _ -", TD_SENTINEL_NAME_MAX - 1);
		return -1;
	}
	memcpy(out->master_name, name, len);
	out->master_name[len] = '\0';
	out->is_sentinel = 1;
	return parse_db(name_end, &out->db, err, errlen);
}

/* host:port[,host:port…][/0] after the userinfo: a cluster has database 0 only. */
static int
parse_cluster(const char *p, struct td_redis_url *out, char *err, size_t errlen)
{
	const char *slash = strchr(p, '/');

	if (parse_node_list(p, slash ? slash : p + strlen(p), REDIS_PORT, out->seeds,
			    TD_CLUSTER_SEEDS_MAX, &out->nseeds, "cluster nodes", err, errlen) != 0)
		return -1;
	if (slash != NULL && strcmp(slash, "/") != 0 && strcmp(slash, "/0") != 0) {
		snprintf(err, errlen, "invalid value for redis_url: a Redis Cluster has database 0 only");
		return -1;
	}
	out->is_cluster = 1;
	return 0;
}

int
td_redis_url_parse(const char *url, struct td_redis_url *out, char *err, size_t errlen)
{
	const char *p, *slash;
	struct td_redis_node node;

	memset(out, 0, sizeof(*out));
	out->port = REDIS_PORT;
	if (strncmp(url, "unix://", 7) == 0)
		return parse_unix(url + 7, out, err, errlen);
	if (strncmp(url, "rediss://", 9) == 0) {
		snprintf(err, errlen, "invalid value for redis_url: rediss:// (TLS) is not available: "
			 "Debian 12's hiredis (0.14) has no TLS; reach a remote Redis through a "
			 "local TLS tunnel (stunnel, see the README) at redis://127.0.0.1:PORT");
		return -1;
	}
	if (strncmp(url, "redis-sentinel://", 17) == 0) {
		p = url + 17;
		return parse_userinfo(&p, out, err, errlen) != 0 ? -1
		       : parse_sentinel(p, out, err, errlen);
	}
	if (strncmp(url, "redis-cluster://", 16) == 0) {
		p = url + 16;
		return parse_userinfo(&p, out, err, errlen) != 0 ? -1
		       : parse_cluster(p, out, err, errlen);
	}
	if (strncmp(url, "redis://", 8) != 0) {
		snprintf(err, errlen, "invalid value for redis_url: want redis://, "
			 "redis-sentinel://, redis-cluster:// or unix://");
		return -1;
	}
	p = url + 8;
	if (parse_userinfo(&p, out, err, errlen) != 0)
		return -1;
	slash = strchr(p, '/');
	if (parse_node(p, slash ? (size_t)(slash - p) : strlen(p), REDIS_PORT, &node, err,
		       errlen) != 0)
		return -1;
	memcpy(out->host, node.host, sizeof(out->host));
	out->port = node.port;
	return parse_db(slash, &out->db, err, errlen);
}
