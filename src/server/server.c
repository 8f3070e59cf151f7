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

struct supervisor {
	struct td_config cfg;
	const struct td_config_source *src;
	int listen_fd;
	int owns_path;			/* we created the Unix socket: unlink at exit */
	struct slot slots[TD_WORKERS_MAX];
	int nslots;
};

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
listen_unix(struct supervisor *s)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_umask;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->cfg.listen_path);
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
	old_umask = umask(0777 & ~(mode_t)s->cfg.socket_mode);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		umask(old_umask);
		goto fail;
	}
	umask(old_umask);
	s->owns_path = 1;
	if (chmod(sa.sun_path, (mode_t)s->cfg.socket_mode) != 0)
		goto fail;
	if (s->cfg.socket_owner[0] != '\0' && apply_owner(sa.sun_path, s->cfg.socket_owner) != 0)
		goto fail;
	if (listen(fd, LISTEN_BACKLOG) != 0)
		goto fail;
	return fd;
fail:
	td_log_error("%s: %s", s->cfg.listen_path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
listen_tcp(struct supervisor *s)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int fd = -1, one = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", s->cfg.listen_port);
	rc = getaddrinfo(s->cfg.listen_host, port, &hints, &res);
	if (rc != 0) {
		td_log_error("%s: %s", s->cfg.listen, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		td_log_error("%s: %s", s->cfg.listen, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int
open_listener(struct supervisor *s)
{
	int fd = -1, flags;

	switch (s->cfg.listen_kind) {
	case TD_LISTEN_AUTO:
		if (td_fd_is_listening_socket(0)) {
			fd = 0;
			td_log_info("serving the listening socket inherited on fd 0");
		} else {
			fd = listen_unix(s);
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
		fd = listen_unix(s);
		break;
	case TD_LISTEN_TCP:
		fd = listen_tcp(s);
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
		return -1;
	}
	return fd;
}

static void
start_worker(struct supervisor *s, struct slot *slot)
{
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
		/* exit, not _exit: LeakSanitizer checks a worker as it ends */
		exit(td_worker_run(&s->cfg, s->src, s->listen_fd));
	}
	slot->pid = pid;
	slot->started_ms = now_ms();
	slot->respawn_at_ms = 0;
}

static void
reap(struct supervisor *s, int stopping)
{
	struct slot *slot;
	long long lived;
	pid_t pid;
	int status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0, slot = NULL; i < TD_WORKERS_MAX; i++)
			if (s->slots[i].pid == pid)
				slot = &s->slots[i];
		if (slot == NULL)
			continue;
		slot->pid = 0;
		if (stopping)
			continue;
		if (WIFSIGNALED(status))
			td_log_error("worker %ld killed by signal %d; replacing it", (long)pid,
				     WTERMSIG(status));
		else if (slot - s->slots < s->nslots)
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
	int i;

	for (i = 0; i < s->nslots; i++) {
		if (s->slots[i].pid != 0)
			continue;
		if (s->slots[i].respawn_at_ms <= now)
			start_worker(s, &s->slots[i]);
		else if (s->slots[i].respawn_at_ms - now < wait)
			wait = s->slots[i].respawn_at_ms - now;
	}
	return (int)wait;
}

static void
signal_workers(struct supervisor *s, int sig)
{
	int i;

	for (i = 0; i < TD_WORKERS_MAX; i++)
		if (s->slots[i].pid != 0)
			kill(s->slots[i].pid, sig);
}

static void
reload(struct supervisor *s)
{
	static struct td_keyring check;
	struct td_config next;
	char err[512];
	int i;

	if (td_config_load(&next, s->src->path, s->src->explicit_path, err, sizeof(err)) != 0 ||
	    td_keyring_load(&check, next.keyring_file, err, sizeof(err)) != 0) {
		td_log_error("reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (strcmp(next.listen, s->cfg.listen) != 0 || next.socket_mode != s->cfg.socket_mode ||
	    strcmp(next.socket_owner, s->cfg.socket_owner) != 0 ||
	    next.worker_connections != s->cfg.worker_connections)
		td_log_warn("listen, socket and worker_connections changes take effect on restart");
	td_keyring_wipe(&check);
	/* Extra workers finish their requests and go; new ones start below. */
	for (i = next.workers; i < s->nslots; i++)
		if (s->slots[i].pid != 0)
			kill(s->slots[i].pid, SIGTERM);
	snprintf(next.listen, sizeof(next.listen), "%s", s->cfg.listen);
	next.worker_connections = s->cfg.worker_connections;
	s->cfg = next;
	s->nslots = next.workers;
	signal_workers(s, SIGHUP);
	td_log_info("configuration reloaded: %d workers", s->nslots);
}

static int
any_running(const struct supervisor *s)
{
	int i;

	for (i = 0; i < TD_WORKERS_MAX; i++)
		if (s->slots[i].pid != 0)
			return 1;
	return 0;
}

static void
shutdown_workers(struct supervisor *s, const sigset_t *set)
{
	long long deadline = now_ms() + s->cfg.shutdown_timeout_ms, left;
	struct timespec ts;
	siginfo_t info;

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
		memset(s->slots, 0, sizeof(s->slots));
	}
}

int
td_server_run(struct td_config *cfg, const struct td_config_source *src)
{
	static struct supervisor s;
	struct timespec ts;
	siginfo_t info;
	sigset_t set;
	int sig, wait_ms;

	memset(&s, 0, sizeof(s));
	s.cfg = *cfg;
	s.src = src;
	s.nslots = cfg->workers;
	td_log_set_role("supervisor");

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	s.listen_fd = open_listener(&s);
	if (s.listen_fd < 0)
		return 1;
	td_log_info("tokend listening on %s with %d workers",
		    s.listen_fd == 0 ? "fd 0" : s.cfg.listen_kind == TD_LISTEN_TCP ? s.cfg.listen
										: s.cfg.listen_path,
		    s.nslots);
	for (;;) {
		wait_ms = start_due(&s);
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
		sig = sigtimedwait(&set, &info, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			reload(&s);
		reap(&s, 0);
	}
	close(s.listen_fd);
	shutdown_workers(&s, &set);
	if (s.owns_path)
		unlink(s.cfg.listen_path);
	td_log_info("stopped");
	return 0;
}
