/*
 * Named limits for everything an attacker or an operator controls.
 * A value read from the network or a config file is checked against one of
 * these before it is used; nothing is sized by what the peer says it needs.
 */
#ifndef TOKEND_LIMITS_H
#define TOKEND_LIMITS_H

/* Request target. nginx already caps request lines at 8k; we cap lower so a
 * request's fixed-size parse buffers stay small. */
#define TD_PATH_MAX            2048  /* bytes of the path before '?'; more is 414 */
#define TD_PATH_SEGMENTS_MAX     16  /* '/'-separated segments; more is 404 */
#define TD_QUERY_MAX           4096  /* bytes of the query string; more is 414 */
#define TD_QUERY_PARAMS_MAX      64  /* key=value pairs; more is 414 */
#define TD_CANON_URI_MAX       8192  /* a verified URI's canonical form, as
                                        X-Tokend-Uri; longer is refused */
#define TD_HEADER_VALUE_MAX    8192  /* one HTTP_* param value; more is 431 */
#define TD_REQUEST_ID_MAX        64  /* an incoming X-Request-Id longer than this is replaced */
#define TD_METHOD_MAX            16

/* Request body. */
#define TD_BODY_MAX_DEFAULT   (1024 * 1024)        /* body_max_bytes default: 1 MiB */
#define TD_BODY_MAX_LIMIT     (64 * 1024 * 1024)   /* the highest body_max_bytes accepted */
#define TD_BODY_DRAIN_MAX     (16 * 1024 * 1024)   /* oversize bodies up to this are read
                                                      and discarded to keep the connection;
                                                      beyond it the connection is closed */
#define TD_JSON_DEPTH_DEFAULT    32
#define TD_JSON_DEPTH_LIMIT     256

/* Process model. */
#define TD_WORKERS_MAX          256
#define TD_KEYRING_FILE_MAX     16384	/* bytes of the keyring file */
#define TD_REDIS_USER_MAX       128	/* bytes of a Redis ACL user name, NUL included */
#define TD_MANAGEMENT_NICE_DEFAULT 10	/* with a verify pool (config management_nice) */
#define TD_WORKER_CONNS_DEFAULT 256  /* FastCGI connections one worker multiplexes */
#define TD_WORKER_CONNS_MAX     512  /* keeps every fd far below FD_SETSIZE (libfcgi uses select) */
#define TD_RESPAWN_BACKOFF_MAX_MS 5000

/* Configuration. */
#define TD_CONFIG_FILE_MAX   (64 * 1024)
#define TD_CONFIG_LINE_MAX     4096
#define TD_CONFIG_STR_MAX      1024  /* any string value, paths and URLs included */
#define TD_SECRET_MAX           512  /* a password read from a file or the environment */

/* Redis. */
#define TD_REDIS_TIMEOUT_MAX_MS 60000
#define TD_SENTINELS_MAX         8   /* sentinels in one redis-sentinel:// URL */
#define TD_SENTINEL_NAME_MAX    65   /* bytes of a sentinel master name, NUL included */
#define TD_CLUSTER_SEEDS_MAX     8   /* nodes in one redis-cluster:// URL */
#define TD_CLUSTER_PRIMARIES_MAX 64  /* primaries of a cluster one worker connects to */
#define TD_REPLICA_ACKS_MAX     16   /* redis_min_replica_acks */
#define TD_REDIS_DB_MAX         15   /* redis.conf's default "databases 16" */

/* Records. One set for every view: a value one dialect accepts, every other
 * dialect can store back. Names follow the strictest contract (SoftwareOne,
 * 200), descriptions the most generous (SoftwareOne, 2000). */
#define TD_NAME_MAX           200   /* characters of a name */
#define TD_DESCRIPTION_MAX   2000   /* characters of a description */
#define TD_ICON_MAX            64   /* characters of an icon name */
#define TD_TEXT_BYTES(n)   ((n) * 4 + 1)	/* UTF-8: up to 4 bytes a character */
#define TD_IDS_MAX           1000   /* story_ids, release_ids entries */
#define TD_MIN_CACHE_MAX 31536000   /* one year, in seconds */
#define TD_ACTOR_MAX           64   /* "pat:<id>", "leak-report:<IPv6 address>" */
#define TD_CRED_REF_MAX        48   /* "p:<id>" or "t:<space>:<id>" */
#define TD_TOKEN_MODULES_MAX   32   /* SoftwareOne modules on one token */
#define TD_PAT_SPACES_MAX     256   /* spaces one PAT names */
#define TD_RATE_LIMIT_MAX 1000000   /* a space's management calls per window */
#define TD_SPACE_TOKENS_LIMIT  1000000  /* the most a space's token cap may be */
#define TD_RECORD_BYTES_MIN       2048  /* a record cap below this fits no real token */
#define TD_RECORD_BYTES_LIMIT  1048576
#define TD_PATS_PER_OWNER_LIMIT 100000
#define TD_ID_MAX  9007199254740991LL  /* 2^53 - 1: every id a client sees or
                                          sends, so JavaScript numbers hold it exactly */
#define TD_ID_FOLLOW_GAP    1000   /* a chosen space id this close above the
                                     automatic ids moves their counter */
#define TD_MINTED_MAX       10000   /* credentials one cascade revokes */
#define TD_MINT_DEPTH_MAX   8       /* makers above a minted credential */
#define TD_MAX_USES_LIMIT 1000000000LL /* a token's use limit */
#define TD_GRACE_MAX      604800    /* seconds a regenerated value may keep working */
#define TD_CAS_PAUSE_MAX_NS 20000000L /* the longest pause between two attempts (20 ms) */
#define TD_CAS_ATTEMPTS    16       /* a change re-read and re-applied when
                                       another write came in between */
#define TD_ACTIVITY_LIST_MAX 1000   /* entries one activities call returns */
#define TD_CIDRS_MAX         64     /* allowed_cidrs of one token or PAT, and
                                       trusted_proxies; more is 422 */
#define TD_ADDR_TEXT_MAX     45     /* an IP address as text: the longest
                                       IPv6 spelling with an IPv4 tail */
#define TD_CIDR_TEXT_MAX     49     /* one range as text, "/128" included;
                                       longer is 422 unread */

/* Roles (DatoCMS): a space's own, beside the two built in. */
#define TD_SPACE_ROLES_MAX        100   /* roles one space may hold (built-ins not
                                           counted); more is limit_reached */
#define TD_ROLE_INHERITS_MAX       16   /* inherits_permissions_from entries */
#define TD_ROLE_PERMISSIONS_MAX   100   /* entries in one positive_/negative_ list */
#define TD_ROLE_PERMISSIONS_BYTES 8192  /* one such list as stored (compact JSON) */
#define TD_ROLE_REF_MAX            64   /* characters of an id, locale or stage
                                           inside a permission entry */

/* Leak reports (POST /v1/credentials/revoke, unauthenticated). */
#define TD_LEAK_CREDENTIALS_MAX  1000  /* strings in one report; more is 422 */
#define TD_LEAK_CREDENTIAL_BYTES  256  /* bytes of one string (a token is at most 89);
                                          longer is 422 */
#define TD_LEAK_REPORT_PERIOD_MS 60000 /* leak_report_rate counts reports per minute,
                                          per client address */
#define TD_LEAK_REPORT_RATE_DEFAULT 10

#endif
