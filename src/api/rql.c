/*
 * A recursive-descent parser over one query segment, writing nodes, values
 * and unquoted text into the fixed arrays of struct td_rql; every limit is
 * checked before it is reached, and an error names the expression at fault.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/api/rql.h"

struct parser {
	struct td_rql *q;
	const char *p, *end;
	int depth;
};

static const struct {
	const char *name;
	enum td_rql_op op;
} operators[] = {
	{ "and", TD_RQL_AND }, { "or", TD_RQL_OR }, { "not", TD_RQL_NOT },
	{ "eq", TD_RQL_EQ }, { "ne", TD_RQL_NE }, { "gt", TD_RQL_GT }, { "ge", TD_RQL_GE },
	{ "lt", TD_RQL_LT }, { "le", TD_RQL_LE }, { "like", TD_RQL_LIKE },
	{ "ilike", TD_RQL_ILIKE }, { "in", TD_RQL_IN }, { "out", TD_RQL_OUT },
	{ "any", TD_RQL_ANY }, { "all", TD_RQL_ALL }, { "render", TD_RQL_TRUE },
};

void
td_rql_init(struct td_rql *q)
{
	q->nnodes = q->nvalues = q->ntop = 0;
	q->used = 0;
	q->work = 0;
	q->error[0] = '\0';
}

static int
fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	char *c;

	if (ps->q->error[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(ps->q->error, sizeof(ps->q->error), fmt, ap);
		va_end(ap);
		/* the message quotes the query, cut at a byte count: only
		 * printable ASCII goes back out in a charset=utf-8 body */
		for (c = ps->q->error; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
	}
	return -1;
}

static const char *
copy_text(struct parser *ps, const char *s, size_t len)
{
	struct td_rql *q = ps->q;
	char *out;

	if (q->used + len + 1 > sizeof(q->text)) {
		fail(ps, "Expression too long");
		return NULL;
	}
	out = q->text + q->used;
	memcpy(out, s, len);
	out[len] = '\0';
	q->used += len + 1;
	return out;
}

static int
new_node(struct parser *ps, enum td_rql_op op)
{
	struct td_rql *q = ps->q;

	if (q->nnodes == TD_RQL_NODES_MAX)
		return fail(ps, "Expression too large (more than %d terms)", TD_RQL_NODES_MAX);
	memset(&q->nodes[q->nnodes], 0, sizeof(q->nodes[0]));
	q->nodes[q->nnodes].op = op;
	return q->nnodes++;
}

static int
ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '$';
}

/* [A-Za-z0-9_.$]+ */
static size_t
ident(struct parser *ps)
{
	const char *start = ps->p;

	while (ps->p < ps->end && ident_char(*ps->p))
		ps->p++;
	return (size_t)(ps->p - start);
}

static int
expect(struct parser *ps, char c, const char *where)
{
	if (ps->p < ps->end && *ps->p == c) {
		ps->p++;
		return 0;
	}
	return fail(ps, "Expected '%c' in %s", c, where);
}

/* A value: 'quoted', "quoted", null(), empty(), or bare up to a stop char.
 * Adds it to q->values and returns its index. */
static int
value(struct parser *ps, const char *stops)
{
	struct td_rql *q = ps->q;
	struct td_rql_value *v;
	const char *start;
	char quote;

	if (q->nvalues == TD_RQL_VALUES_MAX)
		return fail(ps, "Too many values (more than %d)", TD_RQL_VALUES_MAX);
	v = &q->values[q->nvalues];
	v->kind = TD_RQL_STRING;
	if (ps->p < ps->end && (*ps->p == '\'' || *ps->p == '"')) {
		quote = *ps->p++;
		start = ps->p;
		while (ps->p < ps->end && *ps->p != quote)
			ps->p++;
		if (ps->p == ps->end)
			return fail(ps, "Unterminated quoted value");
		v->s = copy_text(ps, start, (size_t)(ps->p - start));
		ps->p++;
	} else if ((size_t)(ps->end - ps->p) >= 6 && memcmp(ps->p, "null()", 6) == 0) {
		v->kind = TD_RQL_NULL;
		v->s = "";
		ps->p += 6;
	} else if ((size_t)(ps->end - ps->p) >= 7 && memcmp(ps->p, "empty()", 7) == 0) {
		v->kind = TD_RQL_EMPTY;
		v->s = "";
		ps->p += 7;
	} else {
		start = ps->p;
		while (ps->p < ps->end && strchr(stops, *ps->p) == NULL && *ps->p != '(')
			ps->p++;
		if (ps->p < ps->end && *ps->p == '(')
			return fail(ps, "Unknown expression group '%.*s'",
				    (int)(ps->p - start > 40 ? 40 : ps->p - start), start);
		v->s = copy_text(ps, start, (size_t)(ps->p - start));
	}
	if (v->s == NULL)
		return -1;
	return q->nvalues++;
}

static int term(struct parser *ps);

static int
add_child(struct parser *ps, int parent, int child)
{
	struct td_rql_node *n = &ps->q->nodes[parent];

	if (child < 0)
		return -1;
	if (n->nchild == (int)(sizeof(n->child) / sizeof(n->child[0])))
		return fail(ps, "Too many operands in one and/or (more than %d)",
			    (int)(sizeof(n->child) / sizeof(n->child[0])));
	n->child[n->nchild++] = child;
	return 0;
}

/* op(path, value) / op(path, (v, …)) / op(path, v, …) */
static int
call_args(struct parser *ps, int node, const char *name)
{
	struct td_rql_node *n = &ps->q->nodes[node];
	enum td_rql_op op = n->op;
	size_t len;
	const char *start = ps->p;
	int v, parens;

	len = ident(ps);
	if (len == 0)
		return fail(ps, "Expected a property name in %s()", name);
	if ((n->path = copy_text(ps, start, len)) == NULL || expect(ps, ',', name) != 0)
		return -1;
	if (op == TD_RQL_ANY || op == TD_RQL_ALL)
		return add_child(ps, node, term(ps)) != 0 ? -1 : expect(ps, ')', name);
	parens = (op == TD_RQL_IN || op == TD_RQL_OUT) && ps->p < ps->end && *ps->p == '(';
	if (parens)
		ps->p++;
	for (;;) {
		if ((v = value(ps, ",)")) < 0)
			return -1;
		if (n->nvalue++ == 0)
			n->value = v;
		if (ps->p < ps->end && *ps->p == ',' && (op == TD_RQL_IN || op == TD_RQL_OUT)) {
			ps->p++;
			continue;
		}
		break;
	}
	if (parens && expect(ps, ')', name) != 0)
		return -1;
	return expect(ps, ')', name);
}

static int
call(struct parser *ps, const char *name, size_t len)
{
	char opname[16];
	size_t i;
	int node, depth_ok;

	for (i = 0; i < sizeof(operators) / sizeof(operators[0]); i++)
		if (strlen(operators[i].name) == len && memcmp(operators[i].name, name, len) == 0)
			break;
	if (i == sizeof(operators) / sizeof(operators[0]))
		return fail(ps, "Unknown expression group '%.*s'", (int)(len > 40 ? 40 : len), name);
	snprintf(opname, sizeof(opname), "%s()", operators[i].name);
	if ((node = new_node(ps, operators[i].op)) < 0)
		return -1;
	depth_ok = ++ps->depth <= TD_RQL_DEPTH_MAX;
	if (!depth_ok)
		return fail(ps, "Expression nested deeper than %d", TD_RQL_DEPTH_MAX);
	switch (operators[i].op) {
	case TD_RQL_TRUE:
		while (ps->p < ps->end && *ps->p != ')')	/* render(...) options: ignored */
			ps->p++;
		if (expect(ps, ')', opname) != 0)
			return -1;
		break;
	case TD_RQL_AND:
	case TD_RQL_OR:
	case TD_RQL_NOT:
		do {
			if (add_child(ps, node, term(ps)) != 0)
				return -1;
		} while (ps->p < ps->end && *ps->p == ',' && ps->p++);
		if (expect(ps, ')', opname) != 0)
			return -1;
		if (operators[i].op == TD_RQL_NOT && ps->q->nodes[node].nchild != 1)
			return fail(ps, "not() takes one expression");
		break;
	default:
		if (call_args(ps, node, opname) != 0)
			return -1;
	}
	ps->depth--;
	return node;
}

/* op(...) or the shortcut path=value */
static int
term(struct parser *ps)
{
	const char *start = ps->p;
	size_t len = ident(ps);
	int node, v;

	if (len == 0)
		return fail(ps, "Expected an expression at '%.*s'",
			    (int)(ps->end - ps->p > 40 ? 40 : ps->end - ps->p), ps->p);
	if (ps->p < ps->end && *ps->p == '(') {
		ps->p++;
		return call(ps, start, len);
	}
	if (ps->p < ps->end && *ps->p == '=') {
		ps->p++;
		if ((node = new_node(ps, TD_RQL_EQ)) < 0)
			return -1;
		if ((ps->q->nodes[node].path = copy_text(ps, start, len)) == NULL)
			return -1;
		if ((v = value(ps, ",;|)")) < 0)
			return -1;
		ps->q->nodes[node].value = v;
		ps->q->nodes[node].nvalue = 1;
		return node;
	}
	return fail(ps, "Invalid equals shortcut expression '%.*s'",
		    (int)(ps->end - start > 40 ? 40 : ps->end - start), start);
}

/* Operands joined by sep into one op node (or the lone operand). */
static int
joined(struct parser *ps, enum td_rql_op op, const char *seps, int (*operand)(struct parser *))
{
	int t = operand(ps), node = -1;

	if (t < 0)
		return -1;
	while (ps->p < ps->end && strchr(seps, *ps->p) != NULL) {
		ps->p++;
		if (node < 0) {
			if ((node = new_node(ps, op)) < 0 || add_child(ps, node, t) != 0)
				return -1;
		}
		if (add_child(ps, node, operand(ps)) != 0)
			return -1;
	}
	return node >= 0 ? node : t;
}

/* "," binds tighter than "|" and ";" */
static int
and_list(struct parser *ps)
{
	return joined(ps, TD_RQL_AND, ",", term);
}

static int
segment(struct parser *ps)
{
	return joined(ps, TD_RQL_OR, "|;", and_list);
}

int
td_rql_add(struct td_rql *q, const char *seg, size_t len)
{
	struct parser ps = { q, seg, seg + len, 0 };
	int node;

	q->error[0] = '\0';
	if (q->ntop == TD_RQL_SEGMENTS_MAX)
		return fail(&ps, "Too many filter expressions (more than %d)", TD_RQL_SEGMENTS_MAX);
	if (len == 0)
		return fail(&ps, "Empty expression");
	if ((node = segment(&ps)) < 0)
		return -1;
	if (ps.p != ps.end)
		return fail(&ps, "Unexpected '%.*s'", (int)(ps.end - ps.p > 40 ? 40 : ps.end - ps.p),
			    ps.p);
	q->top[q->ntop++] = node;
	return 0;
}

static const char *
check_node(const struct td_rql *q, int i, const char *coll,
	   int (*ok)(const char *, const char *, void *), void *arg)
{
	const struct td_rql_node *n = &q->nodes[i];
	const char *bad;
	int c;

	if (n->path != NULL && !ok(n->path, coll, arg))
		return n->path;
	for (c = 0; c < n->nchild; c++) {
		bad = check_node(q, n->child[c],
				 n->op == TD_RQL_ANY || n->op == TD_RQL_ALL ? n->path : coll, ok, arg);
		if (bad != NULL)
			return bad;
	}
	return NULL;
}

const char *
td_rql_check_paths(const struct td_rql *q, int (*ok)(const char *, const char *, void *),
		   void *arg)
{
	const char *bad;
	int i;

	for (i = 0; i < q->ntop; i++)
		if ((bad = check_node(q, q->top[i], NULL, ok, arg)) != NULL)
			return bad;
	return NULL;
}

/* --- matching --- */

struct json_object *
td_json_path(struct json_object *obj, const char *path)
{
	char part[128];
	const char *dot;
	size_t len;

	while (obj != NULL && *path != '\0') {
		dot = strchr(path, '.');
		len = dot ? (size_t)(dot - path) : strlen(path);
		if (len == 0 || len >= sizeof(part) || !json_object_is_type(obj, json_type_object))
			return NULL;
		memcpy(part, path, len);
		part[len] = '\0';
		if (!json_object_object_get_ex(obj, part, &obj))
			return NULL;
		path += len + (dot ? 1 : 0);
	}
	return obj;
}

/* Compares a JSON scalar with a value's text; -2 when they cannot compare. */
static int
scalar_cmp(struct json_object *v, const char *s)
{
	double a, b;
	char *end;

	switch (json_object_get_type(v)) {
	case json_type_string:
		return strcmp(json_object_get_string(v), s) < 0 ? -1
		     : strcmp(json_object_get_string(v), s) > 0 ? 1 : 0;
	case json_type_int:
	case json_type_double:
		b = strtod(s, &end);
		if (*s == '\0' || *end != '\0')
			return -2;
		a = json_object_get_double(v);
		return a < b ? -1 : a > b ? 1 : 0;
	case json_type_boolean:
		return strcmp(json_object_get_boolean(v) ? "true" : "false", s) == 0 ? 0 : -2;
	default:
		return -2;
	}
}

static int
is_empty(struct json_object *v)
{
	return v == NULL || json_object_is_type(v, json_type_null) ||
	       (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0) ||
	       (json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0);
}

static int
equals(struct json_object *v, const struct td_rql_value *val)
{
	if (val->kind == TD_RQL_NULL)
		return v == NULL || json_object_is_type(v, json_type_null);
	if (val->kind == TD_RQL_EMPTY)
		return is_empty(v);
	return v != NULL && scalar_cmp(v, val->s) == 0;
}

/*
 * like()/ilike(): '*' matches any run, "\*" a literal star; ci folds ASCII
 * case. Linear in the text and the pattern, whatever they hold: the
 * pattern is cut at its stars into literal pieces, the first anchored at
 * the start (unless the pattern starts with '*'), the last at the end
 * (unless it ends with '*'), and each piece between found at its leftmost
 * place after the one before with Knuth-Morris-Pratt. Leftmost is enough:
 * a later place could only leave less text for the pieces after it.
 */
static int
fold(int c, int ci)
{
	return ci ? tolower((unsigned char)c) : (unsigned char)c;
}

static int
piece_at(const char *s, const char *piece, size_t plen, int ci)
{
	size_t k;

	for (k = 0; k < plen; k++)
		if (fold(s[k], ci) != fold(piece[k], ci))
			return 0;
	return 1;
}

/* The leftmost place of piece in s[0..n), or -1. */
static long
find_piece(const char *s, size_t n, const char *piece, size_t plen, int ci)
{
	static unsigned short next[TD_RQL_TEXT_MAX + 1];	/* KMP failure links */
	size_t i, k;

	if (plen == 0)
		return 0;
	next[0] = 0;
	for (i = 1, k = 0; i < plen; i++) {
		while (k > 0 && fold(piece[i], ci) != fold(piece[k], ci))
			k = next[k - 1];
		if (fold(piece[i], ci) == fold(piece[k], ci))
			k++;
		next[i] = (unsigned short)k;
	}
	for (i = 0, k = 0; i < n; i++) {
		while (k > 0 && fold(s[i], ci) != fold(piece[k], ci))
			k = next[k - 1];
		if (fold(s[i], ci) == fold(piece[k], ci))
			k++;
		if (k == plen)
			return (long)(i + 1 - plen);
	}
	return -1;
}

static int
like(const char *s, const char *pat, int ci)
{
	static char piece[TD_RQL_TEXT_MAX + 1];
	size_t n = strlen(s), pos = 0, plen;
	int star_before = 0, star_after;
	long at;

	for (;;) {
		for (plen = 0; *pat != '\0' && *pat != '*'; pat++) {
			if (*pat == '\\' && pat[1] == '*')
				pat++;
			piece[plen++] = *pat;
		}
		star_after = *pat == '*';
		if (!star_before && !star_after) {		/* no star at all */
			return n == plen && piece_at(s, piece, plen, ci);
		} else if (!star_before) {			/* the prefix */
			if (n < plen || !piece_at(s, piece, plen, ci))
				return 0;
			pos = plen;
		} else if (!star_after) {			/* the suffix */
			return n - pos >= plen && piece_at(s + n - plen, piece, plen, ci);
		} else {					/* a piece between */
			if ((at = find_piece(s + pos, n - pos, piece, plen, ci)) < 0)
				return 0;
			pos += (size_t)at + plen;
		}
		while (*pat == '*')
			pat++;
		star_before = 1;
		if (*pat == '\0')
			return 1;				/* ends with '*' */
	}
}

/* Work units a filter may spend on one request: one per node visited, one
 * per byte a comparison or like() reads: about 1 MB of text per request.
 * A name ilike over 10,000 tokens is ~400,000; the worst admissible filter
 * (16 ilike over 2,000-character descriptions) is cut off after ~1 ms of
 * matching, so a worker is back to the verify path quickly (make bench,
 * "Verify while ... the worst admissible filter"). A search of long
 * descriptions in a large space must narrow itself first (and(), a name). */
static void
spend(struct td_rql *q, size_t units)
{
	q->work += (long long)units;
}

static int
match_node(struct td_rql *q, int i, struct json_object *obj)
{
	const struct td_rql_node *n = &q->nodes[i];
	const struct td_rql_value *val = &q->values[n->value];
	struct json_object *v = NULL;
	size_t k, len;
	int c, r;

	spend(q, 1 + (val->s != NULL ? strlen(val->s) : 0));
	if (q->work > TD_RQL_WORK_MAX)
		return 0;
	if (n->path != NULL && n->op != TD_RQL_ANY && n->op != TD_RQL_ALL)
		v = td_json_path(obj, n->path);
	switch (n->op) {
	case TD_RQL_AND:
		for (c = 0; c < n->nchild; c++)
			if (!match_node(q, n->child[c], obj))
				return 0;
		return 1;
	case TD_RQL_OR:
		for (c = 0; c < n->nchild; c++)
			if (match_node(q, n->child[c], obj))
				return 1;
		return 0;
	case TD_RQL_NOT:
		return !match_node(q, n->child[0], obj);
	case TD_RQL_TRUE:
		return 1;
	case TD_RQL_EQ:
		return equals(v, val);
	case TD_RQL_NE:
		return !equals(v, val);
	case TD_RQL_GT:
	case TD_RQL_GE:
	case TD_RQL_LT:
	case TD_RQL_LE:
		if (v == NULL || val->kind != TD_RQL_STRING || (r = scalar_cmp(v, val->s)) == -2)
			return 0;
		return n->op == TD_RQL_GT ? r > 0 : n->op == TD_RQL_GE ? r >= 0
		     : n->op == TD_RQL_LT ? r < 0 : r <= 0;
	case TD_RQL_LIKE:
	case TD_RQL_ILIKE:
		if (v == NULL || !json_object_is_type(v, json_type_string) ||
		    val->kind != TD_RQL_STRING)
			return 0;
		spend(q, (size_t)json_object_get_string_len(v) + strlen(val->s));
		return like(json_object_get_string(v), val->s, n->op == TD_RQL_ILIKE);
	case TD_RQL_IN:
	case TD_RQL_OUT:
		for (c = 0; c < n->nvalue; c++)
			if (equals(v, &q->values[n->value + c]))
				return n->op == TD_RQL_IN;
		return n->op == TD_RQL_OUT;
	case TD_RQL_ANY:
	case TD_RQL_ALL:
		v = td_json_path(obj, n->path);
		if (v == NULL || !json_object_is_type(v, json_type_array))
			return n->op == TD_RQL_ALL;
		len = json_object_array_length(v);
		for (k = 0; k < len; k++) {
			r = match_node(q, n->child[0], json_object_array_get_idx(v, k));
			if (r && n->op == TD_RQL_ANY)
				return 1;
			if (!r && n->op == TD_RQL_ALL)
				return 0;
		}
		return n->op == TD_RQL_ALL;
	case TD_RQL__MAX:
		break;
	}
	return 0;
}

int
td_rql_match(struct td_rql *q, struct json_object *obj)
{
	int i;

	for (i = 0; i < q->ntop; i++)
		if (!match_node(q, q->top[i], obj))
			return 0;
	return q->work <= TD_RQL_WORK_MAX;
}

int
td_rql_too_costly(const struct td_rql *q)
{
	return q->work > TD_RQL_WORK_MAX;
}

void
td_rql_charge(struct td_rql *q, size_t units)
{
	spend(q, units);
}
