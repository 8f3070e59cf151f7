/*
 * The configuration is a table of keys (config_keys below); parsing the
 * file, the environment overrides and check-config's printout all walk the
 * same table, so a key added there is automatically overridable and printed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tokend/server/config.h"
#include "tokend/core/verify_cache.h"
#include "tokend/server/parse.h"
#include "tokend/store/store.h"

enum key_type {
	KEY_STRING,
	KEY_INT,
	KEY_BOOL,
	KEY_MODE,
	KEY__MAX
};

struct config_key {
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;		/* KEY_STRING: capacity */
	long long min, max;	/* KEY_INT, KEY_MODE */
	int secret;		/* redacted by td_config_print */
	const char *help;
};

#define STR(field, secret, help) \
	{ #field, KEY_STRING, offsetof(struct td_config, field), \
	  sizeof(((struct td_config *)0)->field), 0, 0, secret, help }
#define INT(field, min, max, help) \
	{ #field, KEY_INT, offsetof(struct td_config, field), sizeof(int), min, max, 0, help }

static const struct config_key config_keys[] = {
	STR(listen, 0, "auto | stdin | unix:/path | /path | host:port"),
	STR(verify_listen, 0, "the verify path's own pool: unix:/path | /path | host:port; empty = none"),
	INT(verify_workers, 0, TD_WORKERS_MAX, "workers of the verify pool; 0 = one per core"),
	STR(metrics_listen, 0, "Prometheus metrics over HTTP: host:port | unix:/path; empty = off"),
	INT(management_nice, 0, 19, "with a verify pool: niceness of the management workers"),
	{ "socket_mode", KEY_MODE, offsetof(struct td_config, socket_mode), sizeof(int),
	  0, 0777, 0, "octal mode of a Unix listening socket" },
	STR(socket_owner, 0, "user[:group] of a Unix listening socket"),
	INT(workers, 0, TD_WORKERS_MAX, "worker processes; 0 = one per core"),
	INT(worker_connections, 1, TD_WORKER_CONNS_MAX, "FastCGI connections per worker"),
	INT(io_timeout_ms, 100, 600000, "read/write timeout on a FastCGI connection"),
	INT(shutdown_timeout_ms, 0, 600000, "grace for in-flight requests on SIGTERM"),
	STR(redis_url, 1, "redis://[user:password@]host:port/db | unix:///path?db=N | "
	    "redis-sentinel://host:port,…/MASTER[/db] | redis-cluster://host:port,…"),
	STR(redis_password, 1, "Redis password (prefer redis_password_file)"),
	STR(redis_password_file, 0, "file holding the Redis password"),
	INT(redis_connect_timeout_ms, 1, TD_REDIS_TIMEOUT_MAX_MS, "Redis connect timeout"),
	INT(redis_command_timeout_ms, 1, TD_REDIS_TIMEOUT_MAX_MS, "Redis command timeout"),
	INT(redis_retry_interval_ms, 1, TD_REDIS_TIMEOUT_MAX_MS, "pause between reconnect attempts"),
	INT(redis_min_replica_acks, 0, TD_REPLICA_ACKS_MAX,
	    "replicas that must confirm each write (WAIT) before it is acknowledged; 0 = none"),
	INT(redis_wait_timeout_ms, 1, TD_REDIS_TIMEOUT_MAX_MS,
	    "how long a write waits for those replicas; past it, 503"),
	STR(keyring_file, 0, "signing keys: '<id> <base64 key>' lines, mode 0600"),
	INT(body_max_bytes, 0, TD_BODY_MAX_LIMIT, "request body cap; larger is 413"),
	INT(json_max_depth, 1, TD_JSON_DEPTH_LIMIT, "JSON nesting cap; deeper is 400"),
	{ "access_log", KEY_BOOL, offsetof(struct td_config, access_log), sizeof(int),
	  0, 1, 0, "one line per request on stderr" },
	INT(rate_limit_requests, 1, 1000000, "default management calls per window, per caller and space"),
	INT(rate_limit_window_ms, 100, 3600000, "the rate-limit window (GCRA period; DatoCMS: 3 s)"),
	INT(space_write_rate, 1, TD_RATE_LIMIT_MAX,
	    "writes per window to one space, by all its callers together"),
	INT(space_tokens_max, 1, TD_SPACE_TOKENS_LIMIT, "tokens one space may hold"),
	INT(record_bytes_max, TD_RECORD_BYTES_MIN, TD_RECORD_BYTES_LIMIT,
	    "bytes one stored token may take"),
	INT(last_used_interval, 1, 86400,
	    "seconds between two writes of one credential's last use"),
	INT(pats_per_owner, 1, TD_PATS_PER_OWNER_LIMIT,
	    "personal access tokens one personal access token may have made and alive"),
	INT(leak_report_rate, 1, TD_RATE_LIMIT_MAX,
	    "leak reports (POST /v1/credentials/revoke) per minute, per client address"),
	INT(verify_cache_entries, 0, TD_VERIFY_CACHE_MAX,
	    "per-worker verify cache slots, exact by Redis tracking; 0 = off"),
	{ "verify_fail_open", KEY_BOOL, offsetof(struct td_config, verify_fail_open), sizeof(int),
	  0, 1, 0, "Redis down: off = verify refuses (403), on = tag-valid tokens pass" },
	{ "trusted_proxies", KEY_STRING, offsetof(struct td_config, trusted_proxies_text),
	  sizeof(((struct td_config *)0)->trusted_proxies_text), 0, 0, 0,
	  "comma-separated ranges whose X-Forwarded-For names the client; empty = none" },
};

#define CONFIG_KEYS_N (sizeof(config_keys) / sizeof(config_keys[0]))

const char *
td_config_locate(const char *cli_path, int *explicit_path)
{
	const char *env = getenv("TOKEND_CONFIG");

	*explicit_path = 1;
	if (cli_path != NULL)
		return cli_path;
	if (env != NULL && env[0] != '\0')
		return env;
	*explicit_path = 0;
	return TD_CONFIG_DEFAULT_PATH;
}

void
td_config_defaults(struct td_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->listen, "auto");
	cfg->management_nice = TD_MANAGEMENT_NICE_DEFAULT;
	cfg->socket_mode = 0660;
	cfg->workers = 0;
	cfg->worker_connections = TD_WORKER_CONNS_DEFAULT;
	cfg->io_timeout_ms = 10000;
	cfg->shutdown_timeout_ms = 10000;
	strcpy(cfg->redis_url, "redis://127.0.0.1:6379/0");
	strcpy(cfg->keyring_file, "/etc/tokend/keyring");
	cfg->redis_connect_timeout_ms = 250;
	cfg->redis_command_timeout_ms = 1000;
	cfg->redis_retry_interval_ms = 100;
	cfg->redis_wait_timeout_ms = 500;
	cfg->body_max_bytes = TD_BODY_MAX_DEFAULT;
	cfg->json_max_depth = TD_JSON_DEPTH_DEFAULT;
	cfg->access_log = 1;
	cfg->rate_limit_requests = 60;
	cfg->rate_limit_window_ms = 3000;
	cfg->space_write_rate = 300;
	cfg->space_tokens_max = 10000;
	cfg->record_bytes_max = 16384;
	cfg->pats_per_owner = 100;
	cfg->last_used_interval = 60;
	cfg->leak_report_rate = TD_LEAK_REPORT_RATE_DEFAULT;
	cfg->verify_cache_entries = 65536;
}

static const struct config_key *
key_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < CONFIG_KEYS_N; i++)
		if (strlen(config_keys[i].name) == len &&
		    strncmp(config_keys[i].name, name, len) == 0)
			return &config_keys[i];
	return NULL;
}

static int
key_set(struct td_config *cfg, const struct config_key *key, const char *value,
	const char *origin, char *err, size_t errlen)
{
	char *field = (char *)cfg + key->offset;
	long long n;

	switch (key->type) {
	case KEY_STRING:
		if (strlen(value) >= key->size) {
			snprintf(err, errlen, "%s: invalid value for %s: longer than %zu bytes",
				 origin, key->name, key->size - 1);
			return -1;
		}
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case KEY_INT:
		if (td_parse_int64(value, strlen(value), key->min, key->max, &n) != 0) {
			snprintf(err, errlen, "%s: invalid value for %s: want an integer in %lld..%lld",
				 origin, key->name, key->min, key->max);
			return -1;
		}
		*(int *)(void *)field = (int)n;
		return 0;
	case KEY_MODE:
		if (td_parse_octal_mode(value, &n) != 0) {
			snprintf(err, errlen, "%s: invalid value for %s: want an octal mode like 0660",
				 origin, key->name);
			return -1;
		}
		*(int *)(void *)field = (int)n;
		return 0;
	case KEY_BOOL:
		if (strcmp(value, "on") == 0 || strcmp(value, "true") == 0 ||
		    strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
			n = 1;
		else if (strcmp(value, "off") == 0 || strcmp(value, "false") == 0 ||
			 strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
			n = 0;
		else {
			snprintf(err, errlen, "%s: invalid value for %s: want on or off",
				 origin, key->name);
			return -1;
		}
		*(int *)(void *)field = (int)n;
		return 0;
	case KEY__MAX:
		break;
	}
	snprintf(err, errlen, "%s: key %s has no type", origin, key->name);
	return -1;
}

static const char *
skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *
trim_end(const char *start, const char *p)
{
	while (p > start && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\r'))
		p--;
	return p;
}

/* The value of a line, between v and end: "quoted" (kept whole, '#'
 * included), or bare up to a '#' that follows a space (a trailing comment).
 * *out_end is where the value stops; -1 when text other than a comment
 * follows a closing quote. */
static int
value_bounds(const char *v, const char *end, const char **out_v, const char **out_end)
{
	const char *p, *q;

	if (v < end && *v == '"' && (q = memchr(v + 1, '"', (size_t)(end - v - 1))) != NULL) {
		p = skip_space(q + 1, end);
		if (p < end && *p != '#' && *p != '\r')
			return -1;
		*out_v = v + 1;
		*out_end = q;
		return 0;
	}
	for (p = v; p < end; p++)
		if (*p == '#' && (p == v || p[-1] == ' ' || p[-1] == '\t'))
			break;
	*out_v = v;
	*out_end = trim_end(v, p);
	return 0;
}

/* One "key = value [# comment]" line; blank lines and '#' lines are skipped. */
static int
parse_line(struct td_config *cfg, const char *line, const char *end, int lineno,
	   unsigned char *seen, char *err, size_t errlen)
{
	char value[TD_CONFIG_LINE_MAX], origin[64];
	const char *name, *name_end, *eq, *v, *v_end;
	const struct config_key *key;
	size_t vlen;

	snprintf(origin, sizeof(origin), "line %d", lineno);
	line = skip_space(line, end);
	if (line == end || *line == '#' || *line == '\r')
		return 0;
	eq = memchr(line, '=', (size_t)(end - line));
	if (eq == NULL) {
		snprintf(err, errlen, "%s: expected key = value", origin);
		return -1;
	}
	name = line;
	name_end = trim_end(name, eq);
	key = key_find(name, (size_t)(name_end - name));
	if (key == NULL) {
		snprintf(err, errlen, "%s: unknown key '%.*s'", origin,
			 (int)(name_end - name > 64 ? 64 : name_end - name), name);
		return -1;
	}
	if (seen[key - config_keys]++) {
		snprintf(err, errlen, "%s: duplicate key %s", origin, key->name);
		return -1;
	}
	if (value_bounds(skip_space(eq + 1, end), trim_end(eq + 1, end), &v, &v_end) != 0) {
		snprintf(err, errlen, "%s: text after the quoted value of %s", origin, key->name);
		return -1;
	}
	vlen = (size_t)(v_end - v);
	if (vlen >= sizeof(value) || memchr(v, '\0', vlen) != NULL) {
		snprintf(err, errlen, "%s: invalid value for %s", origin, key->name);
		return -1;
	}
	memcpy(value, v, vlen);
	value[vlen] = '\0';
	return key_set(cfg, key, value, origin, err, errlen);
}

/* Appends one line's error to err ("; " between them), so a file with
 * several mistakes is fixed in one round. */
static void
add_error(char *err, size_t errlen, const char *line_err)
{
	size_t used = strlen(err);

	if (used + 2 < errlen)
		snprintf(err + used, errlen - used, "%s%s", used ? "; " : "", line_err);
}

int
td_config_parse_text(struct td_config *cfg, const char *text, size_t len,
		     char *err, size_t errlen)
{
	unsigned char seen[CONFIG_KEYS_N];
	const char *p = text, *end = text + len, *nl;
	char line_err[256];
	int lineno = 0, rc = 0;

	memset(seen, 0, sizeof(seen));
	if (errlen > 0)
		err[0] = '\0';
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		lineno++;
		if (nl - p >= TD_CONFIG_LINE_MAX) {
			snprintf(line_err, sizeof(line_err), "line %d: longer than %d bytes", lineno,
				 TD_CONFIG_LINE_MAX - 1);
			add_error(err, errlen, line_err);
			rc = -1;
		} else if (parse_line(cfg, p, nl, lineno, seen, line_err, sizeof(line_err)) != 0) {
			add_error(err, errlen, line_err);
			rc = -1;
		}
		p = nl + 1;
	}
	return rc;
}

int
td_config_apply_env(struct td_config *cfg, char *err, size_t errlen)
{
	char envname[96], origin[112];
	const char *value;
	size_t i, j;

	for (i = 0; i < CONFIG_KEYS_N; i++) {
		snprintf(envname, sizeof(envname), "TOKEND_%s", config_keys[i].name);
		for (j = 7; envname[j] != '\0'; j++)
			envname[j] = (char)toupper((unsigned char)envname[j]);
		value = getenv(envname);
		if (value == NULL)
			continue;
		snprintf(origin, sizeof(origin), "environment %s", envname);
		if (key_set(cfg, &config_keys[i], value, origin, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Reads a whole small file (a config or a secret), refusing large ones. */
static int
read_small_file(const char *path, char *buf, size_t size, size_t *len,
		char *err, size_t errlen)
{
	ssize_t n;
	size_t got = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (got == size) {
			snprintf(err, errlen, "%s: larger than %zu bytes", path, size - 1);
			goto fail;
		}
		n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	rc = 0;
fail:
	close(fd);
	return rc;
}

/* key names the setting in errors; fd0 allows "auto" and "stdin" (a pool
 * that may take the socket a process manager hands over on fd 0). */
static int
parse_listen(const char *key, const char *v, int fd0, struct td_listen_addr *out,
	     char *err, size_t errlen)
{
	const char *colon, *path = NULL;
	long long port;
	size_t hostlen;

	memset(out, 0, sizeof(*out));
	if (fd0 && strcmp(v, "auto") == 0) {
		out->kind = TD_LISTEN_AUTO;
		snprintf(out->path, sizeof(out->path), "/run/tokend/tokend.sock");
		return 0;
	}
	if (fd0 && (strcmp(v, "stdin") == 0 || strcmp(v, "fd:0") == 0)) {
		out->kind = TD_LISTEN_INHERIT;
		return 0;
	}
	if (strncmp(v, "unix:", 5) == 0)
		path = v + 5;
	else if (v[0] == '/' || v[0] == '.')
		path = v;
	if (path != NULL) {
		if (path[0] == '\0' || strlen(path) >= sizeof(out->path)) {
			snprintf(err, errlen, "invalid value for %s: socket path empty or longer than %zu bytes",
				 key, sizeof(out->path) - 1);
			return -1;
		}
		out->kind = TD_LISTEN_UNIX;
		memcpy(out->path, path, strlen(path) + 1);
		return 0;
	}
	colon = strrchr(v, ':');
	if (colon == NULL || td_parse_int64(colon + 1, strlen(colon + 1), 1, 65535, &port) != 0) {
		snprintf(err, errlen, "invalid value for %s: want %sunix:/path or host:port", key,
			 fd0 ? "auto, stdin, " : "");
		return -1;
	}
	hostlen = (size_t)(colon - v);
	if (hostlen >= 2 && v[0] == '[' && v[hostlen - 1] == ']') {
		v++;
		hostlen -= 2;
	}
	if (hostlen == 0 || hostlen >= sizeof(out->host)) {
		snprintf(err, errlen, "invalid value for %s: missing host in host:port", key);
		return -1;
	}
	memcpy(out->host, v, hostlen);
	out->host[hostlen] = '\0';
	out->port = (int)port;
	out->kind = TD_LISTEN_TCP;
	return 0;
}

/* Two pools on one address would take each other's connections. */
static int
same_address(const struct td_listen_addr *a, const struct td_listen_addr *b)
{
	if (a->kind == TD_LISTEN_TCP && b->kind == TD_LISTEN_TCP)
		return a->port == b->port;
	if ((a->kind == TD_LISTEN_UNIX || a->kind == TD_LISTEN_AUTO) && b->kind == TD_LISTEN_UNIX)
		return strcmp(a->path, b->path) == 0;
	return 0;
}

/* An extra listener (verify, metrics): its own address, never fd 0, never
 * one of the listeners before it. */
static int
resolve_extra(const char *key, const char *v, struct td_listen_addr *at,
	      const struct td_listen_addr *const *others, char *err, size_t errlen)
{
	memset(at, 0, sizeof(*at));
	if (v[0] == '\0')
		return 0;
	if (parse_listen(key, v, 0, at, err, errlen) != 0)
		return -1;
	for (; *others != NULL; others++)
		if ((*others)->port != 0 || (*others)->path[0] != '\0')
			if (same_address(*others, at) || same_address(at, *others)) {
				snprintf(err, errlen, "invalid value for %s: the same address as "
					 "another listener", key);
				return -1;
			}
	return 0;
}

static int
resolve_listeners(struct td_config *cfg, char *err, size_t errlen)
{
	const struct td_listen_addr *before_verify[] = { &cfg->listen_at, NULL };
	const struct td_listen_addr *before_metrics[] = { &cfg->listen_at, &cfg->verify_listen_at,
							  NULL };

	if (parse_listen("listen", cfg->listen, 1, &cfg->listen_at, err, errlen) != 0)
		return -1;
	if (resolve_extra("verify_listen", cfg->verify_listen, &cfg->verify_listen_at,
			  before_verify, err, errlen) != 0)
		return -1;
	return resolve_extra("metrics_listen", cfg->metrics_listen, &cfg->metrics_listen_at,
			     before_metrics, err, errlen);
}

static int
check_owner(const char *owner, char *err, size_t errlen)
{
	char user[TD_CONFIG_STR_MAX];
	const char *colon = strchr(owner, ':');
	size_t ulen = colon ? (size_t)(colon - owner) : strlen(owner);

	memcpy(user, owner, ulen);
	user[ulen] = '\0';
	if (ulen > 0 && getpwnam(user) == NULL) {
		snprintf(err, errlen, "invalid value for socket_owner: no user '%s'", user);
		return -1;
	}
	if (colon != NULL && colon[1] != '\0' && getgrnam(colon + 1) == NULL) {
		snprintf(err, errlen, "invalid value for socket_owner: no group '%s'", colon + 1);
		return -1;
	}
	return 0;
}

int
td_config_finish(struct td_config *cfg, char *err, size_t errlen)
{
	char secret[TD_SECRET_MAX];
	struct td_redis_url url;
	const char *why;
	size_t len;
	long cores;
	int rc;

	if (resolve_listeners(cfg, err, errlen) != 0)
		return -1;
	if (td_cidr_list_parse(cfg->trusted_proxies_text, strlen(cfg->trusted_proxies_text),
			       &cfg->trusted_proxies, &why) != 0) {
		snprintf(err, errlen, "invalid value for trusted_proxies: %s", why);
		return -1;
	}
	if (cfg->socket_owner[0] != '\0' && check_owner(cfg->socket_owner, err, errlen) != 0)
		return -1;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	cores = cores < 1 ? 1 : cores > TD_WORKERS_MAX ? TD_WORKERS_MAX : cores;
	if (cfg->workers == 0)
		cfg->workers = (int)cores;
	if (cfg->verify_workers == 0)
		cfg->verify_workers = (int)cores;
	if (cfg->redis_password_file[0] != '\0') {
		if (read_small_file(cfg->redis_password_file, secret, sizeof(secret), &len,
				    err, errlen) != 0)
			return -1;
		while (len > 0 && (secret[len - 1] == '\n' || secret[len - 1] == '\r'))
			len--;
		if (memchr(secret, '\0', len) != NULL) {
			snprintf(err, errlen, "invalid value for redis_password_file: contains a NUL byte");
			return -1;
		}
		memcpy(cfg->redis_password, secret, len);
		cfg->redis_password[len] = '\0';
		explicit_bzero(secret, sizeof(secret));
	}
	if (cfg->redis_min_replica_acks > 0 &&
	    cfg->redis_wait_timeout_ms >= cfg->redis_command_timeout_ms) {
		snprintf(err, errlen, "invalid value for redis_wait_timeout_ms: must be below "
			 "redis_command_timeout_ms (%d), or every unconfirmed write drops the connection",
			 cfg->redis_command_timeout_ms);
		return -1;
	}
	rc = td_redis_url_parse(cfg->redis_url, &url, err, errlen);
	explicit_bzero(&url, sizeof(url));
	return rc;
}

int
td_config_load(struct td_config *cfg, const char *path, int explicit_path,
	       char *err, size_t errlen)
{
	static char text[TD_CONFIG_FILE_MAX];
	char ferr[512];
	size_t len = 0;

	td_config_defaults(cfg);
	if (access(path, F_OK) == 0 || explicit_path) {
		if (read_small_file(path, text, sizeof(text), &len, err, errlen) != 0)
			return -1;
		if (td_config_parse_text(cfg, text, len, ferr, sizeof(ferr)) != 0) {
			snprintf(err, errlen, "%s: %s", path, ferr);
			return -1;
		}
		snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	}
	if (td_config_apply_env(cfg, err, errlen) != 0)
		return -1;
	return td_config_finish(cfg, err, errlen);
}

/* Prints a Redis URL without its credentials ("user:password@"); 1 when
 * there were some. */
static int
print_url_without_credentials(const char *url, FILE *out)
{
	const char *scheme_end = strstr(url, "://");
	const char *at, *start;

	if (scheme_end == NULL || (at = strchr(scheme_end + 3, '@')) == NULL) {
		fprintf(out, "\"%s\"", url);
		return 0;
	}
	start = scheme_end + 3;
	fprintf(out, "\"%.*s%s\"", (int)(start - url), url, at + 1);
	return 1;
}

/* A loadable config file: every value quoted, secrets as comments. */
void
td_config_print(const struct td_config *cfg, FILE *out)
{
	const struct config_key *key;
	const char *field;
	const char *note = "";
	size_t i;

	fprintf(out, "# config file: %s\n", cfg->path[0] ? cfg->path : "(none)");
	for (i = 0; i < CONFIG_KEYS_N; i++, note = "") {
		key = &config_keys[i];
		field = (const char *)cfg + key->offset;
		if (key->type == KEY_STRING && key->secret && field[0] != '\0' &&
		    strcmp(key->name, "redis_url") != 0) {
			fprintf(out, "# %s = (redacted)\t# %s\n", key->name, key->help);
			continue;
		}
		fprintf(out, "%s = ", key->name);
		switch (key->type) {
		case KEY_STRING:
			if (strcmp(key->name, "redis_url") == 0) {
				if (print_url_without_credentials(field, out))
					note = " (its credentials are set and left out here)";
			} else {
				fprintf(out, "\"%s\"", field);
			}
			break;
		case KEY_INT:
			fprintf(out, "%d", *(const int *)(const void *)field);
			break;
		case KEY_MODE:
			fprintf(out, "0%03o", *(const int *)(const void *)field);
			break;
		case KEY_BOOL:
			fprintf(out, "%s", *(const int *)(const void *)field ? "on" : "off");
			break;
		case KEY__MAX:
			break;
		}
		fprintf(out, "\t# %s%s\n", key->help, note);
	}
}
