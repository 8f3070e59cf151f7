/*
 * The SoftwareOne Marketplace view of tokens:
 *   GET|POST /public/v1/accounts/api-tokens
 *   GET|PUT|DELETE /public/v1/accounts/api-tokens/{TKN-id}
 *   POST /public/v1/accounts/api-tokens/{TKN-id}/enable|disable
 *   GET /public/v1/accounts/modules[/{MOD-id}]
 * Ids render as TKN-NNNN-NNNN / ACC-NNNN-NNNN / MOD-NNNN over tokend's
 * numbers (an account is a space). Lists take RQL, select, order, limit and
 * offset and answer {"$meta":{"pagination":{offset,limit,total},"omitted"},
 * "data"}. Errors are RFC 9457 problem details (errors.c). Each handler
 * parses, calls one core function and renders.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/api/catalogue.h"
#include "tokend/api/fields.h"
#include "tokend/api/handlers.h"
#include "tokend/api/rql.h"
#include "tokend/core/module.h"
#include "tokend/server/parse.h"

#define RESOURCE "api_token"
#define SWO_LIMIT_DEFAULT 100
#define SWO_LIMIT_MAX     100
#define SWO_ORDER_MAX     8
#define SWO_CIDRS         "allowedCidrs"	/* camelCase, as lastAccessAt */

static int
problem(struct td_request *req, int status, const char *field, const char *message)
{
	td_respond_error(req, status, status == 404 ? "not_found" : "bad_request", field, message);
	return 0;
}

/* A core error, under this view's name for the field when it has its own. */
static int
fail(struct td_request *req, struct td_call *c)
{
	if (c->err.field != NULL && strcmp(c->err.field, "allowed_cidrs") == 0)
		c->err.field = SWO_CIDRS;
	return td_api_fail(req, c);
}

/* "TKN-1234-5678" → 12345678; anything else is -1 (a 404 for a path id). */
int
td_swo_parse_id(const char *s, const char *prefix, int groups, int64_t *out)
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
api_token_json(const struct td_token_view *v)
{
	const struct td_token *t = v->t;
	const struct td_space *sp = v->space;
	struct json_object *o = json_object_new_object(), *acc = json_object_new_object();
	struct json_object *mods = json_object_new_array(), *audit = json_object_new_object();
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
	/* "" when this caller may not see it: SoftwareOne never emits null */
	json_object_object_add(o, "token", json_object_new_string(v->value ? v->value : ""));
	/* when it was last accepted; absent while never (no nulls here) */
	if (t->last_used_ms > 0)
		json_object_object_add(o, "lastAccessAt", td_json_time_ms(t->last_used_ms));
	/* where it may be used from: [] anywhere (no nulls here) */
	json_object_object_add(o, "allowedCidrs", td_json_cidrs(&t->allowed_cidrs));
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

/* The core call, the account being the caller's own, else the one the
 * body names (create: account, TD_NAMED_MALFORMED when unreadable), else
 * X-Space-Id; the core judges the names. */
static int
begin(struct td_ctx *ctx, struct td_request *req, struct td_call *c, enum td_op op,
      int64_t account)
{
	struct td_space_names names = { 0, account, NULL, NULL };

	if (op == TD_OP_TOKEN_CREATE) {	/* only a create's body names one */
		names.body_field = "account";
		names.body_form = "account.id must look like ACC-1234-5678";
	}
	return td_api_begin_named(ctx, req, c, RESOURCE, op, &names);
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
	"audit", "lastAccessAt", "allowedCidrs",
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

	struct json_object *va, *vb;
	int64_t ia = 0, ib = 0;

	for (i = 0; i < sort_order->n; i++) {
		c = compare_values(td_json_path(a, sort_order->path[i]),
				   td_json_path(b, sort_order->path[i]));
		if (c != 0)
			return sort_order->desc[i] ? -c : c;
	}
	/* ties by the token id: one order whatever the sort's stability, so
	 * pages never repeat nor skip a token (and the cut of the best
	 * offset + limit keeps the same ones a whole sort would) */
	if (json_object_object_get_ex(a, "id", &va))
		(void)td_swo_parse_id(json_object_get_string(va), "TKN", 2, &ia);
	if (json_object_object_get_ex(b, "id", &vb))
		(void)td_swo_parse_id(json_object_get_string(vb), "TKN", 2, &ib);
	return ia < ib ? -1 : ia > ib;
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

/* A page of the matches in bounded memory: without an order, only the
 * matches that fall on the page are kept; with one, the best offset + limit
 * so far (sorted and cut whenever twice that many pile up). Every match is
 * counted for $meta.pagination.total. */
struct list_ctx {
	struct td_rql *rql;
	struct json_object *all;	/* the matches kept, full objects */
	size_t matched;			/* every match */
	size_t offset, keep;		/* keep = offset + limit */
	int ordered;
};

/* The kept matches sorted, and cut to the best c->keep. */
static void
keep_best(struct list_ctx *c)
{
	size_t n = json_object_array_length(c->all);

	json_object_array_sort(c->all, compare_tokens);
	if (n > c->keep)
		json_object_array_del_idx(c->all, c->keep, n - c->keep);
}

static int
collect(const struct td_token_view *v, void *arg)
{
	struct list_ctx *c = arg;
	struct json_object *o = api_token_json(v);
	size_t at;

	/* a filtered list pays for rendering what it filters, too: the
	 * budget bounds the whole walk, not only the comparisons */
	if (c->rql->ntop > 0)
		td_rql_charge(c->rql, strlen(v->t->name) + strlen(v->t->description) + 256);
	if (!td_rql_match(c->rql, o)) {
		json_object_put(o);
		return td_rql_too_costly(c->rql);	/* stop: the answer is a 400 */
	}
	at = c->matched++;
	if (c->ordered) {
		json_object_array_add(c->all, o);
		if (json_object_array_length(c->all) >= 2 * c->keep + 64)
			keep_best(c);
	} else if (at >= c->offset && at < c->keep) {
		json_object_array_add(c->all, o);
	} else {
		json_object_put(o);
	}
	return td_rql_too_costly(c->rql);
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
	struct list_ctx l = { &rql, NULL, 0, 0, 0, 0 };
	struct projection proj;
	struct td_call c;
	struct order order;
	const char *bad, *select = NULL;
	char seg[TD_QUERY_MAX + 2];
	long long limit = SWO_LIMIT_DEFAULT, offset = 0;
	size_t total, i;
	int k;

	if (begin(ctx, req, &c, TD_OP_TOKEN_LIST, 0) != 0)
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
	l.all = json_object_new_array();
	l.offset = (size_t)offset;
	l.keep = (size_t)offset + (size_t)limit;
	l.ordered = order.n > 0;
	sort_order = &order;
	if (td_core_token_list(&c, collect, &l) != TD_OK || td_rql_too_costly(&rql)) {
		json_object_put(l.all);
		if (td_rql_too_costly(&rql))
			return problem(req, 400, "rql", "query too expensive: simplify the filter "
				       "(fewer or shorter like() patterns)");
		return td_api_fail(req, &c);
	}
	total = l.matched;
	if (l.ordered)
		keep_best(&l);	/* the best offset + limit, in order */
	data = json_object_new_array();
	for (i = l.ordered ? (size_t)offset : 0; i < json_object_array_length(l.all); i++) {
		struct json_object *o = json_object_get(json_object_array_get_idx(l.all, i));

		projection_apply(&proj, o, 0);
		json_object_array_add(data, o);
	}
	json_object_put(l.all);
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
respond_token(struct td_request *req, int status, const struct td_token_view *v,
	      const struct projection *p)
{
	struct json_object *o = api_token_json(v);

	if (p != NULL)
		projection_apply(p, o, 1);
	return td_respond_json(req, status, o);
}

/* The TKN id in the path; a malformed one names no token (0: 404). */
static int64_t
path_id(const struct td_request *req)
{
	int64_t id;

	return td_swo_parse_id(req->match.strs[0], "TKN", 2, &id) == 0 && id > 0 ? id : 0;
}

int
td_api_swo_get(struct td_ctx *ctx, struct td_request *req)
{
	struct projection proj;
	struct td_token_view v;
	struct td_call c;

	if (begin(ctx, req, &c, TD_OP_TOKEN_GET, 0) != 0)
		return 0;
	projection_default(&proj, 1);
	if (td_core_token_get(&c, path_id(req), &v) != TD_OK)
		return td_api_fail(req, &c);
	if (projection_parse(req, &proj, td_target_query(&req->target, "select")) != 0)
		return 0;
	return respond_token(req, 200, &v, &proj);
}

/* name, description, icon, modules and the account of a create or update
 * body into a change; types only, the core judges the values. */
int
td_swo_parse(struct json_object *body, int creating, struct td_token_change *ch,
	     int64_t *account, struct td_core_error *err)
{
	static const struct {
		const char *name;
		unsigned bit;
		size_t offset;
	} texts[] = {
		{ "name", TD_TF_NAME, offsetof(struct td_token_change, name) },
		{ "description", TD_TF_DESCRIPTION, offsetof(struct td_token_change, description) },
		{ "icon", TD_TF_ICON, offsetof(struct td_token_change, icon) },
	};
	struct json_object *v, *item, *mid, *acc;
	size_t i, n;

	td_token_change_init(ch, TD_SHAPE_API_TOKEN);
	*account = 0;
	if (body == NULL || !json_object_is_type(body, json_type_object))
		return td_field_fail(err, "body", "a JSON object is required");
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (!json_object_object_get_ex(body, texts[i].name, &v))
			continue;
		if (td_field_text(v, texts[i].name,
				  (struct td_text *)((char *)ch + texts[i].offset), err) != 0)
			return -1;
		/* description and icon are nullable here: null empties them */
		ch->set |= texts[i].bit;
	}
	if (json_object_object_get_ex(body, "modules", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_array))
			return td_field_fail(err, "modules", "must be a list of at most 32 modules");
		n = json_object_array_length(v);
		ch->nmodules = n;
		for (i = 0; i < n && i < TD_TOKEN_MODULES_MAX; i++) {
			item = json_object_array_get_idx(v, i);
			ch->module_ids[i] = -1;	/* names no module: the core says so */
			if (json_object_is_type(item, json_type_object) &&
			    json_object_object_get_ex(item, "id", &mid) &&
			    json_object_is_type(mid, json_type_string))
				(void)td_swo_parse_id(json_object_get_string(mid), "MOD", 1,
						      &ch->module_ids[i]);
		}
		ch->set |= TD_TF_MODULES;
	}
	if (json_object_object_get_ex(body, "allowedCidrs", &v)) {
		if (td_field_cidrs(v, SWO_CIDRS, &ch->allowed_cidrs, err) != 0)
			return -1;
		ch->set |= TD_TF_ALLOWED_CIDRS;
	}
	/* the account is set on create, then immutable; one the body names
	 * but that is no account id is TD_NAMED_MALFORMED, for the core to refuse */
	if (creating && json_object_object_get_ex(body, "account", &acc) &&
	    !json_object_is_type(acc, json_type_null) &&
	    (!json_object_is_type(acc, json_type_object) ||
	     (json_object_object_get_ex(acc, "id", &v) &&
	      (!json_object_is_type(v, json_type_string) ||
	       td_swo_parse_id(json_object_get_string(v), "ACC", 2, account) != 0 ||
	       *account <= 0)))) {
		*account = TD_NAMED_MALFORMED;
		return td_field_fail(err, "account", "account.id must look like ACC-1234-5678");
	}
	return 0;
}

int
td_api_swo_create(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_change *ch = &ctx->change;
	struct td_core_error perr = { TD_OK, NULL, NULL };
	struct td_token_view v;
	struct td_call c;
	int64_t account = 0;
	int parsed;

	/* parsed first: the body may name the account the call is about */
	parsed = td_swo_parse(req->json, 1, ch, &account, &perr);
	if (begin(ctx, req, &c, TD_OP_TOKEN_CREATE, account) != 0)
		return 0;
	if (parsed != 0)
		return td_api_fail_parse(req, &perr);
	if (td_core_token_create(&c, ch, &v) != TD_OK)
		return fail(req, &c);
	return respond_token(req, 201, &v, NULL);
}

int
td_api_swo_update(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_view v;
	struct td_call c;
	int64_t account;

	if (begin(ctx, req, &c, TD_OP_TOKEN_UPDATE, 0) != 0)
		return 0;
	if (td_swo_parse(req->json, 0, &ctx->change, &account, &c.err) != 0 ||
	    td_core_token_update(&c, path_id(req), &ctx->change, &v) != TD_OK)
		return fail(req, &c);
	return respond_token(req, 200, &v, NULL);
}

static int
set_status(struct td_ctx *ctx, struct td_request *req, enum td_status to)
{
	struct td_token_view v;
	struct td_call c;

	if (begin(ctx, req, &c, TD_OP_TOKEN_STATUS, 0) != 0)
		return 0;
	if (td_core_token_set_status(&c, path_id(req), to, &v) != TD_OK)
		return td_api_fail(req, &c);
	return respond_token(req, 200, &v, NULL);
}

int
td_api_swo_enable(struct td_ctx *ctx, struct td_request *req)
{
	return set_status(ctx, req, TD_STATUS_ACTIVE);
}

int
td_api_swo_disable(struct td_ctx *ctx, struct td_request *req)
{
	return set_status(ctx, req, TD_STATUS_DISABLED);
}

/* Soft: the record stays, Deleted, for audit; no view shows it again. */
int
td_api_swo_delete(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_view v;
	struct td_call c;

	if (begin(ctx, req, &c, TD_OP_TOKEN_DELETE, 0) != 0)
		return 0;
	if (td_core_token_delete(&c, path_id(req), 1, &v) != TD_OK)
		return td_api_fail(req, &c);
	return td_respond_no_content(req);
}

/* --- modules --- */

int
td_api_swo_modules(struct td_ctx *ctx, struct td_request *req)
{
	struct json_object *doc, *meta, *pag, *data;
	struct td_call c;
	int i;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_MODULE_LIST, TD_SPACE_NONE, 0) != 0)
		return 0;
	doc = json_object_new_object();
	meta = json_object_new_object();
	pag = json_object_new_object();
	data = json_object_new_array();
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
	struct td_call c;
	int64_t id;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_MODULE_LIST, TD_SPACE_NONE, 0) != 0)
		return 0;
	if (td_swo_parse_id(req->match.strs[0], "MOD", 1, &id) != 0 || (m = td_module_find(id)) == NULL)
		return problem(req, 404, NULL, "no such module");
	return td_respond_json(req, 200, td_module_json(m));
}
