/*
 * Resource Query Language, as SoftwareOne's API takes it in bare query
 * segments: eq ne gt ge lt le like ilike in out and or not any all, the
 * shortcut prop=value, quoted ('…' "…") and bare values, null() and
 * empty(), dotted paths. Inside a segment "," means and, ";" and "|" or;
 * segments are and-ed. Parsing is bounded (nodes, depth, text) and works in
 * fixed buffers; matching runs against the JSON a view renders, so any field
 * the view shows can be filtered the same way it reads.
 */
#ifndef TOKEND_RQL_H
#define TOKEND_RQL_H

#include <stddef.h>

#include <json-c/json.h>

#define TD_RQL_NODES_MAX  128
#define TD_RQL_VALUES_MAX 128
#define TD_RQL_DEPTH_MAX  16
#define TD_RQL_TEXT_MAX   4096	/* bytes of all segments together */
#define TD_RQL_SEGMENTS_MAX 32
#define TD_RQL_WORK_MAX   1000000LL	/* work units one request's filter may spend */

enum td_rql_op {
	TD_RQL_AND, TD_RQL_OR, TD_RQL_NOT,
	TD_RQL_EQ, TD_RQL_NE, TD_RQL_GT, TD_RQL_GE, TD_RQL_LT, TD_RQL_LE,
	TD_RQL_LIKE, TD_RQL_ILIKE, TD_RQL_IN, TD_RQL_OUT,
	TD_RQL_ANY, TD_RQL_ALL,
	TD_RQL_TRUE,		/* render() and the like: no condition */
	TD_RQL__MAX
};

enum td_rql_value_kind {
	TD_RQL_STRING,
	TD_RQL_NULL,		/* null() */
	TD_RQL_EMPTY,		/* empty() */
};

struct td_rql_value {
	enum td_rql_value_kind kind;
	const char *s;		/* NUL-terminated, quotes removed */
};

struct td_rql_node {
	enum td_rql_op op;
	const char *path;	/* comparisons, in/out, any/all (the collection) */
	int child[16];		/* and/or: up to 16 operands; not/any/all: one */
	int nchild;
	int value;		/* index of the first value */
	int nvalue;
};

struct td_rql {
	struct td_rql_node nodes[TD_RQL_NODES_MAX];
	int nnodes;
	struct td_rql_value values[TD_RQL_VALUES_MAX];
	int nvalues;
	int top[TD_RQL_SEGMENTS_MAX];	/* one node per segment, and-ed */
	int ntop;
	char text[TD_RQL_TEXT_MAX + TD_RQL_NODES_MAX + TD_RQL_VALUES_MAX];
	size_t used;
	char error[160];	/* why the last td_rql_add failed, naming the expression */
	long long work;		/* units spent matching (see td_rql_too_costly) */
};

void td_rql_init(struct td_rql *q);

/* Parses one segment ("and(eq(id,'TKN-1'),eq(name,X))", "name=X") and
 * and-s it to q. -1 with q->error on any syntax error or limit. */
int td_rql_add(struct td_rql *q, const char *segment, size_t len);

/* Calls ok(path, in_collection, arg) for every path; in_collection is the
 * any()/all() collection path a path is relative to, or NULL. Returns the
 * first path refused (for the error message), or NULL. */
const char *td_rql_check_paths(const struct td_rql *q,
			       int (*ok)(const char *path, const char *in_collection, void *arg),
			       void *arg);

/* Whether obj satisfies every segment. Matching counts its work in q; past
 * TD_RQL_WORK_MAX nothing matches any more and td_rql_too_costly says so:
 * the caller stops and answers 400. */
int td_rql_match(struct td_rql *q, struct json_object *obj);
int td_rql_too_costly(const struct td_rql *q);
/* Adds work done for q outside matching (rendering what it filters). */
void td_rql_charge(struct td_rql *q, size_t units);

/* The value at a dotted path, or NULL. */
struct json_object *td_json_path(struct json_object *obj, const char *path);

#endif
