/*
 * Roles: the built-ins, what a role's flags grant, inheritance, the rules
 * judging a role's change (core/rules.h) and the validation of a role
 * document's values (td_role_apply_change). One test per rule; tables and
 * principals are built by hand, no Redis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/core/core.h"
#include "tokend/core/pat.h"
#include "tokend/core/role.h"
#include "tokend/core/rules.h"

#define BASE (TD_SCOPE_SPACES_READ | TD_SCOPE_TOKENS_READ)
#define WRITE TD_SCOPE_TOKENS_WRITE
#define AUDIT TD_SCOPE_AUDIT_READ
#define MANAGE TD_RP_MANAGE_ACCESS_TOKENS
#define LOG TD_RP_ACCESS_AUDIT_LOG

static struct td_role_table before, after;
static struct td_role role;
static struct td_role_change change;

/* Role id in t (kept sorted by id), inheriting from up to two roles. */
static void
put(struct td_role_table *t, int64_t id, unsigned perms, int64_t from1, int64_t from2)
{
	struct td_role_grant *g;
	int i;

	for (i = 0; i < t->n && t->g[i].id != id; i++)
		;
	if (i == t->n) {
		for (i = t->n; i > 0 && t->g[i - 1].id > id; i--)
			t->g[i] = t->g[i - 1];
		t->n++;
	}
	g = &t->g[i];
	memset(g, 0, sizeof(*g));
	g->id = id;
	g->perms = perms;
	g->env_access = TD_ENV_NONE;
	if (from1 > 0)
		g->inherits[g->ninherits++] = from1;
	if (from2 > 0)
		g->inherits[g->ninherits++] = from2;
}

static void
drop(struct td_role_table *t, int64_t id)
{
	int i, j;

	for (i = 0; i < t->n; i++) {
		if (t->g[i].id != id)
			continue;
		for (j = i; j + 1 < t->n; j++)
			t->g[j] = t->g[j + 1];
		t->n--;
		return;
	}
}

static unsigned
grants(const struct td_role_table *t, int64_t id)
{
	unsigned perms;
	int env;

	return td_rule_role_perms(t, id, &perms, &env) == 0 ? td_role_grants(perms) : 0;
}

static struct td_principal
principal(enum td_cred_kind kind, int64_t role_id, unsigned scopes)
{
	struct td_principal who;

	memset(&who, 0, sizeof(who));
	who.kind = kind;
	who.role_id = role_id;
	who.spaces[0] = 5;
	who.nspaces = 1;
	who.scopes = scopes;
	return who;
}

static void
test_builtin_roles_grant_what_they_always_did(void **state)
{
	struct td_role r;

	(void)state;
	/* Admin writes tokens; both read the space, its tokens and its trail */
	assert_int_equal(grants(NULL, TD_ROLE_ADMIN), BASE | WRITE | AUDIT);
	assert_int_equal(grants(NULL, TD_ROLE_READONLY), BASE | AUDIT);
	assert_int_equal(td_rule_role_perms(NULL, 3, &r.perms, &r.env_access), -1);
	assert_int_equal(td_role_builtin(TD_ROLE_ADMIN, &r), 0);
	assert_string_equal(r.name, "Admin");
	assert_int_equal(r.perms, TD_RP_ALL);
	assert_int_equal(r.env_access, TD_ENV_ALL);
	assert_int_equal(td_role_builtin(TD_ROLE_READONLY, &r), 0);
	assert_string_equal(r.name, "Read-only");
	assert_int_equal(td_role_builtin(0, &r), -1);
	assert_int_equal(td_role_builtin(3, &r), -1);
}

static void
test_role_grants_only_the_enforced_flags(void **state)
{
	(void)state;
	/* any role reads; the other flags grant nothing tokend enforces */
	assert_int_equal(td_role_grants(0), BASE);
	assert_int_equal(td_role_grants(TD_RP_ALL & ~(MANAGE | LOG)), BASE);
	assert_int_equal(td_role_grants(MANAGE), BASE | WRITE);
	assert_int_equal(td_role_grants(LOG), BASE | AUDIT);
}

static void
test_pat_reads_the_trail_with_spaces_read(void **state)
{
	struct td_pat p;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.scopes = TD_SCOPE_TOKENS_WRITE | TD_SCOPE_TOKENS_READ;
	assert_int_equal(td_rule_pat_scopes(&p), p.scopes);
	p.scopes |= TD_SCOPE_SPACES_READ;
	assert_int_equal(td_rule_pat_scopes(&p), p.scopes | AUDIT);
	p.scopes = TD_SCOPE_ALL;
	assert_int_equal(td_rule_pat_scopes(&p), TD_SCOPE_ALL | AUDIT);
}

static void
test_inheritance_adds_flags_transitively_once(void **state)
{
	unsigned perms;
	int env;

	(void)state;
	before.n = 0;
	put(&before, 3, TD_RP_EDIT_SITE, 0, 0);
	put(&before, 4, 0, 3, 0);
	put(&before, 5, 0, 4, TD_ROLE_READONLY);
	before.g[0].env_access = TD_ENV_PRIMARY_ONLY;
	before.g[1].env_access = TD_ENV_SANDBOX_ONLY;
	assert_int_equal(td_rule_role_perms(&before, 5, &perms, &env), 0);
	assert_int_equal(perms, TD_RP_EDIT_SITE | LOG);
	assert_int_equal(env, TD_ENV_ALL);	/* primary and sandbox: both */
	assert_int_equal(grants(&before, 5), BASE | AUDIT);
	/* inheriting from Admin is Admin's power */
	put(&before, 6, 0, TD_ROLE_ADMIN, 0);
	assert_int_equal(grants(&before, 6), BASE | WRITE | AUDIT);
	/* a cycle counts each role once, and ends */
	put(&before, 3, MANAGE, 5, 0);
	assert_true(td_rule_role_in_cycle(&before, 3));
	assert_true(td_rule_role_in_cycle(&before, 5));
	assert_false(td_rule_role_in_cycle(&before, 6));
	assert_int_equal(grants(&before, 4), BASE | WRITE | AUDIT);
	/* an inherited id the table lacks adds nothing */
	put(&before, 7, 0, 99, 0);
	assert_int_equal(grants(&before, 7), BASE);
	assert_false(td_rule_role_inherits_known(&before, td_rule_role_find(&before, 7)));
	assert_true(td_rule_role_inherits_known(&before, td_rule_role_find(&before, 5)));
	assert_null(td_rule_role_find(&before, 8));
	assert_non_null(td_rule_role_find(NULL, TD_ROLE_READONLY));
}

static void
test_role_change_within_the_caller(void **state)
{
	struct td_principal writer = principal(TD_CRED_PAT, 0, BASE | WRITE);

	(void)state;
	before.n = 0;
	put(&before, 3, MANAGE, 0, 0);
	put(&before, 4, LOG, 0, 0);
	put(&before, 5, 0, 3, 0);		/* inherits 3 */
	after = before;
	/* a writer without the trail may rename or re-flag a role within it */
	put(&after, 3, MANAGE | TD_RP_EDIT_SCHEMA, 0, 0);
	assert_true(td_rule_role_change_within(&writer, &before, &after, 3));
	/* but not raise it to the trail */
	put(&after, 3, MANAGE | LOG, 0, 0);
	assert_false(td_rule_role_change_within(&writer, &before, &after, 3));
	/* nor touch a role above it, even to lower it */
	after = before;
	put(&after, 4, 0, 0, 0);
	assert_false(td_rule_role_change_within(&writer, &before, &after, 4));
	after = before;
	drop(&after, 4);
	assert_false(td_rule_role_change_within(&writer, &before, &after, 4));
	/* nor raise one past it through inheritance: 5 would inherit 4 */
	after = before;
	put(&after, 5, 0, 3, 4);
	assert_false(td_rule_role_change_within(&writer, &before, &after, 5));
	/* lowering 3 lowers 5 too: both within the writer, so allowed */
	after = before;
	put(&after, 3, 0, 0, 0);
	assert_true(td_rule_role_change_within(&writer, &before, &after, 3));
	/* ...but a role above the writer inheriting from 3 may not be moved */
	put(&before, 6, LOG, 3, 0);
	after = before;
	put(&after, 3, 0, 0, 0);
	assert_false(td_rule_role_change_within(&writer, &before, &after, 3));
	/* a holder of everything may */
	writer.scopes = BASE | WRITE | AUDIT;
	assert_true(td_rule_role_change_within(&writer, &before, &after, 3));
}

static void
test_role_change_never_cuts_the_caller(void **state)
{
	struct td_principal who = principal(TD_CRED_TOKEN, 3, BASE | WRITE | AUDIT);

	(void)state;
	before.n = 0;
	put(&before, 3, MANAGE | LOG, 0, 0);
	put(&before, 4, MANAGE, 0, 0);
	put(&before, 5, 0, 4, 0);
	after = before;
	/* its own role: a flag tokend does not enforce may change */
	put(&after, 3, MANAGE | LOG | TD_RP_EDIT_SITE, 0, 0);
	assert_false(td_rule_role_change_cuts_caller(&who, &before, &after));
	/* losing the trail or the write, or the role itself, cuts it */
	put(&after, 3, MANAGE, 0, 0);
	assert_true(td_rule_role_change_cuts_caller(&who, &before, &after));
	after = before;
	drop(&after, 3);
	assert_true(td_rule_role_change_cuts_caller(&who, &before, &after));
	/* a maker token's role, directly or through what it inherits */
	who.role_id = TD_ROLE_READONLY;
	who.depth = 1;
	who.makers[0] = (struct td_cred_ref){ 't', 5, 9 };
	who.maker_roles[0] = 5;
	after = before;
	put(&after, 4, 0, 0, 0);
	assert_true(td_rule_role_change_cuts_caller(&who, &before, &after));
	/* a PAT rests on no role */
	who.kind = TD_CRED_PAT;
	who.depth = 0;
	who.role_id = 0;
	assert_false(td_rule_role_change_cuts_caller(&who, &before, &after));
}

static void
fresh(void)
{
	memset(&change, 0, sizeof(change));
	td_role_defaults(&role);
}

static void
set_text(struct td_text *t, const char *s)
{
	t->s = s;
	t->len = s != NULL ? strlen(s) : 0;
}

static void
expect_fail(int creating, enum td_core_err code, const char *field, const char *message)
{
	struct td_core_error err = { TD_OK, NULL, NULL };

	assert_int_equal(td_role_apply_change(&role, &change, creating, &err), -1);
	assert_int_equal(err.code, code);
	assert_string_equal(err.field, field);
	assert_string_equal(err.message, message);
}

static void
expect_ok(int creating)
{
	struct td_core_error err = { TD_OK, NULL, NULL };

	if (td_role_apply_change(&role, &change, creating, &err) != 0)
		fail_msg("refused: %s: %s", err.field, err.message);
}

static void
test_role_name_rules(void **state)
{
	char long_name[TD_NAME_MAX + 2];

	(void)state;
	fresh();
	expect_fail(1, TD_ERR_MISSING, "name", "can't be blank");
	expect_ok(0);		/* an update needs no name */
	change.set = TD_RF_NAME;
	set_text(&change.name, NULL);
	expect_fail(0, TD_ERR_INVALID, "name", "can't be blank");
	set_text(&change.name, "");
	expect_fail(1, TD_ERR_INVALID, "name", "can't be blank");
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	set_text(&change.name, long_name);
	expect_fail(1, TD_ERR_INVALID, "name", "is too long");
	long_name[TD_NAME_MAX] = '\0';
	set_text(&change.name, long_name);
	expect_ok(1);
	set_text(&change.name, "bad \xc0\xae utf-8");
	expect_fail(1, TD_ERR_INVALID, "name", "is not valid UTF-8");
	set_text(&change.name, "Éditeur");
	expect_ok(1);
	assert_string_equal(role.name, "Éditeur");
}

static void
test_role_flags_and_environments(void **state)
{
	(void)state;
	fresh();
	role.perms = LOG;
	change.perms_set = MANAGE | TD_RP_EDIT_SITE;
	change.perms = MANAGE;
	expect_ok(0);
	/* flags sent are set or cleared, others kept */
	assert_int_equal(role.perms, LOG | MANAGE);
	change.perms_set = 1u << 25;
	expect_fail(0, TD_ERR_INVALID, "attributes", "unknown flag");
	change.perms_set = 0;
	change.set = TD_RF_ENV;
	set_text(&change.env_access, "primary_only");
	expect_ok(0);
	assert_int_equal(role.env_access, TD_ENV_PRIMARY_ONLY);
	set_text(&change.env_access, "everywhere");
	expect_fail(0, TD_ERR_INVALID, "environments_access", "is not included in the list");
	set_text(&change.env_access, NULL);
	expect_fail(0, TD_ERR_INVALID, "environments_access", "is not included in the list");
}

static void
test_role_inherits_rules(void **state)
{
	int i;

	(void)state;
	fresh();
	role.id = 4;
	change.set = TD_RF_INHERITS;
	change.ninherits = 2;
	change.inherits[0] = TD_ROLE_ADMIN;
	change.inherits[1] = 7;
	expect_ok(0);
	assert_int_equal(role.ninherits, 2);
	change.inherits[1] = 4;
	expect_fail(0, TD_ERR_INVALID, "inherits_permissions_from", "a role cannot inherit from itself");
	change.inherits[1] = TD_ROLE_ADMIN;
	expect_fail(0, TD_ERR_INVALID, "inherits_permissions_from", "names a role twice");
	change.inherits[1] = -1;	/* a spelling the view could not read */
	expect_fail(0, TD_ERR_INVALID, "inherits_permissions_from", "no such role");
	change.inherits[1] = TD_ID_MAX + 1;
	expect_fail(0, TD_ERR_INVALID, "inherits_permissions_from", "no such role");
	change.ninherits = TD_ROLE_INHERITS_MAX + 1;
	expect_fail(0, TD_ERR_INVALID, "inherits_permissions_from",
		    "is too long (maximum is 16 roles)");
	change.ninherits = TD_ROLE_INHERITS_MAX;
	for (i = 0; i < TD_ROLE_INHERITS_MAX; i++)
		change.inherits[i] = 10 + i;
	expect_ok(0);
	change.ninherits = 0;
	expect_ok(0);
	assert_int_equal(role.ninherits, 0);
}

static void
test_role_lists_rules(void **state)
{
	static char big[TD_ROLE_PERMISSIONS_BYTES + 2];

	(void)state;
	fresh();
	/* a pair is sent whole */
	change.lists_set = 1u << TD_RL_POSITIVE_UPLOAD;
	expect_fail(0, TD_ERR_INVALID, "negative_upload_permissions",
		    "must be sent together with its positive_/negative_ counterpart");
	change.lists_set = 1u << TD_RL_NEGATIVE_ITEM_TYPE;
	expect_fail(0, TD_ERR_INVALID, "positive_item_type_permissions",
		    "must be sent together with its positive_/negative_ counterpart");
	change.lists_set |= 1u << TD_RL_POSITIVE_ITEM_TYPE;
	set_text(&change.lists[TD_RL_POSITIVE_ITEM_TYPE], "[{\"action\":\"all\",\"environment\":\"main\"}]");
	change.list_entries[TD_RL_POSITIVE_ITEM_TYPE] = 1;
	set_text(&change.lists[TD_RL_NEGATIVE_ITEM_TYPE], "[]");
	expect_ok(0);
	assert_string_equal(role.lists[TD_RL_POSITIVE_ITEM_TYPE],
			    "[{\"action\":\"all\",\"environment\":\"main\"}]");
	assert_string_equal(role.lists[TD_RL_NEGATIVE_ITEM_TYPE], "");	/* empty: nothing kept */
	/* bounded in entries and in bytes */
	change.list_entries[TD_RL_POSITIVE_ITEM_TYPE] = TD_ROLE_PERMISSIONS_MAX + 1;
	expect_fail(0, TD_ERR_INVALID, "positive_item_type_permissions",
		    "is too long (maximum is 100 entries)");
	change.list_entries[TD_RL_POSITIVE_ITEM_TYPE] = 1;
	memset(big, 'x', sizeof(big) - 1);
	set_text(&change.lists[TD_RL_POSITIVE_ITEM_TYPE], big);
	expect_fail(0, TD_ERR_INVALID, "positive_item_type_permissions",
		    "is too large to store (at most 8192 bytes as compact JSON)");
	big[TD_ROLE_PERMISSIONS_BYTES] = '\0';
	set_text(&change.lists[TD_RL_POSITIVE_ITEM_TYPE], big);
	expect_ok(0);
	assert_int_equal(strlen(role.lists[TD_RL_POSITIVE_ITEM_TYPE]), TD_ROLE_PERMISSIONS_BYTES);
}

static void
test_duplicate_name_fits(void **state)
{
	char out[TD_TEXT_BYTES(TD_NAME_MAX)], name[TD_TEXT_BYTES(TD_NAME_MAX)];
	size_t i;

	(void)state;
	td_role_duplicate_name("Editor", 1, out, sizeof(out));
	assert_string_equal(out, "Editor (duplicate #1)");
	/* 200 two-byte characters: shortened at a character */
	for (i = 0; i < TD_NAME_MAX; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[2 * TD_NAME_MAX] = '\0';
	td_role_duplicate_name(name, 12, out, sizeof(out));
	assert_int_equal(strlen(out), 2 * (TD_NAME_MAX - 16) + 16);
	assert_string_equal(out + 2 * (TD_NAME_MAX - 16), " (duplicate #12)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_roles_grant_what_they_always_did),
		cmocka_unit_test(test_role_grants_only_the_enforced_flags),
		cmocka_unit_test(test_pat_reads_the_trail_with_spaces_read),
		cmocka_unit_test(test_inheritance_adds_flags_transitively_once),
		cmocka_unit_test(test_role_change_within_the_caller),
		cmocka_unit_test(test_role_change_never_cuts_the_caller),
		cmocka_unit_test(test_role_name_rules),
		cmocka_unit_test(test_role_flags_and_environments),
		cmocka_unit_test(test_role_inherits_rules),
		cmocka_unit_test(test_role_lists_rules),
		cmocka_unit_test(test_duplicate_name_fits),
	};

	return cmocka_run_group_tests_name("roles", tests, NULL, NULL);
}
