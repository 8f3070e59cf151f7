/*
 * The metrics process: answers Prometheus's scrapes on metrics_listen with
 * the exposition of every process's counters. Prometheus speaks HTTP, not
 * FastCGI, and no HTTP server library is in the stack, so this is the
 * smallest HTTP/1.1 responder that serves it: one connection at a time,
 * a bounded request head read under a timeout, one answer, then close.
 * It only ever answers GET or HEAD /metrics; it reads no body.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tokend/server/log.h"
#include "tokend/server/metrics.h"
#include "tokend/server/worker.h"

#define METRICS_HEAD_MAX 4096		/* bytes of a scrape's request head */
#define METRICS_IO_TIMEOUT_MS 2000

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
answer(int fd, int status, const char *reason, const char *extra, const char *body,
       size_t len, int head_only)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		     "Connection: close\r\n\r\n", status, reason,
		     status == 200 ? "text/plain; version=0.0.4; charset=utf-8"
				   : "application/json; charset=utf-8", len, extra);
	if (write_all(fd, head, (size_t)n) == 0 && !head_only)
		(void)write_all(fd, body, len);
}

/* Reads the request head (up to a blank line) into buf; its length, or -1. */
static ssize_t
read_head(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got < size - 1) {
		n = recv(fd, buf + got, size - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL)
			return (ssize_t)got;
	}
	return -1;
}

static void
serve_scrape(int fd, const struct td_metrics *region)
{
	static const char not_found[] = "{\"error\":\"no such endpoint\",\"code\":\"route_not_found\"}\n";
	static const char bad[] = "{\"error\":\"method not allowed\",\"code\":\"method_not_allowed\"}\n";
	char head[METRICS_HEAD_MAX], *body;
	size_t len, target_len;
	const char *target;
	int is_head;

	if (read_head(fd, head, sizeof(head)) < 0)
		return;
	is_head = strncmp(head, "HEAD ", 5) == 0;
	if (strncmp(head, "GET ", 4) != 0 && !is_head) {
		answer(fd, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n", bad, sizeof(bad) - 1, 0);
		return;
	}
	target = head + (is_head ? 5 : 4);
	target_len = strcspn(target, " ?\r\n");
	if (target_len != 8 || strncmp(target, "/metrics", 8) != 0) {
		answer(fd, 404, "Not Found", "", not_found, sizeof(not_found) - 1, is_head);
		return;
	}
	if ((body = td_metrics_render(region, &len)) == NULL) {
		answer(fd, 500, "Internal Server Error", "", "{}\n", 3, is_head);
		return;
	}
	answer(fd, 200, "OK", "", body, len, is_head);
	free(body);
}

int
td_metrics_serve(int listen_fd, const struct td_metrics *region)
{
	struct timeval tv = { METRICS_IO_TIMEOUT_MS / 1000, (METRICS_IO_TIMEOUT_MS % 1000) * 1000 };
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
	struct sigaction sa;
	sigset_t none;
	int fd;

	td_log_set_role("metrics");
	(void)prctl(PR_SET_NAME, "tokend-metrics", 0, 0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: poll must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	while (!stop_requested) {
		if (poll(&pfd, 1, -1) <= 0)
			continue;
		fd = accept(listen_fd, NULL, NULL);
		if (fd < 0)
			continue;	/* another scraper gave up, or EAGAIN */
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		serve_scrape(fd, region);
		(void)shutdown(fd, SHUT_WR);
		close(fd);
	}
	close(listen_fd);
	return 0;
}
