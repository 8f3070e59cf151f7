/*
 * The supervisor never serves requests. It handles signals synchronously
 * (all blocked, taken with sigtimedwait), so there is no handler state to
 * race with, and it restarts crashed workers with a growing pause when they
 * die young, so a broken deployment does not fork in a tight loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tokend/server/log.h"
#include "tokend/server/metrics.h"
#include "tokend/server/notify.h"
#include "tokend/server/server.h"
#include "tokend/core/sign.h"

#define WORKER_YOUNG_MS 1000		/* a worker dying sooner than this backs off */
#define RESPAWN_BACKOFF_START_MS 100
#define LISTEN_BACKLOG 1024

struct slot {
	pid_t pid;			/* 0 = not running */
	long long started_ms;
	long long respawn_at_ms;	/* when to start it again, 0 = now */
	int backoff_ms;
};

/* Workers sharing one listening socket. The verify pool, when configured,
 * has its own socket and processes, so a verify never queues behind a
 * management request a worker is busy with. */
struct pool {
	enum td_pool_kind kind;
	const char *name;		/* in log lines */
	int listen_fd;
	int owns_path;			/* we created the Unix socket: unlink at exit */
	char path[108];
	struct slot slots[TD_WORKERS_MAX];
	int nslots;
};

struct supervisor {
	struct td_config cfg;
	const struct td_config_source *src;
	struct pool pools[TD_POOL__MAX];	/* by kind; one not configured has no
						   socket (listen_fd -1) and no slots */
	struct td_metrics *metrics;		/* shared with every process, or NULL */
};

static int
has_verify_pool(const struct supervisor *s)
{
	return s->pools[TD_POOL_VERIFY].listen_fd >= 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
td_fd_is_listening_socket(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v != 0;
}

static int
apply_owner(const char *path, const char *owner)
{
	char user[TD_CONFIG_STR_MAX];
	const char *colon = strchr(owner, ':');
	size_t ulen = colon ? (size_t)(colon - owner) : strlen(owner);
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	struct passwd *pw;
	struct group *gr;

	memcpy(user, owner, ulen);
	user[ulen] = '\0';
	if (ulen > 0) {
		if ((pw = getpwnam(user)) == NULL)
			return -1;
		uid = pw->pw_uid;
	}
	if (colon != NULL && colon[1] != '\0') {
		if ((gr = getgrnam(colon + 1)) == NULL)
			return -1;
		gid = gr->gr_gid;
	}
	return chown(path, uid, gid);
}

static int
listen_unix(const struct td_config *cfg, const char *path, int *owns_path)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_umask;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* A stale socket from a crash is replaced; a live one is not stolen. */
	if (lstat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			errno = EADDRINUSE;
			goto fail;
		}
		unlink(sa.sun_path);
	}
	/* bind under a umask so the socket never exists with a wider mode */
	old_umask = umask(0777 & ~(mode_t)cfg->socket_mode);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		umask(old_umask);
		goto fail;
	}
	umask(old_umask);
	*owns_path = 1;
	if (chmod(sa.sun_path, (mode_t)cfg->socket_mode) != 0)
		goto fail;
	if (cfg->socket_owner[0] != '\0' && apply_owner(sa.sun_path, cfg->socket_owner) != 0)
		goto fail;
	if (listen(fd, LISTEN_BACKLOG) != 0)
		goto fail;
	return fd;
fail:
	td_log_error("%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
listen_tcp(const struct td_listen_addr *at, const char *text)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int fd = -1, one = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", at->port);
	rc = getaddrinfo(at->host, port, &hints, &res);
	if (rc != 0) {
		td_log_error("%s: %s", text, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		td_log_error("%s: %s", text, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int
open_listener(const struct td_config *cfg, const struct td_listen_addr *at, const char *text,
	      struct pool *p)
{
	int fd = -1, flags;

	switch (at->kind) {
	case TD_LISTEN_AUTO:
		if (td_fd_is_listening_socket(0)) {
			fd = 0;
			td_log_info("serving the listening socket inherited on fd 0");
		} else {
			fd = listen_unix(cfg, at->path, &p->owns_path);
		}
		break;
	case TD_LISTEN_INHERIT:
		if (!td_fd_is_listening_socket(0)) {
			td_log_error("listen = stdin, but fd 0 is not a listening socket");
			return -1;
		}
		fd = 0;
		break;
	case TD_LISTEN_UNIX:
		fd = listen_unix(cfg, at->path, &p->owns_path);
		break;
	case TD_LISTEN_TCP:
		fd = listen_tcp(at, text);
		break;
	case TD_LISTEN__MAX:
		break;
	}
	if (fd < 0)
		return -1;
	/* Workers race for each connection; the losers must get EAGAIN, not block. */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
		td_log_error("cannot make the listener non-blocking: %s", strerror(errno));
		if (fd != 0)
			close(fd);
		return -1;
	}
	snprintf(p->path, sizeof(p->path), "%s", at->path);
	td_log_info("%s workers listening on %s", p->name,
		    fd == 0 ? "fd 0" : at->kind == TD_LISTEN_TCP ? text : at->path);
	return fd;
}

static void
start_worker(struct supervisor *s, struct pool *p, struct slot *slot)
{
	int i;

	sigset_t none;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		td_log_error("fork: %s", strerror(errno));
		slot->respawn_at_ms = now_ms() + TD_RESPAWN_BACKOFF_MAX_MS;
		return;
	}
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Verifies come first for the CPU: management work (a long list)
		 * takes what they leave. Relative and only lowering: it needs no
		 * privilege whatever niceness tokend was started with. */
		errno = 0;
		if (has_verify_pool(s) && p->kind == TD_POOL_MAIN &&
		    nice(s->cfg.management_nice) == -1 && errno != 0)
			td_log_warn("management_nice: %s", strerror(errno));
		/* a worker holds only its own pool's socket */
		for (i = 0; i < TD_POOL__MAX; i++)
			if (&s->pools[i] != p && s->pools[i].listen_fd >= 0)
				close(s->pools[i].listen_fd);
		/* exit, not _exit: LeakSanitizer checks a worker as it ends */
		if (p->kind == TD_POOL_METRICS)
			exit(td_metrics_serve(p->listen_fd, s->metrics));
		td_metrics_use(s->metrics, (int)p->kind * TD_WORKERS_MAX + (int)(slot - p->slots));
		exit(td_worker_run(&s->cfg, s->src, p->listen_fd, p->kind));
	}
	slot->pid = pid;
	slot->started_ms = now_ms();
	slot->respawn_at_ms = 0;
}

static struct slot *
find_slot(struct supervisor *s, pid_t pid, struct pool **pool)
{
	int i, j;

	for (i = 0; i < TD_POOL__MAX; i++)
		for (j = 0; j < TD_WORKERS_MAX; j++)
			if (s->pools[i].slots[j].pid == pid) {
				*pool = &s->pools[i];
				return &s->pools[i].slots[j];
			}
	return NULL;
}

static void
reap(struct supervisor *s, int stopping)
{
	struct slot *slot;
	struct pool *p = NULL;
	long long lived;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		slot = find_slot(s, pid, &p);
		if (slot == NULL)
			continue;
		slot->pid = 0;
		if (stopping)
			continue;
		td_metric_count(TD_M_WORKER_RESTART);
		if (WIFSIGNALED(status))
			td_log_error("worker %ld killed by signal %d; replacing it", (long)pid,
				     WTERMSIG(status));
		else if (slot - p->slots < p->nslots)
			td_log_error("worker %ld exited with status %d; replacing it", (long)pid,
				     WEXITSTATUS(status));
		lived = now_ms() - slot->started_ms;
		if (lived < WORKER_YOUNG_MS) {
			slot->backoff_ms = slot->backoff_ms ? slot->backoff_ms * 2
							    : RESPAWN_BACKOFF_START_MS;
			if (slot->backoff_ms > TD_RESPAWN_BACKOFF_MAX_MS)
				slot->backoff_ms = TD_RESPAWN_BACKOFF_MAX_MS;
		} else {
			slot->backoff_ms = 0;
		}
		slot->respawn_at_ms = now_ms() + slot->backoff_ms;
	}
}

/* Starts the workers that are due; returns ms until the next one is. */
static int
start_due(struct supervisor *s)
{
	long long now = now_ms(), wait = 1000;
	struct slot *slot;
	struct pool *p;
	int i, j;

	for (i = 0; i < TD_POOL__MAX; i++) {
		p = &s->pools[i];
		for (j = 0; j < p->nslots; j++) {
			slot = &p->slots[j];
			if (slot->pid != 0)
				continue;
			if (slot->respawn_at_ms <= now)
				start_worker(s, p, slot);
			else if (slot->respawn_at_ms - now < wait)
				wait = slot->respawn_at_ms - now;
		}
	}
	return (int)wait;
}

static void
signal_workers(struct supervisor *s, int sig)
{
	int i, j;

	for (i = 0; i < TD_POOL__MAX; i++)
		for (j = 0; j < TD_WORKERS_MAX; j++)
			if (s->pools[i].slots[j].pid != 0)
				kill(s->pools[i].slots[j].pid, sig);
}

/* A reload changes a pool's size: extra workers finish their requests and
 * go; new ones are started by start_due. */
static void
resize_pool(struct pool *p, int n)
{
	int i;

	for (i = n; i < p->nslots; i++)
		if (p->slots[i].pid != 0)
			kill(p->slots[i].pid, SIGTERM);
	p->nslots = n;
}

static void
reload(struct supervisor *s)
{
	static struct td_keyring check;
	struct td_config next;
	char err[512];

	if (td_config_load(&next, s->src->path, s->src->explicit_path, err, sizeof(err)) != 0 ||
	    td_keyring_load(&check, next.keyring_file, err, sizeof(err)) != 0) {
		td_log_error("reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (strcmp(next.listen, s->cfg.listen) != 0 ||
	    strcmp(next.verify_listen, s->cfg.verify_listen) != 0 ||
	    next.socket_mode != s->cfg.socket_mode ||
	    strcmp(next.socket_owner, s->cfg.socket_owner) != 0 ||
	    next.worker_connections != s->cfg.worker_connections)
		td_log_warn("listen, verify_listen, socket and worker_connections changes take effect on restart");
	td_keyring_wipe(&check);
	/* the sockets and the slot arrays were made at start; they stay */
	snprintf(next.listen, sizeof(next.listen), "%s", s->cfg.listen);
	next.listen_at = s->cfg.listen_at;
	snprintf(next.verify_listen, sizeof(next.verify_listen), "%s", s->cfg.verify_listen);
	next.verify_listen_at = s->cfg.verify_listen_at;
	next.worker_connections = s->cfg.worker_connections;
	s->cfg = next;
	resize_pool(&s->pools[TD_POOL_MAIN], next.workers);
	if (has_verify_pool(s))
		resize_pool(&s->pools[TD_POOL_VERIFY], next.verify_workers);
	signal_workers(s, SIGHUP);
	td_log_info("configuration reloaded: %d workers%s", next.workers,
		    has_verify_pool(s) ? " and the verify pool's" : "");
}

static int
any_running(const struct supervisor *s)
{
	int i, j;

	for (i = 0; i < TD_POOL__MAX; i++)
		for (j = 0; j < TD_WORKERS_MAX; j++)
			if (s->pools[i].slots[j].pid != 0)
				return 1;
	return 0;
}

static void
shutdown_workers(struct supervisor *s, const sigset_t *set)
{
	long long deadline = now_ms() + s->cfg.shutdown_timeout_ms, left;
	struct timespec ts;
	siginfo_t info;
	int i;

	td_log_info("stopping: letting in-flight requests finish");
	signal_workers(s, SIGTERM);
	while (any_running(s) && (left = deadline - now_ms()) > 0) {
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		(void)sigtimedwait(set, &info, &ts);
		reap(s, 1);
	}
	if (any_running(s)) {
		td_log_error("workers still busy after %d ms; killing them", s->cfg.shutdown_timeout_ms);
		signal_workers(s, SIGKILL);
		while (any_running(s) && waitpid(-1, NULL, 0) > 0)
			reap(s, 1);
		for (i = 0; i < TD_POOL__MAX; i++)
			memset(s->pools[i].slots, 0, sizeof(s->pools[i].slots));
	}
}

/* spawn-fcgi, mod_fcgid: a socket handed over on fd 0 means the process
 * manager owns the process model (mod_fcgid starts several of us, which
 * could not share one verify socket), so there is no verify pool. */
static int
inherits_socket(const struct td_config *cfg)
{
	return cfg->listen_at.kind == TD_LISTEN_INHERIT ||
	       (cfg->listen_at.kind == TD_LISTEN_AUTO && td_fd_is_listening_socket(0));
}

/* One pool: its socket opened, nslots processes to start. */
static int
open_pool(struct supervisor *s, enum td_pool_kind kind, const char *name, int nslots,
	  const struct td_listen_addr *at, const char *text)
{
	struct pool *p = &s->pools[kind];

	p->kind = kind;
	p->name = name;
	p->nslots = nslots;
	p->listen_fd = open_listener(&s->cfg, at, text, p);
	return p->listen_fd < 0 ? -1 : 0;
}

static int
open_pools(struct supervisor *s)
{
	const struct td_config *c = &s->cfg;
	int extra = c->verify_listen[0] != '\0' || c->metrics_listen[0] != '\0';
	int split = extra && !inherits_socket(c);

	if (extra && !split)
		td_log_info("verify_listen and metrics_listen ignored: serving a socket handed over "
			    "on fd 0");
	if (open_pool(s, TD_POOL_MAIN, split && c->verify_listen[0] ? "management" : "all",
		      c->workers, &c->listen_at, c->listen) != 0)
		return -1;
	if (split && c->verify_listen[0] != '\0' &&
	    open_pool(s, TD_POOL_VERIFY, "verify", c->verify_workers, &c->verify_listen_at,
		      c->verify_listen) != 0)
		return -1;
	if (split && c->metrics_listen[0] != '\0' &&
	    open_pool(s, TD_POOL_METRICS, "metrics", 1, &c->metrics_listen_at,
		      c->metrics_listen) != 0)
		return -1;
	return 0;
}

static void
close_pools(struct supervisor *s)
{
	int i;

	for (i = 0; i < TD_POOL__MAX; i++)
		if (s->pools[i].listen_fd >= 0)
			close(s->pools[i].listen_fd);
}

static void
unlink_sockets(struct supervisor *s)
{
	int i;

	for (i = 0; i < TD_POOL__MAX; i++)
		if (s->pools[i].owns_path)
			unlink(s->pools[i].path);
}

int
td_server_run(struct td_config *cfg, const struct td_config_source *src)
{
	static struct supervisor s;
	struct timespec ts;
	siginfo_t info;
	sigset_t set;
	int sig, wait_ms, i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < TD_POOL__MAX; i++)
		s.pools[i].listen_fd = -1;
	s.cfg = *cfg;
	s.src = src;
	/* before any fork: every process shares these pages */
	if ((s.metrics = td_metrics_map()) == NULL)
		td_log_warn("metrics: no shared memory; counting privately");
	td_metrics_use(s.metrics, TD_METRICS_SUPERVISOR_SLOT);
	td_log_set_role("supervisor");

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (open_pools(&s) != 0) {
		close_pools(&s);
		unlink_sockets(&s);
		return 1;
	}
	if (has_verify_pool(&s))
		td_log_info("tokend started: %d management workers, %d verify workers",
			    s.pools[TD_POOL_MAIN].nslots, s.pools[TD_POOL_VERIFY].nslots);
	else
		td_log_info("tokend started: %d workers", s.pools[TD_POOL_MAIN].nslots);
	/* systemd (Type=notify) counts the service started once the sockets
	 * are open and the first workers forked */
	(void)start_due(&s);
	td_notify_ready();
	for (;;) {
		wait_ms = start_due(&s);
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
		sig = sigtimedwait(&set, &info, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			/* ready again whether the new configuration was taken or refused */
			td_notify_reloading();
			reload(&s);
			td_notify_ready();
		}
		reap(&s, 0);
	}
	td_notify_stopping();
	close_pools(&s);
	shutdown_workers(&s, &set);
	unlink_sockets(&s);
	td_log_info("stopped");
	td_metrics_unmap(s.metrics);
	return 0;
}
