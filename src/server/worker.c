/*
 * The worker owns accept(2): it sets the connection's I/O timeouts before
 * libfcgi ever reads from it, and only hands libfcgi connections that have
 * bytes to read, so a silent peer cannot stall the other connections.
 * Readiness comes from epoll: the connections nginx keeps open are
 * registered once, so a wake-up costs the same with 1 or 500 of them (poll
 * walked every one on every request: measured in bench/RESULTS.md), and the
 * listener is registered EPOLLEXCLUSIVE (Linux 4.5), so a new connection
 * wakes one idle worker rather than all of them.
 * libfcgi does all the FastCGI framing. Its FCGX_Request has no accessor for
 * the connection's fd, so this file reads and sets ipcFd, keepConnection
 * and detached directly (stable since libfcgi 2.4.0; detached, which
 * FCGX_Detach sets, since 2.4.1); requests are initialised with no
 * listening socket, so libfcgi can never accept on its own.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "tokend/server/app.h"
#include "tokend/server/log.h"
#include "tokend/core/caches.h"
#include "tokend/core/record_cache.h"
#include "tokend/core/verify_cache.h"
#include "tokend/server/worker.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
on_reload(int sig)
{
	(void)sig;
	reload_requested = 1;
}

struct worker {
	struct td_config cfg;
	struct td_keyring keyring;
	const struct td_config_source *src;
	struct td_ctx ctx;
	struct td_request req;
	int listen_fd;
	enum td_pool_kind pool;
	FCGX_Request *conns;		/* cfg.worker_connections slots; ipcFd < 0 = free */
	int nconns;
	unsigned char *fresh;		/* slots whose first request is still to come */
	int *free_slots;		/* a stack of the free slots' indexes */
	int nfree;
	int epfd;
	int listening;			/* listen_fd is in the epoll set */
	int draining;			/* listen_fd closed: never watched again */
	struct epoll_event *events;	/* nconns + 1 */
};

/* epoll data of the listener; a connection's is its slot index */
#define LISTENER_TAG UINT64_MAX

static int
install_signals(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;	/* no SA_RESTART: epoll_pwait must return */
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = on_reload;
	if (sigaction(SIGHUP, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	/* Signals stay blocked while a request is served and are taken only
	 * inside epoll_pwait, so a request is never cut short by one. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	if (sigprocmask(SIG_SETMASK, &block, NULL) != 0)
		return -1;
	sigemptyset(wait_mask);
	return 0;
}

static void
conn_set_timeouts(int fd, int timeout_ms, int is_tcp)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		td_log_warn("cannot set connection timeouts: %s", strerror(errno));
	if (is_tcp)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Watches the listener, or stops while every slot is taken (level-triggered
 * epoll would otherwise report it ready again at once, a busy loop). */
static void
listener_watch(struct worker *w, int on)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u64 = LISTENER_TAG };

	if (w->listening == on)
		return;
	if (epoll_ctl(w->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, w->listen_fd, &ev) != 0) {
		td_log_error("epoll_ctl(listener): %s", strerror(errno));
		return;
	}
	w->listening = on;
}

/* A connection libfcgi closed (end of a request without FCGI_KEEP_CONN, the
 * peer gone, nonsense read): closing the fd took it out of the epoll set. */
static void
slot_release(struct worker *w, int slot)
{
	w->free_slots[w->nfree++] = slot;
	if (!w->draining)
		listener_watch(w, 1);
}

/* After a connection's first request, when it stays open (a kept
 * connection): this worker's listener entry goes to the back of the queue.
 * EPOLLEXCLUSIVE wakes the first idle worker in it, the same one each time
 * while requests are spaced out, and a kept connection stays where it was
 * accepted: without this, 30 connections opened one by one all landed on
 * one of three workers. */
static void
listener_requeue(struct worker *w)
{
	listener_watch(w, 0);
	listener_watch(w, 1);
}

/* Serves the next request on a readable connection; 1 while it stays open. */
static int
serve_one(struct worker *w, int slot)
{
	FCGX_Request *conn = &w->conns[slot];

	if (FCGX_Accept_r(conn) != 0) {
		/* peer closed or spoke nonsense: libfcgi closed the fd */
		conn->ipcFd = -1;
		slot_release(w, slot);
		return 0;
	}
	td_dispatch(&w->ctx, &w->req, conn, w->pool);
	if (w->req.close_connection) {
		conn->keepConnection = 0;
		/* input left unread (a body past TD_BODY_DRAIN_MAX, a broken
		 * stream): libfcgi's lingering close, so that a TCP peer still
		 * sending is not reset before it reads the answer */
		conn->detached = 0;
	}
	FCGX_Finish_r(conn);
	if (conn->ipcFd < 0) {
		slot_release(w, slot);
		return 0;
	}
	if (w->fresh[slot]) {
		w->fresh[slot] = 0;
		listener_requeue(w);
	}
	return 1;
}

/* Takes one pending connection into a free slot. A web server sends its
 * request as it connects, so it is usually waiting already: then it is served
 * at once, without a trip through epoll (a server without kept connections
 * makes one per request). */
static void
accept_one(struct worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	char first;
	int fd, slot;

	if (w->nfree == 0) {
		listener_watch(w, 0);
		return;
	}
	fd = accept4(w->listen_fd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC);
	if (fd < 0) {
		/* another worker won the race, or the peer gave up */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED && errno != EPROTO)
			td_log_error("accept: %s", strerror(errno));
		return;
	}
	conn_set_timeouts(fd, w->cfg.io_timeout_ms,
			  sa.ss_family == AF_INET || sa.ss_family == AF_INET6);
	slot = w->free_slots[--w->nfree];
	w->conns[slot].ipcFd = fd;
	/* FCGX_Accept_r first "finishes" the previous request and would close
	 * a connection not marked kept; the BEGIN_REQUEST it reads then sets
	 * the flag the web server asked for (FCGI_KEEP_CONN). */
	w->conns[slot].keepConnection = 1;
	/* Closed at once when it ends, not by libfcgi's lingering close:
	 * that shuts the sending side and waits up to 2 s for the peer to
	 * close first (so a TCP stack never resets a response while request
	 * bytes are still unread), and this one-threaded worker would serve no
	 * one meanwhile: without upstream keepalive every request paid a
	 * wake-up of nginx inside it, and a peer that never closes held the
	 * worker for the whole 2 s. tokend reads each request to its end
	 * before it answers (drain_input); serve_one brings the lingering
	 * close back when it could not. libfcgi clears the flag when it
	 * closes the connection. */
	(void)FCGX_Detach(&w->conns[slot]);
	w->fresh[slot] = 1;
	if (recv(fd, &first, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && serve_one(w, slot) == 0)
		return;		/* served and closed: no connection kept here */
	ev.data.u64 = (uint64_t)slot;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		td_log_error("epoll_ctl(connection): %s", strerror(errno));
		close(fd);
		w->conns[slot].ipcFd = -1;
		slot_release(w, slot);
	}
}

static void
cache_teardown(struct worker *w)
{
	if (w->ctx.store != NULL)
		td_store_on_invalidate(w->ctx.store, NULL, NULL);
	td_verify_cache_free(w->ctx.verify_cache);
	w->ctx.verify_cache = NULL;
	td_record_cache_free(w->ctx.pat_cache);
	w->ctx.pat_cache = NULL;
	td_record_cache_free(w->ctx.token_cache);
	w->ctx.token_cache = NULL;
	free(w->ctx.token_written);
	w->ctx.token_written = NULL;
}

/* A management worker's copies of the tokens it wrote (record_cache.h): not
 * kept exact by tracking, checked by each write instead; without memory
 * for them every change reads its token first. The verify cache, sized by
 * the configuration, and in a management worker the PAT cache, attached to
 * the store's invalidations (a reload builds fresh ones: the old ones are
 * emptied anyway when the store reconnects); verify_cache_entries = 0
 * turns those two off. */
static int
cache_setup(struct worker *w)
{
	cache_teardown(w);
	if (w->pool != TD_POOL_VERIFY &&
	    ((w->ctx.token_written = malloc(sizeof(struct td_token_copy))) == NULL ||
	     (w->ctx.token_cache = td_record_cache_new(TD_TOKEN_CACHE_SLOTS,
						       sizeof(struct td_token_copy))) == NULL)) {
		td_log_error("token copies: out of memory, every change reads its token");
		td_record_cache_free(w->ctx.token_cache);
		w->ctx.token_cache = NULL;
	}
	if (w->cfg.verify_cache_entries == 0)
		return 0;
	if ((w->ctx.verify_cache = td_verify_cache_new(w->cfg.verify_cache_entries)) == NULL) {
		td_log_error("verify cache: out of memory for %d entries",
			     w->cfg.verify_cache_entries);
		return -1;
	}
	if (w->pool != TD_POOL_VERIFY &&
	    (w->ctx.pat_cache = td_record_cache_new(TD_PAT_CACHE_SLOTS,
						    sizeof(struct td_pat))) == NULL) {
		td_log_error("PAT cache: out of memory");
		cache_teardown(w);
		return -1;
	}
	td_store_on_invalidate(w->ctx.store, td_caches_invalidate, &w->ctx);
	return 0;
}

static void
reload(struct worker *w)
{
	static struct td_keyring keyring;
	struct td_config next;
	char err[512];

	reload_requested = 0;
	if (td_config_load(&next, w->src->path, w->src->explicit_path, err, sizeof(err)) != 0 ||
	    td_keyring_load(&keyring, next.keyring_file, err, sizeof(err)) != 0) {
		td_log_error("reload refused, keeping the running configuration: %s", err);
		return;
	}
	td_keyring_move(&w->keyring, &keyring);
	/* the listener and the slot array were sized at start; they stay */
	next.worker_connections = w->cfg.worker_connections;
	w->cfg = next;
	if (td_store_reconfigure(w->ctx.store, &w->cfg) != 0)
		td_log_error("redis settings invalid after reload");
	if (cache_setup(w) != 0)
		td_log_error("verify cache off until the next reload");
	td_log_info("configuration reloaded");
}

static int
worker_init(struct worker *w, const struct td_config *cfg,
	    const struct td_config_source *src, int listen_fd)
{
	char err[512];
	int i;

	w->cfg = *cfg;
	w->src = src;
	w->listen_fd = listen_fd;
	w->nconns = cfg->worker_connections;
	w->conns = calloc((size_t)w->nconns, sizeof(*w->conns));
	w->free_slots = calloc((size_t)w->nconns, sizeof(*w->free_slots));
	w->fresh = calloc((size_t)w->nconns, sizeof(*w->fresh));
	w->events = calloc((size_t)w->nconns + 1, sizeof(*w->events));
	if (w->conns == NULL || w->free_slots == NULL || w->fresh == NULL || w->events == NULL)
		return -1;
	for (i = 0; i < w->nconns; i++) {
		w->conns[i].ipcFd = -1;
		w->free_slots[w->nfree++] = w->nconns - 1 - i;
	}
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	listener_watch(w, 1);
	if (!w->listening)
		return -1;
	if (FCGX_Init() != 0)
		return -1;
	for (i = 0; i < w->nconns; i++)
		if (FCGX_InitRequest(&w->conns[i], -1, 0) != 0)
			return -1;
	if (td_keyring_load(&w->keyring, cfg->keyring_file, err, sizeof(err)) != 0) {
		td_log_error("%s", err);
		return -1;
	}
	w->ctx.keyring = &w->keyring;
	w->ctx.cfg = &w->cfg;
	w->ctx.store = td_store_new(&w->cfg);
	if (w->ctx.store == NULL || td_dispatch_init() != 0)
		return -1;
	if (cache_setup(w) != 0)
		return -1;
	if ((w->ctx.last_use = malloc(sizeof(*w->ctx.last_use))) == NULL)
		return -1;
	td_last_use_init(w->ctx.last_use, cfg->last_used_interval);
	(void)td_store_connect(w->ctx.store);	/* warm up; failure is logged and retried */
	return 0;
}

static void
worker_free(struct worker *w)
{
	int i;

	for (i = 0; w->conns != NULL && i < w->nconns; i++) {
		if (w->conns[i].ipcFd >= 0)
			close(w->conns[i].ipcFd);
		FCGX_Free(&w->conns[i], 0);
	}
	free(w->conns);
	free(w->free_slots);
	free(w->fresh);
	free(w->events);
	if (w->epfd >= 0)
		close(w->epfd);
	free(w->ctx.last_use);
	td_request_release(&w->req);
	cache_teardown(w);
	td_store_free(w->ctx.store);
	td_keyring_wipe(&w->keyring);
}

/* One round: wait for readiness (signals arrive only here), then serve. */
static void
poll_round(struct worker *w, const sigset_t *wait_mask, int timeout_ms)
{
	int i, n;

	/* a listener that epoll_ctl failed to watch again is retried here: a
	 * worker with no connection left would otherwise never accept again */
	if (!w->listening && w->nfree > 0 && !w->draining)
		listener_watch(w, 1);
	n = epoll_pwait(w->epfd, w->events, w->nconns + 1, timeout_ms, wait_mask);
	if (n <= 0)
		return;		/* EINTR: a signal; the caller looks at the flags */
	for (i = 0; i < n; i++) {
		uint64_t tag = w->events[i].data.u64;

		if (tag == LISTENER_TAG)
			accept_one(w);
		else if (w->conns[tag].ipcFd >= 0)
			(void)serve_one(w, (int)tag);
	}
}

int
td_worker_run(const struct td_config *cfg, const struct td_config_source *src, int listen_fd,
	      enum td_pool_kind pool)
{
	static struct worker w;		/* one per process; too large for the stack */
	sigset_t wait_mask;
	int i, wait, rc = 1;

	memset(&w, 0, sizeof(w));
	w.epfd = -1;
	w.pool = pool;
	td_log_set_role(pool == TD_POOL_VERIFY ? "verify-worker" : "worker");
	/* ps, top and the tests tell the pools apart by the process name */
	if (pool == TD_POOL_VERIFY)
		(void)prctl(PR_SET_NAME, "tokend-verify", 0, 0, 0);
	if (install_signals(&wait_mask) != 0 || worker_init(&w, cfg, src, listen_fd) != 0) {
		td_log_error("worker setup failed: %s", strerror(errno));
		goto done;
	}
	while (!stop_requested) {
		if (reload_requested)
			reload(&w);
		/* wake for the last-use writes when some are waiting, and to
		 * keep the verify cache's invalidation connection proven alive */
		wait = td_last_use_wait_ms(w.ctx.last_use, td_now_ms());
		if (w.ctx.verify_cache != NULL && (wait < 0 || wait > TD_STORE_KEEPALIVE_MS))
			wait = TD_STORE_KEEPALIVE_MS;
		poll_round(&w, &wait_mask, wait);
		(void)td_last_use_flush(w.ctx.last_use, w.ctx.store, td_now_ms());
		if (w.ctx.verify_cache != NULL)
			td_store_tracking_keepalive(w.ctx.store);
	}
	/* Draining: no new connections; serve requests already sent on the
	 * connections we hold, then close them. */
	listener_watch(&w, 0);
	w.draining = 1;
	close(w.listen_fd);
	for (i = 0; i < 3; i++)
		poll_round(&w, &wait_mask, 0);
	if (w.ctx.last_use != NULL) {
		w.ctx.last_use->due_ms = 0;	/* what is noted goes out before the exit */
		(void)td_last_use_flush(w.ctx.last_use, w.ctx.store, td_now_ms());
	}
	rc = 0;
done:
	worker_free(&w);
	return rc;
}
