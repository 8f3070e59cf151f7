/*
 * Log lines are formatted into one buffer and written with one write(2), so
 * lines from several workers sharing stderr never interleave mid-line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tokend/server/log.h"

#define TD_LOG_LINE_MAX 1024

static const char *const level_names[TD_LOG__MAX] = {
	[TD_LOG_ERROR] = "error",
	[TD_LOG_WARN] = "warn",
	[TD_LOG_INFO] = "info",
};

static const char *log_role = "main";

void
td_log_set_role(const char *role)
{
	log_role = role;
}

static size_t
log_prefix(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ tokend[%ld] %s ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (long)getpid(), log_role);
	return (n < 0 || (size_t)n >= size) ? 0 : (size_t)n;
}

static void
log_emit(char *buf, size_t len, size_t size)
{
	ssize_t w;

	if (len >= size - 1)
		len = size - 2;	/* truncated: keep the newline */
	buf[len++] = '\n';
	do {
		w = write(STDERR_FILENO, buf, len);
	} while (w < 0 && errno == EINTR);
}

void
td_log(enum td_log_level level, const char *func, const char *fmt, ...)
{
	char buf[TD_LOG_LINE_MAX];
	size_t len;
	va_list ap;
	int n;

	if (level < 0 || level >= TD_LOG__MAX)
		level = TD_LOG_ERROR;
	len = log_prefix(buf, sizeof(buf));
	n = snprintf(buf + len, sizeof(buf) - len, "%s %s: ", level_names[level], func);
	if (n > 0)
		len += (size_t)n < sizeof(buf) - len ? (size_t)n : sizeof(buf) - len - 1;
	va_start(ap, fmt);
	n = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += (size_t)n < sizeof(buf) - len ? (size_t)n : sizeof(buf) - len - 1;
	log_emit(buf, len, sizeof(buf));
}

/* An IPv4 or IPv6 address's characters only, at most INET6_ADDRSTRLEN: a
 * REMOTE_ADDR is the web server's word, but never copied blindly. */
static const char *
printable_address(const char *s)
{
	size_t n;

	if (s == NULL || s[0] == '\0')
		return "-";
	n = strspn(s, "0123456789abcdefABCDEF:.");
	return n == strlen(s) && n < 46 ? s : "-";
}

void
td_log_access(const char *method, const char *route, int status,
	      long long micros, const char *request_id, const char *client, const char *actor)
{
	char buf[TD_LOG_LINE_MAX];
	size_t len;
	int n;

	len = log_prefix(buf, sizeof(buf));
	n = snprintf(buf + len, sizeof(buf) - len,
		     "access method=%s route=%s status=%d us=%lld rid=%s client=%s cred=%s",
		     method, route, status, micros, request_id, printable_address(client),
		     actor != NULL && actor[0] != '\0' ? actor : "-");
	if (n > 0)
		len += (size_t)n < sizeof(buf) - len ? (size_t)n : sizeof(buf) - len - 1;
	log_emit(buf, len, sizeof(buf));
}
