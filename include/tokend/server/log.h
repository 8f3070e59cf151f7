/*
 * Logging: one line per event on stderr (journald, make run and Apache's
 * error log all collect it). Every error line names its function.
 * Never pass a token, an Authorization header or a request body here.
 */
#ifndef TOKEND_LOG_H
#define TOKEND_LOG_H

enum td_log_level {
	TD_LOG_ERROR,
	TD_LOG_WARN,
	TD_LOG_INFO,
	TD_LOG__MAX
};

void td_log_set_role(const char *role);
void td_log(enum td_log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* client: the web server's REMOTE_ADDR (printed only when it looks like an
 * address); actor: the management credential's id ("pat:3"), or "". */
void td_log_access(const char *method, const char *route, int status,
		   long long micros, const char *request_id, const char *client,
		   const char *actor);

#define td_log_error(...) td_log(TD_LOG_ERROR, __func__, __VA_ARGS__)
#define td_log_warn(...)  td_log(TD_LOG_WARN, __func__, __VA_ARGS__)
#define td_log_info(...)  td_log(TD_LOG_INFO, __func__, __VA_ARGS__)

#endif
