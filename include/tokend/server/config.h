/*
 * Configuration: a "key = value" file, then TOKEND_<KEY> environment
 * variables over it, then validation. Secrets come from a file or the
 * environment, never from argv.
 */
#ifndef TOKEND_CONFIG_H
#define TOKEND_CONFIG_H

#include <stdio.h>

#include "tokend/limits.h"
#include "tokend/core/cidr.h"

#define TD_CONFIG_DEFAULT_PATH "/etc/tokend/tokend.conf"

enum td_listen_kind {
	TD_LISTEN_AUTO,		/* fd 0 if it is a listening socket, else the default socket */
	TD_LISTEN_INHERIT,	/* fd 0, as spawn-fcgi and mod_fcgid hand it over */
	TD_LISTEN_UNIX,
	TD_LISTEN_TCP,
	TD_LISTEN__MAX
};

/* Where a pool of workers accepts connections, parsed from its key. */
struct td_listen_addr {
	enum td_listen_kind kind;
	char path[108];			/* sizeof(sun_path) */
	char host[256];
	int port;
};

struct td_config {
	char path[TD_CONFIG_STR_MAX];	/* the file read, "" when none */

	char listen[TD_CONFIG_STR_MAX];
	struct td_listen_addr listen_at;
	/* The verify path's own listener and pool, so a verify never waits
	 * behind management work; "" = the verify path is served by the
	 * workers above, with everything else. */
	char verify_listen[TD_CONFIG_STR_MAX];
	struct td_listen_addr verify_listen_at;
	int verify_workers;		/* resolved: 0 in the file means one per core */
	/* Prometheus scrapes (HTTP, GET /metrics) answered by a process of
	 * their own; "" = none */
	char metrics_listen[TD_CONFIG_STR_MAX];
	struct td_listen_addr metrics_listen_at;
	/* niceness of the management pool when there is a verify pool: the
	 * CPU goes to verifies first when both have work */
	int management_nice;
	int socket_mode;
	char socket_owner[TD_CONFIG_STR_MAX];

	int workers;			/* resolved: 0 in the file means one per core */
	int worker_connections;
	int io_timeout_ms;
	int shutdown_timeout_ms;

	char redis_url[TD_CONFIG_STR_MAX];
	char redis_password[TD_SECRET_MAX];
	char redis_password_file[TD_CONFIG_STR_MAX];
	int redis_connect_timeout_ms;
	int redis_command_timeout_ms;
	int redis_retry_interval_ms;
	int redis_min_replica_acks;	/* WAIT for this many replicas after each write */
	int redis_wait_timeout_ms;

	char keyring_file[TD_CONFIG_STR_MAX];

	int body_max_bytes;
	int json_max_depth;
	int access_log;
	int verify_fail_open;		/* Redis down: pass tag-valid tokens (default: refuse) */
	int verify_cache_entries;	/* per-worker verify cache slots, 0 = off */
	int rate_limit_requests;	/* management calls per window, per caller and space */
	int rate_limit_window_ms;
	/* tenants' bounds; a space's own (set by a credential for all spaces)
	 * override the first three */
	int space_write_rate;		/* writes per window, all of a space's callers */
	int space_tokens_max;
	int record_bytes_max;		/* one token record, as stored */
	int pats_per_owner;		/* live PATs one PAT made */
	int last_used_interval;		/* s between writes of one credential's last use */
	int leak_report_rate;		/* leak reports per minute, per client address */
	/* peers whose X-Forwarded-For names the client (comma-separated
	 * ranges, as written), and the same parsed by td_config_finish */
	char trusted_proxies_text[TD_CONFIG_STR_MAX];
	struct td_cidr_list trusted_proxies;
};

/* Where the config file is: --config, else $TOKEND_CONFIG, else the default.
 * *explicit is set when a missing file must be an error. */
const char *td_config_locate(const char *cli_path, int *explicit_path);

void td_config_defaults(struct td_config *cfg);

/* Parses text as a config file into cfg (defaults already set). */
int td_config_parse_text(struct td_config *cfg, const char *text, size_t len,
			 char *err, size_t errlen);
int td_config_apply_env(struct td_config *cfg, char *err, size_t errlen);
int td_config_finish(struct td_config *cfg, char *err, size_t errlen);

/* Defaults, file, environment, validation: the whole sequence. */
int td_config_load(struct td_config *cfg, const char *path, int explicit_path,
		   char *err, size_t errlen);

/* Prints every key with its effective value; secrets are redacted. */
void td_config_print(const struct td_config *cfg, FILE *out);

#endif
