/*
 * POST /v1/credentials/revoke: leak reports from secret scanners (GitHub's
 * credential revocation API), {"credentials":["td_…", "idt:…", …]}, no
 * credential needed. Parses, hands the strings and the client's address
 * to td_core_leak_report, and answers 202 {"received":N} whatever they
 * were: nothing in the answer may tell a genuine credential from a forged
 * one. Errors in the admin dialect (422 for a body of another shape).
 */
#include "tokend/api/fields.h"
#include "tokend/api/handlers.h"
#include "tokend/core/cidr.h"

int
td_leak_parse(struct json_object *body, struct td_leak_report *report,
	      struct td_core_error *err)
{
	struct json_object *list, *item;
	size_t i;

	report->n = 0;
	if (body == NULL || !json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "credentials", &list) ||
	    !json_object_is_type(list, json_type_array))
		return td_field_fail(err, "credentials", "must be a list of strings");
	report->n = json_object_array_length(list);
	for (i = 0; i < report->n && i < TD_LEAK_CREDENTIALS_MAX; i++) {
		item = json_object_array_get_idx(list, i);
		if (!json_object_is_type(item, json_type_string))
			return td_field_fail(err, "credentials", "must be a list of strings");
		report->creds[i].s = json_object_get_string(item);
		report->creds[i].len = (size_t)json_object_get_string_len(item);
	}
	return 0;
}

int
td_api_leak_report(struct td_ctx *ctx, struct td_request *req)
{
	static struct td_leak_report report;	/* 16 KB: not on the stack */
	struct td_core_error perr = { TD_OK, NULL, NULL };
	char address[TD_ADDR_TEXT_MAX + 1];
	struct json_object *o;
	struct td_addr client;
	struct td_call c;

	if (td_leak_parse(req->json, &report, &perr) != 0)
		return td_api_fail_parse(req, &perr);
	/* the reporter is the client behind trusted proxies, as everywhere */
	if (td_api_client(ctx, req, &client) != NULL)
		td_addr_format(&client, address, sizeof(address));
	else
		address[0] = '\0';
	if (td_core_leak_report(ctx, &c, address, &report) != TD_OK)
		return td_api_fail(req, &c);
	td_api_rate_headers(req, &c);
	o = json_object_new_object();
	json_object_object_add(o, "received", json_object_new_int64((int64_t)report.n));
	return td_respond_json(req, 202, o);
}
