/*
 * Responses are written in one piece: status line, headers and body go to
 * the FastCGI stream together, with Content-Length, so nginx can keep the
 * upstream connection (fastcgi_keep_conn) without waiting for a close.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>

#include "tokend/server/http.h"
#include "tokend/server/log.h"
#include "tokend/server/out.h"

long long
td_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The route's dialect hooks (api/errors.c); unknown dialects answer as admin. */
static const struct td_dialect_hooks *
hooks_of(const struct td_request *req)
{
	return &td_dialect_hooks[req->dialect >= 0 && req->dialect < TD_DIALECT__MAX
				 ? req->dialect : TD_DIALECT_ADMIN];
}

const char *
td_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default:  return "Unknown";
	}
}

const char *
td_request_param(const struct td_request *req, const char *fastcgi_name)
{
	return FCGX_GetParam(fastcgi_name, req->fcgx->envp);
}

/* The target as the web server received it. REQUEST_URI is set by nginx's
 * fastcgi_params, Apache (mod_fcgid, mod_proxy_fcgi) and lighttpd; the
 * fallback covers servers that only pass the CGI/1.1 variables. */
const char *
td_request_uri(const struct td_request *req, char *buf, size_t size)
{
	const char *uri = td_request_param(req, "REQUEST_URI");
	const char *script, *info, *query;
	int n;

	if (uri != NULL && uri[0] != '\0')
		return uri;
	script = td_request_param(req, "SCRIPT_NAME");
	info = td_request_param(req, "PATH_INFO");
	query = td_request_param(req, "QUERY_STRING");
	n = snprintf(buf, size, "%s%s%s%s", script ? script : "", info ? info : "",
		     query && query[0] ? "?" : "", query ? query : "");
	return n <= 0 || (size_t)n >= size ? NULL : buf;
}

const char *
td_request_header(const struct td_request *req, const char *name)
{
	char param[128];
	size_t i, len = strlen(name);

	if (len + 6 >= sizeof(param))
		return NULL;
	/* CGI names Content-Type and Content-Length without the HTTP_ prefix */
	if (strcasecmp(name, "Content-Type") == 0)
		return td_request_param(req, "CONTENT_TYPE");
	if (strcasecmp(name, "Content-Length") == 0)
		return td_request_param(req, "CONTENT_LENGTH");
	memcpy(param, "HTTP_", 5);
	for (i = 0; i < len; i++)
		param[5 + i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	param[5 + len] = '\0';
	return td_request_param(req, param);
}

static int
header_text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int
td_response_header(struct td_request *req, const char *name, const char *value)
{
	struct td_out line;

	if (!header_text_ok(name) || !header_text_ok(value)) {
		td_log_error("refusing header %s with control characters", name);
		return -1;
	}
	td_out_init(&line, req->headers + req->headers_len,
		     sizeof(req->headers) - req->headers_len);
	td_out_put(&line, name);
	td_out_putn(&line, ": ", 2);
	td_out_put(&line, value);
	td_out_putn(&line, "\r\n", 2);
	if (line.overflow) {
		req->headers[req->headers_len] = '\0';
		td_log_error("response headers exceed %zu bytes", sizeof(req->headers));
		return -1;
	}
	req->headers_len += line.len;
	return 0;
}

static void
respond_begin(struct td_request *req)
{
	req->responded = 1;
	if (req->before_response != NULL)
		req->before_response(req->before_response_arg);
}

/* Status line and headers; with a length, Content-Length (without one the
 * body runs to the end of the FastCGI stream: a streamed list). */
static int
write_head(struct td_request *req, int status, const size_t *length)
{
	char buf[256];
	struct td_out head;

	if (req->responded) {
		td_log_error("second response for one request (status %d)", status);
		return -1;
	}
	if (req->before_head != NULL) {
		req->before_head(req, req->before_head_arg);
		req->before_head = NULL;
	}
	if (hooks_of(req)->before_headers != NULL)
		hooks_of(req)->before_headers(req);
	td_out_init(&head, buf, sizeof(buf));
	td_out_putn(&head, "Status: ", 8);
	td_out_i64(&head, status);
	td_out_putn(&head, " ", 1);
	td_out_put(&head, td_http_reason(status));
	td_out_put(&head, "\r\nContent-Type: application/json; charset=utf-8\r\nX-Request-Id: ");
	td_out_put(&head, req->request_id);
	td_out_putn(&head, "\r\n", 2);
	if (length != NULL) {
		td_out_putn(&head, "Content-Length: ", 16);
		td_out_i64(&head, (int64_t)*length);
		td_out_putn(&head, "\r\n", 2);
	}
	if (head.overflow)
		return -1;
	respond_begin(req);
	req->status = status;
	if (FCGX_PutStr(head.buf, (int)head.len, req->fcgx->out) < 0 ||
	    FCGX_PutStr(req->headers, (int)req->headers_len, req->fcgx->out) < 0 ||
	    FCGX_PutStr("\r\n", 2, req->fcgx->out) < 0)
		return -1;
	return 0;
}

int
td_respond_json_text(struct td_request *req, int status, const char *text, size_t text_len)
{
	if (text_len > INT32_MAX || write_head(req, status, &text_len) != 0)
		return -1;
	if (req->method != TD_METHOD_HEAD && FCGX_PutStr(text, (int)text_len, req->fcgx->out) < 0)
		return -1;
	return 0;
}

/* --- a 200 body written as it is produced --- */

int
td_stream_init(struct td_stream *s, struct td_request *req)
{
	s->req = req;
	s->started = 0;
	s->buf = printbuf_new();
	return s->buf != NULL ? 0 : -1;
}

/* What the buffer holds goes out, the head first if it has not yet. */
static int
stream_flush(struct td_stream *s)
{
	struct td_request *req = s->req;

	if (!s->started) {
		if (write_head(req, 200, NULL) != 0)
			return -1;
		s->started = 1;
	}
	if (req->method != TD_METHOD_HEAD && s->buf->bpos > 0 &&
	    FCGX_PutStr(s->buf->buf, s->buf->bpos, req->fcgx->out) < 0)
		return -1;
	printbuf_reset(s->buf);
	return 0;
}

int
td_stream_wrote(struct td_stream *s)
{
	return s->buf->bpos >= TD_STREAM_FLUSH_BYTES ? stream_flush(s) : 0;
}

int
td_stream_finish(struct td_stream *s)
{
	int rc;

	/* a body that never grew past one flush keeps its Content-Length */
	rc = s->started ? stream_flush(s)
			: td_respond_json_text(s->req, 200, s->buf->buf, (size_t)s->buf->bpos);
	printbuf_free(s->buf);
	s->buf = NULL;
	return rc;
}

int
td_stream_abandon(struct td_stream *s)
{
	int started = s->started;

	printbuf_free(s->buf);
	s->buf = NULL;
	if (!started)
		return 0;
	/* a 200 is on its way: the only honest end left is a cut one. No
	 * FastCGI end record (libfcgi would send one when finishing): the web
	 * server sees its upstream close mid-response and cuts the client's */
	td_log_error("a streamed list failed after its first bytes: connection cut");
	shutdown(s->req->fcgx->ipcFd, SHUT_RDWR);
	s->req->close_connection = 1;
	s->req->status = 500;	/* what the access log and the metrics count */
	return 1;
}

int
td_respond_no_content(struct td_request *req)
{
	char head[160];
	int n;

	if (req->responded)
		return -1;
	n = snprintf(head, sizeof(head), "Status: 204 No Content\r\nX-Request-Id: %s\r\n",
		     req->request_id);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	respond_begin(req);
	req->status = 204;
	if (FCGX_PutStr(head, n, req->fcgx->out) < 0 ||
	    FCGX_PutStr(req->headers, (int)req->headers_len, req->fcgx->out) < 0 ||
	    FCGX_PutStr("\r\n", 2, req->fcgx->out) < 0)
		return -1;
	return 0;
}

int
td_respond_json(struct td_request *req, int status, struct json_object *body)
{
	const char *text;
	size_t text_len;
	int rc = -1;

	if (body == NULL)
		body = json_object_new_object();
	text = json_object_to_json_string_length(body,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &text_len);
	if (text != NULL)
		rc = td_respond_json_text(req, status, text, text_len);
	json_object_put(body);
	return rc;
}

int
td_respond_error(struct td_request *req, int status, const char *code,
		 const char *field, const char *message)
{
	struct td_error e = { status, code, field, message };
	char allow[96];

	if (hooks_of(req)->error_status != NULL)
		e.status = status = hooks_of(req)->error_status(req, status);

	if (status == 405) {
		td_methods_format(req->match.allow, allow, sizeof(allow));
		td_response_header(req, "Allow", allow);
	}
	return td_respond_json(req, status, hooks_of(req)->render_error(&e, req->request_id));
}
