/*
 * The SoftwareOne Marketplace view of tokens:
 *   GET|POST /public/v1/accounts/api-tokens
 *   GET|PUT|DELETE /public/v1/accounts/api-tokens/{TKN-id}
 *   POST /public/v1/accounts/api-tokens/{TKN-id}/enable|disable
 *   GET /public/v1/accounts/modules[/{MOD-id}]
 * Ids render as TKN-NNNN-NNNN / ACC-NNNN-NNNN / MOD-NNNN over tokend's
 * numbers (an account is a space). Lists take RQL, select, order, limit and
 * offset and answer {"$meta":{"pagination":{offset,limit,total},"omitted"},
 * "data"}. Errors are RFC 9457 problem details (error.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/api/handlers.h"
#include "tokend/core/module.h"
#include "tokend/server/parse.h"
#include "tokend/api/rql.h"
#include "tokend/store/store.h"

#define SWO_LIMIT_DEFAULT 100
#define SWO_LIMIT_MAX     100
#define SWO_NAME_MAX      200
#define SWO_DESCRIPTION_MAX 2000
#define SWO_ORDER_MAX     8

static int
problem(struct td_request *req, int status, const char *field, const char *message)
{
	td_respond_error(req, status, status == 404 ? "not_found" : "bad_request", field, message);
	return 0;
}

/* A store result as problem details: Redis trouble → 503, missing → 404. */
static int
store_problem(struct td_request *req, int rc, const char *what)
{
	if (rc == TD_STORE_REFUSED)
		return problem(req, 503, NULL, "storage refuses writes (Redis is out of memory or "
					       "cannot persist)");
	return problem(req, rc < 0 ? 503 : 404, NULL, rc < 0 ? "storage unavailable" : what);
}

/* "TKN-1234-5678" → 12345678; anything else is -1 (a 404 for a path id). */
static int
parse_prefixed(const char *s, const char *prefix, int groups, int64_t *out)
{
	size_t plen = strlen(prefix);
	long long hi, lo = 0;

	if (s == NULL || strncmp(s, prefix, plen) != 0 || s[plen] != '-')
		return -1;
	s += plen + 1;
	if (groups == 1)
		return strlen(s) == 4 && td_parse_int64(s, 4, 0, 9999, &hi) == 0 ? (*out = hi, 0) : -1;
	if (strlen(s) != 9 || s[4] != '-' || td_parse_int64(s, 4, 0, 9999, &hi) != 0 ||
	    td_parse_int64(s + 5, 4, 0, 9999, &lo) != 0)
		return -1;
	*out = hi * 10000 + lo;
	return 0;
}

/* TKN-NNNN-NNNN for the ids it can hold; larger ids keep all their digits. */
static void
format_prefixed(char *buf, size_t size, const char *prefix, int64_t id)
{
	if (id >= 0 && id <= 99999999)
		snprintf(buf, size, "%s-%04" PRId64 "-%04" PRId64, prefix, id / 10000, id % 10000);
	else
		snprintf(buf, size, "%s-%" PRId64, prefix, id);
}

static struct json_object *
prefixed_json(const char *prefix, int64_t id)
{
	char buf[40];

	format_prefixed(buf, sizeof(buf), prefix, id);
	return json_object_new_string(buf);
}

/* "token:5" → {"id":"TKN-0000-0005"}, "pat:1" → {"id":"PAT-1"}. */
static struct json_object *
actor_json(const char *actor)
{
	struct json_object *o = json_object_new_object();
	long long id;
	char buf[48];

	if (strncmp(actor, "token:", 6) == 0 && td_parse_int64(actor + 6, strlen(actor + 6), 1,
								INT64_MAX, &id) == 0)
		format_prefixed(buf, sizeof(buf), "TKN", id);
	else if (strncmp(actor, "pat:", 4) == 0)
		snprintf(buf, sizeof(buf), "PAT-%s", actor + 4);
	else
		snprintf(buf, sizeof(buf), "%s", actor);
	json_object_object_add(o, "id", json_object_new_string(buf));
	return o;
}

static void
audit_event(struct json_object *audit, const char *name, int64_t at_ms, const char *by)
{
	struct json_object *e;

	if (at_ms <= 0)
		return;		/* an event that has not happened is left out */
	e = json_object_new_object();
	json_object_object_add(e, "at", td_json_time_ms(at_ms));
	if (by[0] != '\0')
		json_object_object_add(e, "by", actor_json(by));
	json_object_object_add(audit, name, e);
}

static const char *
swo_status(const struct td_token *t)
{
	return t->status == TD_STATUS_ACTIVE ? "Active" : t->status == TD_STATUS_DISABLED ? "Disabled"
											     : "Deleted";
}

/* The whole object; projections remove from it. */
static struct json_object *
api_token_json(const struct td_ctx *ctx, const struct td_token *t, const struct td_space *sp)
{
	struct json_object *o = json_object_new_object(), *acc = json_object_new_object();
	struct json_object *mods = json_object_new_array(), *audit = json_object_new_object();
	struct json_object *tok = td_token_string_json(ctx, t);
	const struct td_module *m;
	char href[64], id[40];
	int i;

	format_prefixed(id, sizeof(id), "TKN", t->id);
	snprintf(href, sizeof(href), "/accounts/api-tokens/%s", id);
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "href", json_object_new_string(href));
	json_object_object_add(o, "name", json_object_new_string(t->has_name ? t->name : ""));
	json_object_object_add(o, "description", json_object_new_string(t->description));
	json_object_object_add(o, "icon", json_object_new_string(t->icon));
	json_object_object_add(o, "status", json_object_new_string(swo_status(t)));
	json_object_object_add(o, "token", tok != NULL ? tok : json_object_new_string(""));
	json_object_object_add(acc, "id", prefixed_json("ACC", sp->id));
	json_object_object_add(acc, "name", json_object_new_string(sp->name));
	json_object_object_add(acc, "type", json_object_new_string("Client"));
	json_object_object_add(acc, "status", json_object_new_string("Active"));
	json_object_object_add(acc, "icon", json_object_new_string(""));
	json_object_object_add(o, "account", acc);
	for (i = 0; i < t->nmodules; i++)
		if ((m = td_module_find(t->modules[i])) != NULL)
			json_object_array_add(mods, td_module_ref_json(m));
	json_object_object_add(o, "modules", mods);
	audit_event(audit, "created", t->created_at_ms, t->created_by);
	if (t->updated_at_ms != t->created_at_ms)
		audit_event(audit, "updated", t->updated_at_ms, t->updated_by);
	audit_event(audit, "enabled", t->enabled_at_ms, t->enabled_by);
	audit_event(audit, "disabled", t->disabled_at_ms, t->disabled_by);
	json_object_object_add(o, "audit", audit);
	return o;
}

/* Who calls, in which account (its own, else X-Space-Id), with which scope. */
static int
prelude(struct td_ctx *ctx, struct td_request *req, struct td_principal *who, int64_t *space,
	unsigned scope, int64_t own_token)
{
	const char *hdr;
	long long v;
	int rc;

	rc = td_auth_identify(ctx, req, who);
	if (rc == 503)
		return problem(req, 503, NULL, "storage unavailable"), -1;
	if (rc != 0)
		return problem(req, 401, NULL, "Check if the Authorization header is present and "
					       "contains a valid token value"), -1;
	hdr = td_request_header(req, "X-Space-Id");
	if (!who->all_spaces && who->nspaces == 1) {
		*space = who->spaces[0];
		/* bound to one account: naming another is refused, not ignored */
		if (hdr != NULL && (td_parse_int64(hdr, strlen(hdr), 1, INT64_MAX, &v) != 0 ||
				    v != *space))
			return problem(req, 403, NULL, "this token belongs to another account"), -1;
	} else if (hdr == NULL ||
		   td_parse_int64(hdr, strlen(hdr), 1, INT64_MAX, &v) != 0) {
		return problem(req, 400, "X-Space-Id", "this token reaches several accounts: "
						       "name one in X-Space-Id"), -1;
	} else {
		*space = v;
	}
	/* a token may always read its own record */
	if (!td_principal_has_space(who, *space) ||
	    ((who->scopes & scope) != scope && !(own_token != 0 && own_token == who->token_id)))
		return problem(req, 403, NULL, "this token may not do that in this account"), -1;
	rc = td_store_space_get(ctx->store, *space, &ctx->scratch_space);
	if (rc != TD_STORE_OK)
		return store_problem(req, rc, "no such account"), -1;
	return td_rate_limit(ctx, req, who, *space);
}

/* --- projection: select=+a,-b --- */

struct projection {
	const char *omitted[8];
	int nomitted;
};

static void
projection_default(struct projection *p, int single)
{
	p->nomitted = 0;
	if (!single)
		p->omitted[p->nomitted++] = "modules";
	p->omitted[p->nomitted++] = "audit";
}

static void
projection_set(struct projection *p, const char *field, int omit)
{
	int i;

	for (i = 0; i < p->nomitted; i++)
		if (strcmp(p->omitted[i], field) == 0) {
			if (!omit)
				p->omitted[i] = p->omitted[--p->nomitted];
			return;
		}
	if (omit && p->nomitted < (int)(sizeof(p->omitted) / sizeof(p->omitted[0])))
		p->omitted[p->nomitted++] = field;
}

static const char *const top_fields[] = {
	"id", "href", "name", "description", "icon", "status", "token", "account", "modules",
	"audit", "lastAccessAt",
};

static const char *
top_field(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(top_fields) / sizeof(top_fields[0]); i++)
		if (strlen(top_fields[i]) == len && memcmp(top_fields[i], name, len) == 0)
			return top_fields[i];
	return NULL;
}

/* select=+a,-b,c: nested paths (account.name) select within fields that
 * are shown anyway; "id" is core and stays. */
static int
projection_parse(struct td_request *req, struct projection *p, const char *select)
{
	const char *item = select, *comma, *name, *field, *dot;
	size_t len;
	int omit;

	while (select != NULL && *item != '\0') {
		comma = strchr(item, ',');
		len = comma ? (size_t)(comma - item) : strlen(item);
		omit = item[0] == '-';
		name = item + (item[0] == '-' || item[0] == '+' || item[0] == ' ');
		len -= (size_t)(name - item);
		dot = memchr(name, '.', len);
		field = top_field(name, dot ? (size_t)(dot - name) : len);
		if (field == NULL)
			return problem(req, 400, "select", "unknown field in select"), -1;
		if (dot == NULL && strcmp(field, "id") != 0)
			projection_set(p, field, omit);
		if (comma == NULL)
			break;
		item = comma + 1;
	}
	return 0;
}

static void
projection_apply(const struct projection *p, struct json_object *o, int with_meta)
{
	struct json_object *meta, *list;
	int i;

	for (i = 0; i < p->nomitted; i++)
		json_object_object_del(o, p->omitted[i]);
	if (with_meta && p->nomitted > 0) {
		meta = json_object_new_object();
		list = json_object_new_array();
		for (i = 0; i < p->nomitted; i++)
			json_object_array_add(list, json_object_new_string(p->omitted[i]));
		json_object_object_add(meta, "omitted", list);
		json_object_object_add(o, "$meta", meta);
	}
}

/* --- lists --- */

static int
known_path(const char *path, const char *coll, void *arg)
{
	static const char *const paths[] = {
		"id", "href", "name", "description", "icon", "status", "token", "lastAccessAt",
		"account.id", "account.name", "account.type", "account.status", "modules",
	};
	size_t i;

	(void)arg;
	if (coll != NULL)	/* inside any(modules, …) */
		return strcmp(path, "id") == 0 || strcmp(path, "name") == 0;
	if (strncmp(path, "audit.", 6) == 0 || strcmp(path, "modules.id") == 0 ||
	    strcmp(path, "modules.name") == 0)
		return 1;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strcmp(path, paths[i]) == 0)
			return 1;
	return 0;
}

struct order {
	const char *path[SWO_ORDER_MAX];
	int desc[SWO_ORDER_MAX];
	int n;
};

static struct order *sort_order;	/* qsort has no context argument */

static int
compare_values(struct json_object *a, struct json_object *b)
{
	double x, y;

	if (a == NULL || json_object_is_type(a, json_type_null))
		return b == NULL || json_object_is_type(b, json_type_null) ? 0 : -1;
	if (b == NULL || json_object_is_type(b, json_type_null))
		return 1;
	if ((json_object_is_type(a, json_type_int) || json_object_is_type(a, json_type_double)) &&
	    (json_object_is_type(b, json_type_int) || json_object_is_type(b, json_type_double))) {
		x = json_object_get_double(a);
		y = json_object_get_double(b);
		return x < y ? -1 : x > y;
	}
	return strcmp(json_object_get_string(a), json_object_get_string(b));
}

static int
compare_tokens(const void *pa, const void *pb)
{
	struct json_object *a = *(struct json_object *const *)pa, *b = *(struct json_object *const *)pb;
	int i, c;

	for (i = 0; i < sort_order->n; i++) {
		c = compare_values(td_json_path(a, sort_order->path[i]),
				   td_json_path(b, sort_order->path[i]));
		if (c != 0)
			return sort_order->desc[i] ? -c : c;
	}
	return 0;
}

static int
order_parse(struct td_request *req, char *spec, struct order *o)
{
	char *item, *save = NULL;

	o->n = 0;
	for (item = strtok_r(spec, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		if (o->n == SWO_ORDER_MAX)
			return problem(req, 400, "order", "too many order fields"), -1;
		o->desc[o->n] = item[0] == '-';
		if (item[0] == '-' || item[0] == '+' || item[0] == ' ')
			item++;
		if (!known_path(item, NULL, NULL) || strcmp(item, "modules") == 0)
			return problem(req, 400, "order", "unknown field in order"), -1;
		o->path[o->n++] = item;
	}
	return 0;
}

struct list_ctx {
	struct td_ctx *ctx;
	const struct td_rql *rql;
	struct json_object *all;	/* matching tokens, full objects */
};

static int
collect(const struct td_token *t, int space_min_cache, void *arg)
{
	struct list_ctx *c = arg;
	struct json_object *o = api_token_json(c->ctx, t, &c->ctx->scratch_space);

	(void)space_min_cache;
	if (td_rql_match(c->rql, o))
		json_object_array_add(c->all, o);
	else
		json_object_put(o);
	return 0;
}

static int
bounded_param(struct td_request *req, const char *name, const char *v, long long max,
	      long long *out)
{
	if (v == NULL)
		return 0;
	if (td_parse_int64(v, strlen(v), 0, max, out) != 0)
		return problem(req, 400, name, "must be a non-negative integer"), -1;
	return 0;
}

int
td_api_swo_list(struct td_ctx *ctx, struct td_request *req)
{
	static struct td_rql rql;
	static char order_buf[TD_QUERY_MAX + 1];
	struct json_object *doc, *meta, *pag, *data, *omitted;
	struct list_ctx c = { ctx, &rql, NULL };
	struct projection proj;
	struct td_principal who;
	struct order order;
	const char *bad, *select = NULL;
	char seg[TD_QUERY_MAX + 2];
	long long limit = SWO_LIMIT_DEFAULT, offset = 0;
	size_t total, i;
	int64_t space;
	int k, rc;

	if (prelude(ctx, req, &who, &space, TD_SCOPE_TOKENS_READ, 0) != 0)
		return 0;
	td_rql_init(&rql);
	projection_default(&proj, 0);
	order.n = 0;
	for (k = 0; k < req->target.nparams; k++) {
		const struct td_query_param *qp = &req->target.params[k];

		if (strcmp(qp->key, "limit") == 0 && qp->has_value) {
			if (bounded_param(req, "limit", qp->value, INT32_MAX, &limit) != 0)
				return 0;
		} else if (strcmp(qp->key, "offset") == 0 && qp->has_value) {
			if (bounded_param(req, "offset", qp->value, INT32_MAX, &offset) != 0)
				return 0;
		} else if (strcmp(qp->key, "select") == 0 && qp->has_value) {
			select = qp->value;
		} else if (strcmp(qp->key, "order") == 0 && qp->has_value) {
			snprintf(order_buf, sizeof(order_buf), "%s", qp->value);
			if (order_parse(req, order_buf, &order) != 0)
				return 0;
		} else {
			/* every other segment is RQL: "eq(a,b)", "a=b", "any(m,id=x)" */
			snprintf(seg, sizeof(seg), "%s%s%s", qp->key, qp->has_value ? "=" : "", qp->value);
			if (td_rql_add(&rql, seg, strlen(seg)) != 0)
				return problem(req, 400, "rql", rql.error);
		}
	}
	if ((bad = td_rql_check_paths(&rql, known_path, NULL)) != NULL) {
		snprintf(seg, sizeof(seg), "Unknown field '%s'", bad);
		return problem(req, 400, "rql", seg);
	}
	if (projection_parse(req, &proj, select) != 0)
		return 0;
	if (limit > SWO_LIMIT_MAX)
		limit = SWO_LIMIT_MAX;	/* "values above 100 are capped" */
	c.all = json_object_new_array();
	rc = td_store_token_list(ctx->store, space, collect, &c);
	if (rc != TD_STORE_OK) {
		json_object_put(c.all);
		return store_problem(req, rc, "no such account");
	}
	total = json_object_array_length(c.all);
	if (order.n > 0) {
		sort_order = &order;
		json_object_array_sort(c.all, compare_tokens);
	}
	data = json_object_new_array();
	for (i = (size_t)offset; i < total && i < (size_t)offset + (size_t)limit; i++) {
		struct json_object *o = json_object_get(json_object_array_get_idx(c.all, i));

		projection_apply(&proj, o, 0);
		json_object_array_add(data, o);
	}
	json_object_put(c.all);
	pag = json_object_new_object();
	json_object_object_add(pag, "offset", json_object_new_int64(offset));
	json_object_object_add(pag, "limit", json_object_new_int64(limit));
	json_object_object_add(pag, "total", json_object_new_int64((int64_t)total));
	meta = json_object_new_object();
	json_object_object_add(meta, "pagination", pag);
	omitted = json_object_new_array();
	for (k = 0; k < proj.nomitted; k++)
		json_object_array_add(omitted, json_object_new_string(proj.omitted[k]));
	json_object_object_add(meta, "omitted", omitted);
	doc = json_object_new_object();
	json_object_object_add(doc, "$meta", meta);
	json_object_object_add(doc, "data", data);
	return td_respond_json(req, 200, doc);
}

/* --- one token --- */

static int
respond_token(struct td_ctx *ctx, struct td_request *req, int status, const struct td_token *t,
	      const struct projection *p)
{
	struct json_object *o = api_token_json(ctx, t, &ctx->scratch_space);

	if (p != NULL)
		projection_apply(p, o, 1);
	return td_respond_json(req, status, o);
}

static int
load(struct td_ctx *ctx, struct td_request *req, int64_t space, int64_t id)
{
	int rc, mc;

	rc = td_store_token_get(ctx->store, space, id, &ctx->scratch_token, &mc);
	if (rc != TD_STORE_OK)
		return store_problem(req, rc, "no such API token"), -1;
	return 0;
}

int
td_api_swo_get(struct td_ctx *ctx, struct td_request *req)
{
	struct projection proj;
	struct td_principal who;
	int64_t space, id;

	if (parse_prefixed(req->match.strs[0], "TKN", 2, &id) != 0)
		return problem(req, 404, NULL, "no such API token");
	if (prelude(ctx, req, &who, &space, TD_SCOPE_TOKENS_READ, id) != 0 ||
	    load(ctx, req, space, id) != 0)
		return 0;
	projection_default(&proj, 1);
	if (projection_parse(req, &proj, td_target_query(&req->target, "select")) != 0)
		return 0;
	return respond_token(ctx, req, 200, &ctx->scratch_token, &proj);
}

/* name, description, icon, modules from a create or update body. */
static int
apply_body(struct td_request *req, struct td_token *t, int creating)
{
	struct json_object *body = req->json, *v, *item, *mid;
	const char *msg = NULL;
	int64_t id;
	size_t i, n;
	int is_null;

	if (body == NULL || !json_object_is_type(body, json_type_object))
		return problem(req, 400, "body", "a JSON object is required"), -1;
	if (json_object_object_get_ex(body, "name", &v)) {
		if (td_json_text(v, SWO_NAME_MAX, t->name, sizeof(t->name), &is_null, &msg) != 0)
			return problem(req, 400, "name", msg), -1;
		if (is_null || t->name[0] == '\0')
			return problem(req, 400, "name", "The Name field is required."), -1;
		t->has_name = 1;
	} else if (creating) {
		return problem(req, 400, "name", "The Name field is required."), -1;
	}
	if (json_object_object_get_ex(body, "description", &v) &&
	    td_json_text(v, SWO_DESCRIPTION_MAX, t->description, sizeof(t->description), NULL, &msg))
		return problem(req, 400, "description", msg), -1;
	if (json_object_object_get_ex(body, "icon", &v) &&
	    td_json_text(v, TD_ICON_MAX, t->icon, sizeof(t->icon), NULL, &msg) != 0)
		return problem(req, 400, "icon", msg), -1;
	if (json_object_object_get_ex(body, "modules", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_array) ||
		    (n = json_object_array_length(v)) > TD_TOKEN_MODULES_MAX)
			return problem(req, 400, "modules", "must be a list of at most 32 modules"), -1;
		for (i = 0; i < n; i++) {
			item = json_object_array_get_idx(v, i);
			if (!json_object_is_type(item, json_type_object) ||
			    !json_object_object_get_ex(item, "id", &mid) ||
			    !json_object_is_type(mid, json_type_string) ||
			    parse_prefixed(json_object_get_string(mid), "MOD", 1, &id) != 0 ||
			    td_module_find(id) == NULL)
				return problem(req, 400, "modules", "unknown module"), -1;
			t->modules[i] = id;
		}
		t->nmodules = (int)n;
	}
	return 0;
}

int
td_api_swo_create(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token *t = &ctx->scratch_token;
	struct json_object *acc, *aid;
	struct td_principal who;
	int64_t space, body_space;
	int rc, mc;

	if (prelude(ctx, req, &who, &space, TD_SCOPE_TOKENS_WRITE, 0) != 0)
		return 0;
	/* the account named in the body must be the caller's */
	if (req->json != NULL && json_object_object_get_ex(req->json, "account", &acc) &&
	    json_object_is_type(acc, json_type_object) && json_object_object_get_ex(acc, "id", &aid)) {
		if (!json_object_is_type(aid, json_type_string) ||
		    parse_prefixed(json_object_get_string(aid), "ACC", 2, &body_space) != 0)
			return problem(req, 400, "account", "account.id must look like ACC-1234-5678");
		if (body_space != space)
			return problem(req, 403, NULL, "this token may not create tokens in that account");
	}
	td_token_defaults(t);
	if (apply_body(req, t, 1) != 0)
		return 0;
	t->space_id = space;
	t->access = TD_ACCESS_PUBLIC;
	t->rights = TD_RIGHT_CMA;	/* a Marketplace API credential, no content access */
	if (td_token_regenerate(t, ctx->keyring) != 0)
		return problem(req, 500, NULL, "no randomness");
	t->signed_kind = TD_KIND_IDT;
	t->created_at_ms = t->updated_at_ms = td_now_ms();
	memcpy(t->created_by, who.actor, sizeof(t->created_by));
	memcpy(t->updated_by, who.actor, sizeof(t->updated_by));
	rc = td_store_token_create(ctx->store, t, who.actor, "api_token.create", &mc);
	if (rc != TD_STORE_OK)
		return store_problem(req, rc, "no such account");
	if (t->id > TD_IDT_ID_MAX) {
		/* TKN-NNNN-NNNN holds 8 digits: past that, tokend's own form */
		t->signed_kind = TD_KIND_PUBLIC;
		td_store_token_put(ctx->store, t);
	}
	return respond_token(ctx, req, 201, t, NULL);
}

/* Changes a token and writes it back: update and the transitions. */
enum swo_change { SWO_UPDATE, SWO_ENABLE, SWO_DISABLE, SWO_DELETE };

static int
change(struct td_ctx *ctx, struct td_request *req, enum swo_change what)
{
	struct td_token *t = &ctx->scratch_token;
	struct td_principal who;
	int64_t space, id, now = td_now_ms();
	int rc;

	if (parse_prefixed(req->match.strs[0], "TKN", 2, &id) != 0)
		return problem(req, 404, NULL, "no such API token");
	if (prelude(ctx, req, &who, &space, TD_SCOPE_TOKENS_WRITE, 0) != 0 ||
	    load(ctx, req, space, id) != 0)
		return 0;
	switch (what) {
	case SWO_UPDATE:
		if (apply_body(req, t, 0) != 0)
			return 0;
		break;
	case SWO_ENABLE:
		if (t->status != TD_STATUS_DISABLED)
			return problem(req, 400, "status", "Only a Disabled token can be enabled.");
		t->status = TD_STATUS_ACTIVE;
		t->enabled_at_ms = now;
		memcpy(t->enabled_by, who.actor, sizeof(t->enabled_by));
		break;
	case SWO_DISABLE:
		if (t->status != TD_STATUS_ACTIVE)
			return problem(req, 400, "status", "Only an Active token can be disabled.");
		t->status = TD_STATUS_DISABLED;
		t->disabled_at_ms = now;
		memcpy(t->disabled_by, who.actor, sizeof(t->disabled_by));
		break;
	case SWO_DELETE:
		t->status = TD_STATUS_DELETED;	/* kept for audit; never seen or accepted again */
		break;
	}
	t->updated_at_ms = now;
	memcpy(t->updated_by, who.actor, sizeof(t->updated_by));
	rc = td_store_token_put(ctx->store, t);
	if (rc != TD_STORE_OK)
		return store_problem(req, rc, "no such API token");
	td_activity(ctx, space, who.actor, what == SWO_UPDATE ? "api_token.update"
					    : what == SWO_ENABLE ? "api_token.enable"
					    : what == SWO_DISABLE ? "api_token.disable" : "api_token.delete", id);
	if (what == SWO_DELETE)
		return td_respond_no_content(req);
	return respond_token(ctx, req, 200, t, NULL);
}

int
td_api_swo_update(struct td_ctx *ctx, struct td_request *req)
{
	return change(ctx, req, SWO_UPDATE);
}

int
td_api_swo_enable(struct td_ctx *ctx, struct td_request *req)
{
	return change(ctx, req, SWO_ENABLE);
}

int
td_api_swo_disable(struct td_ctx *ctx, struct td_request *req)
{
	return change(ctx, req, SWO_DISABLE);
}

int
td_api_swo_delete(struct td_ctx *ctx, struct td_request *req)
{
	return change(ctx, req, SWO_DELETE);
}

/* --- modules --- */

int
td_api_swo_modules(struct td_ctx *ctx, struct td_request *req)
{
	struct json_object *doc = json_object_new_object(), *meta = json_object_new_object();
	struct json_object *pag = json_object_new_object(), *data = json_object_new_array();
	struct td_principal who;
	int i;

	if (td_auth_identify(ctx, req, &who) != 0) {
		json_object_put(doc);
		json_object_put(meta);
		json_object_put(pag);
		json_object_put(data);
		return problem(req, 401, NULL, "Unauthorized");
	}
	for (i = 0; i < td_modules_count; i++)
		json_object_array_add(data, td_module_json(&td_modules[i]));
	json_object_object_add(pag, "offset", json_object_new_int(0));
	json_object_object_add(pag, "limit", json_object_new_int(SWO_LIMIT_DEFAULT));
	json_object_object_add(pag, "total", json_object_new_int(td_modules_count));
	json_object_object_add(meta, "pagination", pag);
	json_object_object_add(doc, "$meta", meta);
	json_object_object_add(doc, "data", data);
	return td_respond_json(req, 200, doc);
}

int
td_api_swo_module(struct td_ctx *ctx, struct td_request *req)
{
	const struct td_module *m;
	struct td_principal who;
	int64_t id;

	if (td_auth_identify(ctx, req, &who) != 0)
		return problem(req, 401, NULL, "Unauthorized");
	if (parse_prefixed(req->match.strs[0], "MOD", 1, &id) != 0 || (m = td_module_find(id)) == NULL)
		return problem(req, 404, NULL, "no such module");
	return td_respond_json(req, 200, td_module_json(m));
}
