#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tokend/body.h"

int
td_media_type_is_json(const char *ct)
{
	const char *end;
	size_t len;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	end = strchr(ct, ';');
	len = end ? (size_t)(end - ct) : strlen(ct);
	while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
		len--;
	if (len == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return 1;
	/* structured syntax suffix (RFC 6839): application/vnd.api+json */
	return len > 17 && strncasecmp(ct, "application/", 12) == 0 &&
	       strncasecmp(ct + len - 5, "+json", 5) == 0;
}

struct json_object *
td_json_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t end;

	if (len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "body too large to parse");
		return NULL;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "body contains a NUL byte");
		return NULL;
	}
	tok = json_tokener_new_ex(max_depth);
	if (tok == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue && obj == NULL) {
		/* A bare top-level number ("123") only ends at a delimiter:
		 * give json-c the end of input as one. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		if (jerr == json_tokener_success)
			goto done;
	}
	if (jerr == json_tokener_continue) {
		snprintf(err, errlen, "truncated JSON");
		goto fail;
	}
	if (jerr != json_tokener_success) {
		snprintf(err, errlen, "%s", json_tokener_error_desc(jerr));
		goto fail;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++) {
		if (!strchr(" \t\r\n", text[end])) {
			snprintf(err, errlen, "trailing data after the JSON value");
			goto fail;
		}
	}
done:
	json_tokener_free(tok);
	return obj;
fail:
	json_object_put(obj);
	json_tokener_free(tok);
	return NULL;
}
