/*
 * The core's rules as pure functions (core/rules.h), one test per rule, and
 * the rules td_token_apply_change keeps for every dialect (shapes, modules,
 * id lists). No Redis, no HTTP: principals, tokens and PATs are built here
 * by hand and the functions called directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/core/core.h"
#include "tokend/core/module.h"
#include "tokend/core/pat.h"
#include "tokend/core/role.h"
#include "tokend/core/rules.h"
#include "tokend/core/token.h"

#define MOD_ACCESS_MANAGEMENT 1756	/* grants TOKENS_READ|TOKENS_WRITE */
#define MOD_INVOICES          1234	/* grants nothing */

/* a reader holds the audit trail, as a PAT with spaces:read does */
#define READER (TD_SCOPE_TOKENS_READ | TD_SCOPE_SPACES_READ | TD_SCOPE_AUDIT_READ)
#define WRITER (TD_SCOPE_TOKENS_READ | TD_SCOPE_TOKENS_WRITE)
#define ADMIN_SCOPES (TD_SCOPE_SPACES_READ | TD_SCOPE_TOKENS_READ | TD_SCOPE_TOKENS_WRITE | \
		      TD_SCOPE_AUDIT_READ)

static struct td_token tok;
static struct td_token_change change;

/* What a built-in role grants (the service resolves a space's own). */
static unsigned
role_scopes(int64_t role)
{
	unsigned perms;
	int env;

	return td_rule_role_perms(NULL, role, &perms, &env) == 0 ? td_role_grants(perms) : 0;
}

static unsigned
scopes(const struct td_token *t)
{
	return td_rule_token_scopes(t, role_scopes(t->role_id));
}

static int
within(const struct td_principal *who, const struct td_token *t)
{
	return td_rule_token_within(who, t, role_scopes(t->role_id));
}

static int
sees(const struct td_principal *who, const struct td_token *t)
{
	return td_rule_may_see_value(who, t, role_scopes(t->role_id));
}

/* A PAT-like principal bound to one space (space 0: every space). */
static struct td_principal
principal(enum td_cred_kind kind, int64_t id, int64_t space, unsigned scopes)
{
	struct td_principal who;

	memset(&who, 0, sizeof(who));
	who.kind = kind;
	if (kind == TD_CRED_PAT)
		who.pat_id = id;
	else
		who.token_id = id;
	if (space == 0) {
		who.all_spaces = 1;
	} else {
		who.spaces[0] = space;
		who.nspaces = 1;
	}
	who.scopes = scopes;
	return who;
}

/* A delivery-only token in space. */
static struct td_token *
delivery_token(int64_t id, int64_t space)
{
	td_token_defaults(&tok);
	tok.id = id;
	tok.space_id = space;
	td_token_set_access(&tok, TD_ACCESS_PRIVATE);
	return &tok;
}

/* A management token in space with role and modules. */
static struct td_token *
management_token(int64_t id, int64_t space, int64_t role, const int64_t *modules, int nmodules)
{
	delivery_token(id, space);
	tok.rights |= TD_RIGHT_CMA;
	tok.role_id = role;
	if (nmodules > 0)
		memcpy(tok.modules, modules, (size_t)nmodules * sizeof(*modules));
	tok.nmodules = nmodules;
	return &tok;
}

static void
test_rule_is_management(void **state)
{
	(void)state;
	assert_false(td_rule_is_management(delivery_token(1, 5)));
	/* a role alone makes no management credential: the right does */
	tok.role_id = TD_ROLE_ADMIN;
	assert_false(td_rule_is_management(&tok));
	assert_true(td_rule_is_management(management_token(1, 5, TD_ROLE_ADMIN, NULL, 0)));
	td_token_set_access(&tok, TD_ACCESS_PUBLIC);	/* keeps the management right */
	assert_true(td_rule_is_management(&tok));
	td_token_set_delivery(&tok, 0, 0);
	assert_true(td_rule_is_management(&tok));
}

static void
test_rule_token_scopes(void **state)
{
	static const int64_t am[] = { MOD_ACCESS_MANAGEMENT };
	static const int64_t inv[] = { MOD_INVOICES };
	static const int64_t both[] = { MOD_INVOICES, MOD_ACCESS_MANAGEMENT };

	(void)state;
	/* no management right: nothing, whatever its role and modules say */
	delivery_token(1, 5);
	tok.role_id = TD_ROLE_ADMIN;
	memcpy(tok.modules, am, sizeof(am));
	tok.nmodules = 1;
	assert_int_equal(scopes(&tok), 0);
	/* the role's */
	assert_int_equal(scopes(management_token(1, 5, TD_ROLE_ADMIN, NULL, 0)),
			 ADMIN_SCOPES);
	assert_int_equal(role_scopes(TD_ROLE_ADMIN), ADMIN_SCOPES);
	/* the read-only role reads the space, its tokens and its trail */
	assert_int_equal(scopes(management_token(1, 5, TD_ROLE_READONLY, NULL, 0)), READER);
	/* the role's scopes as the service resolved them, whatever its id */
	assert_int_equal(td_rule_token_scopes(management_token(1, 5, 7, NULL, 0), WRITER), WRITER);
	assert_int_equal(td_rule_token_scopes(management_token(1, 5, 0, NULL, 0), WRITER), 0);
	/* no role, no modules: nothing */
	assert_int_equal(scopes(management_token(1, 5, 0, NULL, 0)), 0);
	assert_int_equal(scopes(management_token(1, 5, 99, NULL, 0)), 0);
	/* the modules' */
	assert_int_equal(scopes(management_token(1, 5, 0, am, 1)), WRITER);
	assert_int_equal(scopes(management_token(1, 5, 0, inv, 1)), 0);
	assert_int_equal(scopes(management_token(1, 5, 0, both, 2)), WRITER);
	/* both: the union */
	assert_int_equal(scopes(management_token(1, 5, TD_ROLE_READONLY, am, 1)),
			 ADMIN_SCOPES);
	/* a module id past nmodules counts for nothing */
	management_token(1, 5, 0, both, 2);
	tok.nmodules = 1;
	assert_int_equal(scopes(&tok), 0);
}

static void
test_rule_reaches(void **state)
{
	struct td_principal who = principal(TD_CRED_PAT, 1, 5, READER);

	(void)state;
	assert_true(td_rule_reaches(&who, 5));
	assert_false(td_rule_reaches(&who, 6));
	assert_false(td_rule_reaches(&who, 0));
	who.spaces[1] = 9;
	who.nspaces = 2;
	assert_true(td_rule_reaches(&who, 9));
	/* only the first nspaces count */
	who.spaces[2] = 11;
	assert_false(td_rule_reaches(&who, 11));
	who.nspaces = 0;
	assert_false(td_rule_reaches(&who, 5));
	who.all_spaces = 1;
	assert_true(td_rule_reaches(&who, 5));
	assert_true(td_rule_reaches(&who, 123456789));
}

static void
test_rule_holds(void **state)
{
	struct td_principal who = principal(TD_CRED_PAT, 1, 0, READER);

	(void)state;
	assert_true(td_rule_holds(&who, TD_SCOPE_TOKENS_READ));
	assert_true(td_rule_holds(&who, READER));
	assert_false(td_rule_holds(&who, TD_SCOPE_TOKENS_WRITE));
	/* every bit, not any */
	assert_false(td_rule_holds(&who, TD_SCOPE_TOKENS_READ | TD_SCOPE_TOKENS_WRITE));
	assert_true(td_rule_holds(&who, 0));
	who.scopes = TD_SCOPE_ALL;
	assert_true(td_rule_holds(&who, TD_SCOPE_PATS_WRITE | TD_SCOPE_SPACES_WRITE));
}

/* Creating a space and reading the account's trail are about every space:
 * only those two need a credential for all spaces. */
static void
test_rule_needs_all_spaces(void **state)
{
	int op;

	(void)state;
	for (op = 0; op < TD_OP__MAX; op++)
		assert_int_equal(td_rule_needs_all_spaces((enum td_op)op),
				 op == TD_OP_SPACE_CREATE || op == TD_OP_ACCOUNT_ACTIVITIES);
}

static void
test_rule_token_within(void **state)
{
	static const int64_t am[] = { MOD_ACCESS_MANAGEMENT };
	struct td_principal who = principal(TD_CRED_PAT, 1, 5, 0);

	(void)state;
	/* a delivery-only token is within anyone */
	assert_true(within(&who, delivery_token(2, 5)));
	/* an admin token: within a holder of its every scope only */
	management_token(2, 5, TD_ROLE_ADMIN, NULL, 0);
	assert_false(within(&who, &tok));
	who.scopes = WRITER;			/* lacks SPACES_READ */
	assert_false(within(&who, &tok));
	who.scopes = READER;			/* lacks TOKENS_WRITE */
	assert_false(within(&who, &tok));
	who.scopes = ADMIN_SCOPES;
	assert_true(within(&who, &tok));
	who.scopes = TD_SCOPE_ALL;		/* a PAT's stored bits: no trail */
	assert_false(within(&who, &tok));
	who.scopes = TD_SCOPE_ALL | TD_SCOPE_AUDIT_READ;
	assert_true(within(&who, &tok));
	/* a read-only role's token is within a reader */
	who.scopes = READER;
	assert_true(within(&who, management_token(2, 5, TD_ROLE_READONLY, NULL, 0)));
	/* Access Management grants TOKENS_READ|TOKENS_WRITE */
	management_token(2, 5, 0, am, 1);
	assert_false(within(&who, &tok));
	who.scopes = WRITER;
	assert_true(within(&who, &tok));
	/* an expiring caller: only management tokens expiring no later */
	who.expires_at = 2000000000;
	tok.expires_at = 0;
	assert_false(within(&who, &tok));
	tok.expires_at = 2000000001;
	assert_false(within(&who, &tok));
	tok.expires_at = 2000000000;
	assert_true(within(&who, &tok));
	/* delivery tokens outlive it freely: they are no credential */
	assert_true(within(&who, delivery_token(2, 5)));
}

static void
test_rule_upholds_caller(void **state)
{
	struct td_principal who = principal(TD_CRED_TOKEN, 7, 5, ADMIN_SCOPES);

	(void)state;
	assert_true(td_rule_upholds_caller_token(&who, management_token(7, 5, 1, NULL, 0)));
	assert_false(td_rule_upholds_caller_token(&who, management_token(8, 5, 1, NULL, 0)));
	assert_false(td_rule_upholds_caller_pat(&who, 7));
	/* minted by token 8 of space 5, itself minted by PAT 3 */
	who.depth = 2;
	who.makers[0] = (struct td_cred_ref){ 't', 5, 8 };
	who.makers[1] = (struct td_cred_ref){ 'p', 0, 3 };
	assert_true(td_rule_upholds_caller_token(&who, management_token(8, 5, 1, NULL, 0)));
	assert_false(td_rule_upholds_caller_token(&who, management_token(8, 6, 1, NULL, 0)));
	assert_true(td_rule_upholds_caller_pat(&who, 3));
	assert_false(td_rule_upholds_caller_pat(&who, 8));	/* a token's id is no PAT's */
	/* what is past depth is not the chain */
	who.depth = 1;
	assert_false(td_rule_upholds_caller_pat(&who, 3));
}

static void
test_rule_may_see_value(void **state)
{
	static const int64_t am[] = { MOD_ACCESS_MANAGEMENT };
	struct td_principal reader = principal(TD_CRED_PAT, 1, 5, READER);
	struct td_principal writer = principal(TD_CRED_PAT, 2, 5, WRITER);
	struct td_principal admin = principal(TD_CRED_PAT, 3, 5, ADMIN_SCOPES);

	(void)state;
	/* a read-only principal sees no value, not even a delivery token's */
	assert_false(sees(&reader, delivery_token(7, 5)));
	assert_false(sees(&reader, management_token(7, 5, TD_ROLE_READONLY, NULL, 0)));
	reader.all_spaces = 1;
	assert_false(sees(&reader, delivery_token(7, 5)));
	/* a writer sees a delivery token's value in its space, not in another */
	assert_true(sees(&writer, delivery_token(7, 5)));
	assert_false(sees(&writer, delivery_token(7, 6)));
	/* nor a management token's that grants what it lacks (SPACES_READ) */
	assert_false(sees(&writer, management_token(7, 5, TD_ROLE_ADMIN, NULL, 0)));
	assert_false(sees(&writer,
					   management_token(7, 5, TD_ROLE_READONLY, NULL, 0)));
	/* but a token within its scopes, yes */
	assert_true(sees(&writer, management_token(7, 5, 0, am, 1)));
	/* an admin writer sees the admin token in its space only */
	assert_true(sees(&admin, management_token(7, 5, TD_ROLE_ADMIN, NULL, 0)));
	assert_false(sees(&admin, management_token(7, 6, TD_ROLE_ADMIN, NULL, 0)));
	/* a space token acting in its own space: the same rules */
	writer = principal(TD_CRED_TOKEN, 9, 5, ADMIN_SCOPES);
	assert_true(sees(&writer, delivery_token(7, 5)));
	assert_true(sees(&writer, management_token(7, 5, TD_ROLE_ADMIN, NULL, 0)));
}

static void
test_rule_pat_within(void **state)
{
	struct td_principal who = principal(TD_CRED_PAT, 1, 5, WRITER);
	struct td_pat p;

	(void)state;
	who.spaces[1] = 9;
	who.nspaces = 2;
	memset(&p, 0, sizeof(p));
	p.spaces[0] = 5;
	p.nspaces = 1;
	p.scopes = TD_SCOPE_TOKENS_READ;
	/* scopes: a subset is within, one more bit is not */
	assert_true(td_rule_pat_within(&who, &p));
	p.scopes = WRITER;
	assert_true(td_rule_pat_within(&who, &p));
	p.scopes = WRITER | TD_SCOPE_SPACES_READ;
	assert_false(td_rule_pat_within(&who, &p));
	p.scopes = TD_SCOPE_PATS_READ;
	assert_false(td_rule_pat_within(&who, &p));
	p.scopes = TD_SCOPE_TOKENS_READ;
	/* spaces: each one the maker reaches */
	p.spaces[1] = 9;
	p.nspaces = 2;
	assert_true(td_rule_pat_within(&who, &p));
	p.spaces[2] = 6;
	p.nspaces = 3;
	assert_false(td_rule_pat_within(&who, &p));
	p.nspaces = 1;
	/* all spaces: only from a maker with all spaces */
	p.all_spaces = 1;
	p.nspaces = 0;
	assert_false(td_rule_pat_within(&who, &p));
	who.all_spaces = 1;
	assert_true(td_rule_pat_within(&who, &p));
	/* full permission: only from a full maker */
	p.full = 1;
	p.scopes = TD_SCOPE_ALL;
	assert_false(td_rule_pat_within(&who, &p));
	who.scopes = TD_SCOPE_ALL;	/* every scope is still not full */
	assert_false(td_rule_pat_within(&who, &p));
	who.full = 1;
	assert_true(td_rule_pat_within(&who, &p));
	/* a full maker makes anything, wherever */
	who = principal(TD_CRED_PAT, 1, 5, TD_SCOPE_ALL);
	who.full = 1;
	memset(&p, 0, sizeof(p));
	p.spaces[0] = 6;
	p.nspaces = 1;
	p.scopes = TD_SCOPE_PATS_WRITE;
	assert_true(td_rule_pat_within(&who, &p));
}

static void
test_rule_is_self_token(void **state)
{
	struct td_principal who = principal(TD_CRED_TOKEN, 7, 5, ADMIN_SCOPES);

	(void)state;
	assert_true(td_rule_is_self_token(&who, delivery_token(7, 5)));
	/* the same id in another space is another token */
	assert_false(td_rule_is_self_token(&who, delivery_token(7, 6)));
	assert_false(td_rule_is_self_token(&who, delivery_token(8, 5)));
	/* a PAT whose id happens to be the token's is not that token */
	who = principal(TD_CRED_PAT, 7, 5, TD_SCOPE_ALL);
	who.token_id = 7;
	assert_false(td_rule_is_self_token(&who, delivery_token(7, 5)));
	/* a token principal that somehow reaches several spaces is no token's self */
	who = principal(TD_CRED_TOKEN, 7, 0, ADMIN_SCOPES);
	assert_false(td_rule_is_self_token(&who, delivery_token(7, 5)));
}

static void
test_rule_is_self_pat(void **state)
{
	struct td_principal who = principal(TD_CRED_PAT, 3, 0, TD_SCOPE_ALL);

	(void)state;
	assert_true(td_rule_is_self_pat(&who, 3));
	assert_false(td_rule_is_self_pat(&who, 4));
	/* a space token whose id happens to be the PAT's is not that PAT */
	who = principal(TD_CRED_TOKEN, 3, 5, ADMIN_SCOPES);
	who.pat_id = 3;
	assert_false(td_rule_is_self_pat(&who, 3));
}

static void
test_rule_bound_expiry(void **state)
{
	struct td_principal maker = principal(TD_CRED_PAT, 1, 0, TD_SCOPE_ALL);
	int64_t e;

	(void)state;
	/* a maker that never expires: anything, given or not, is kept */
	e = 0;
	assert_int_equal(td_rule_bound_expiry(&maker, 0, &e), 0);
	assert_int_equal(e, 0);
	e = 0;
	assert_int_equal(td_rule_bound_expiry(&maker, 1, &e), 0);
	assert_int_equal(e, 0);
	e = 4000000000LL;
	assert_int_equal(td_rule_bound_expiry(&maker, 1, &e), 0);
	assert_int_equal(e, 4000000000LL);
	e = 2000000000;
	assert_int_equal(td_rule_bound_expiry(&maker, 0, &e), 0);
	assert_int_equal(e, 2000000000);

	maker.expires_at = 2000000000;
	/* none given: inherits the maker's */
	e = 0;
	assert_int_equal(td_rule_bound_expiry(&maker, 0, &e), 0);
	assert_int_equal(e, 2000000000);
	/* an existing later expiry, none given: brought down to the maker's */
	e = 2000000001;
	assert_int_equal(td_rule_bound_expiry(&maker, 0, &e), 0);
	assert_int_equal(e, 2000000000);
	/* an existing earlier expiry, none given: kept */
	e = 1900000000;
	assert_int_equal(td_rule_bound_expiry(&maker, 0, &e), 0);
	assert_int_equal(e, 1900000000);
	/* given later: refused */
	e = 2000000001;
	assert_int_equal(td_rule_bound_expiry(&maker, 1, &e), -1);
	/* given never: refused */
	e = 0;
	assert_int_equal(td_rule_bound_expiry(&maker, 1, &e), -1);
	/* given earlier, or the same: kept */
	e = 1900000000;
	assert_int_equal(td_rule_bound_expiry(&maker, 1, &e), 0);
	assert_int_equal(e, 1900000000);
	e = 2000000000;
	assert_int_equal(td_rule_bound_expiry(&maker, 1, &e), 0);
	assert_int_equal(e, 2000000000);
}

static void
test_rule_may_mint(void **state)
{
	struct td_principal maker = principal(TD_CRED_PAT, 1, 0, TD_SCOPE_ALL);

	(void)state;
	assert_true(td_rule_may_mint(&maker));	/* a root credential */
	maker.depth = TD_MINT_DEPTH_MAX - 1;
	assert_true(td_rule_may_mint(&maker));	/* its child is the deepest allowed */
	maker.depth = TD_MINT_DEPTH_MAX;
	assert_false(td_rule_may_mint(&maker));
}

/* --- td_token_apply_change: the rules every dialect gets from the core --- */

static struct td_token_change *
fresh(enum td_token_shape shape)
{
	td_token_defaults(&tok);
	td_token_change_init(&change, shape);
	return &change;
}

static void
set_text(struct td_text *tx, const char *s)
{
	tx->s = s;
	tx->len = s != NULL ? strlen(s) : 0;
}

static void
expect_fail(int creating, enum td_core_err code, const char *field, const char *message)
{
	struct td_core_error err = { TD_OK, NULL, NULL };

	if (td_token_apply_change(&tok, &change, creating, &err) == 0)
		fail_msg("accepted; expected %s: %s", field, message ? message : "");
	assert_int_equal(err.code, code);
	assert_non_null(err.field);
	assert_string_equal(err.field, field);
	assert_non_null(err.message);
	if (message != NULL)
		assert_string_equal(err.message, message);
}

static void
expect_ok(int creating)
{
	struct td_core_error err = { TD_OK, NULL, NULL };

	if (td_token_apply_change(&tok, &change, creating, &err) != 0)
		fail_msg("refused: %s: %s", err.field ? err.field : "(null)",
			 err.message ? err.message : "(null)");
}

static void
test_shape_access_token(void **state)
{
	struct td_token_change *ch = fresh(TD_SHAPE_ACCESS_TOKEN);

	(void)state;
	/* a create names the name, the three rights (MISSING) and a role (INVALID) */
	expect_fail(1, TD_ERR_MISSING, "name", "is required");
	set_text(&ch->name, "ci");
	ch->set |= TD_TF_NAME;
	expect_fail(1, TD_ERR_MISSING, "can_access_cda", "is required");
	ch->cda = 1;
	ch->set |= TD_TF_CDA;
	expect_fail(1, TD_ERR_MISSING, "can_access_cda_preview", "is required");
	ch->cda_preview = 0;
	ch->set |= TD_TF_CDA_PREVIEW;
	expect_fail(1, TD_ERR_MISSING, "can_access_cma", "is required");
	ch->cma = 1;
	ch->set |= TD_TF_CMA;
	expect_fail(1, TD_ERR_INVALID, "role", "a role is required");
	ch->role_id = TD_ID_MAX + 1;
	ch->set |= TD_TF_ROLE;
	expect_fail(1, TD_ERR_INVALID, "role", "no such role");
	ch->role_id = -1;	/* a role the document could not name */
	expect_fail(1, TD_ERR_INVALID, "role", "no such role");
	/* a role above the built-ins is an id here: its space says whether it has it */
	ch->role_id = 99;
	expect_ok(1);
	ch->role_id = TD_ROLE_ADMIN;
	expect_ok(1);
	assert_string_equal(tok.name, "ci");
	assert_true(tok.has_name);
	assert_int_equal(tok.rights, TD_RIGHT_CDA | TD_RIGHT_CMA);
	assert_int_equal(tok.role_id, TD_ROLE_ADMIN);
	assert_int_equal(scopes(&tok), ADMIN_SCOPES);
	/* its name cannot be blank, on create or update */
	set_text(&ch->name, "");
	expect_fail(1, TD_ERR_INVALID, "name", "can't be blank");
	set_text(&ch->name, NULL);
	expect_fail(0, TD_ERR_INVALID, "name", "can't be blank");
	/* an update needs none of the create's fields */
	fresh(TD_SHAPE_ACCESS_TOKEN);
	expect_ok(0);
}

static void
test_shape_api_token(void **state)
{
	struct td_token_change *ch = fresh(TD_SHAPE_API_TOKEN);

	(void)state;
	expect_fail(1, TD_ERR_MISSING, "name", "can't be blank");
	ch->set |= TD_TF_NAME;
	set_text(&ch->name, "");
	expect_fail(1, TD_ERR_INVALID, "name", "can't be blank");
	set_text(&ch->name, NULL);
	expect_fail(1, TD_ERR_INVALID, "name", "can't be blank");
	expect_fail(0, TD_ERR_INVALID, "name", "can't be blank");
	set_text(&ch->name, "api");
	expect_ok(1);
	assert_string_equal(tok.name, "api");
	/* a description may be emptied */
	fresh(TD_SHAPE_API_TOKEN);
	ch->set = TD_TF_DESCRIPTION;
	set_text(&ch->description, NULL);
	expect_ok(0);
	assert_string_equal(tok.description, "");
}

static void
test_shape_api_key(void **state)
{
	struct td_token_change *ch = fresh(TD_SHAPE_API_KEY);

	(void)state;
	/* access is required on create... */
	expect_fail(1, TD_ERR_MISSING, "access", "can't be blank");
	ch->set |= TD_TF_NAME;
	set_text(&ch->name, "n");
	expect_fail(1, TD_ERR_MISSING, "access", "can't be blank");
	/* ... and a name is not: null names no name */
	ch->set = TD_TF_ACCESS;
	set_text(&ch->access, "public");
	expect_ok(1);
	assert_false(tok.has_name);
	ch->set |= TD_TF_NAME;
	set_text(&ch->name, NULL);
	expect_ok(1);
	assert_false(tok.has_name);
	set_text(&ch->name, "");
	expect_ok(1);
	/* not on update */
	fresh(TD_SHAPE_API_KEY);
	expect_ok(0);
	assert_int_equal(tok.access, TD_ACCESS__MAX);
}

static void
test_modules(void **state)
{
	struct td_token_change *ch = fresh(TD_SHAPE_API_TOKEN);
	size_t i;

	(void)state;
	ch->set = TD_TF_MODULES;
	ch->module_ids[0] = MOD_ACCESS_MANAGEMENT;
	ch->module_ids[1] = 4242;		/* unknown */
	ch->nmodules = 2;
	expect_fail(0, TD_ERR_INVALID, "modules", NULL);
	ch->module_ids[1] = -1;			/* the parser's "names no module" */
	expect_fail(0, TD_ERR_INVALID, "modules", NULL);
	ch->module_ids[1] = 0;
	expect_fail(0, TD_ERR_INVALID, "modules", NULL);
	ch->module_ids[1] = MOD_INVOICES;
	expect_ok(0);
	assert_int_equal(tok.nmodules, 2);
	assert_int_equal(tok.modules[0], MOD_ACCESS_MANAGEMENT);
	assert_int_equal(tok.modules[1], MOD_INVOICES);
	/* 32 known modules: fine; 33: refused */
	for (i = 0; i < TD_TOKEN_MODULES_MAX; i++)
		ch->module_ids[i] = i % 2 ? MOD_INVOICES : MOD_ACCESS_MANAGEMENT;
	ch->nmodules = TD_TOKEN_MODULES_MAX;
	expect_ok(0);
	assert_int_equal(tok.nmodules, TD_TOKEN_MODULES_MAX);
	ch->nmodules = TD_TOKEN_MODULES_MAX + 1;
	expect_fail(0, TD_ERR_INVALID, "modules", NULL);
	assert_int_equal(tok.nmodules, TD_TOKEN_MODULES_MAX);
	ch->nmodules = 100000;
	expect_fail(0, TD_ERR_INVALID, "modules", NULL);
	/* none: emptied */
	ch->nmodules = 0;
	expect_ok(0);
	assert_int_equal(tok.nmodules, 0);
}

/* ranges: "a,b" into l */
static void
bind_to(struct td_cidr_list *l, const char *ranges)
{
	const char *why;

	assert_int_equal(td_cidr_list_parse(ranges, strlen(ranges), l, &why), 0);
}

static void
test_rule_cidrs_within(void **state)
{
	struct td_principal maker = principal(TD_CRED_PAT, 1, 0, TD_SCOPE_ALL);
	struct td_cidr_list minted;

	(void)state;
	/* an unbound maker bounds nothing */
	bind_to(&minted, "");
	assert_true(td_rule_cidrs_within(&maker, &minted));
	bind_to(&minted, "0.0.0.0/0,::/0");
	assert_true(td_rule_cidrs_within(&maker, &minted));
	/* a bound maker: only ranges inside its own, never none */
	bind_to(&maker.cidrs, "127.0.0.2/32,10.0.0.0/8");
	bind_to(&minted, "");
	assert_false(td_rule_cidrs_within(&maker, &minted));
	bind_to(&minted, "127.0.0.2");
	assert_true(td_rule_cidrs_within(&maker, &minted));
	bind_to(&minted, "10.20.0.0/16,127.0.0.2/32");
	assert_true(td_rule_cidrs_within(&maker, &minted));
	bind_to(&minted, "127.0.0.0/24");
	assert_false(td_rule_cidrs_within(&maker, &minted));
	bind_to(&minted, "127.0.0.3");
	assert_false(td_rule_cidrs_within(&maker, &minted));
	bind_to(&minted, "::ffff:127.0.0.2/128");	/* the same address, spelled as IPv6 */
	assert_true(td_rule_cidrs_within(&maker, &minted));
}

static void
test_rule_token_within_binding(void **state)
{
	struct td_principal who = principal(TD_CRED_PAT, 1, 5, TD_SCOPE_ALL | TD_SCOPE_AUDIT_READ);

	(void)state;
	bind_to(&who.cidrs, "127.0.0.2");
	/* delivery tokens are no credential: bound or not, within */
	assert_true(within(&who, delivery_token(2, 5)));
	/* a management token usable from elsewhere holds more than a bound caller */
	management_token(2, 5, TD_ROLE_ADMIN, NULL, 0);
	assert_false(within(&who, &tok));
	assert_false(sees(&who, &tok));
	bind_to(&tok.allowed_cidrs, "127.0.0.0/8");
	assert_false(within(&who, &tok));
	bind_to(&tok.allowed_cidrs, "127.0.0.2/32");
	assert_true(within(&who, &tok));
	assert_true(sees(&who, &tok));
	/* an unbound caller bounds nothing */
	who.cidrs.n = 0;
	tok.allowed_cidrs.n = 0;
	assert_true(within(&who, &tok));
}

static void
test_allowed_cidrs_change(void **state)
{
	static const char *const bad[] = { "10.0.0.1/33", "010.0.0.1/8", "::1/129", "1.2.3.4/",
					   "fe80::1%eth0/64", "10.0.0.1/8", "", " 10.0.0.0/8" };
	struct td_token_change *ch = fresh(TD_SHAPE_API_KEY);
	size_t i;

	(void)state;
	ch->set = TD_TF_ALLOWED_CIDRS;
	set_text(&ch->allowed_cidrs.items[0], "10.0.0.0/8");
	set_text(&ch->allowed_cidrs.items[1], "::1");
	ch->allowed_cidrs.n = 2;
	expect_ok(0);
	assert_int_equal(tok.allowed_cidrs.n, 2);
	assert_int_equal(tok.allowed_cidrs.r[1].bits, 128);
	/* each bad spelling is the field's 422 */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_text(&ch->allowed_cidrs.items[1], bad[i]);
		expect_fail(0, TD_ERR_INVALID, "allowed_cidrs", NULL);
	}
	set_text(&ch->allowed_cidrs.items[1], NULL);	/* a null item */
	expect_fail(0, TD_ERR_INVALID, "allowed_cidrs", NULL);
	/* 64 fit; 65 (or a million) are too many */
	for (i = 0; i < TD_CIDRS_MAX; i++)
		set_text(&ch->allowed_cidrs.items[i], "127.0.0.2");
	ch->allowed_cidrs.n = TD_CIDRS_MAX;
	expect_ok(0);
	assert_int_equal(tok.allowed_cidrs.n, TD_CIDRS_MAX);
	ch->allowed_cidrs.n = TD_CIDRS_MAX + 1;
	expect_fail(0, TD_ERR_INVALID, "allowed_cidrs", "is too long (maximum is 64 ranges)");
	ch->allowed_cidrs.n = 1000000;
	expect_fail(0, TD_ERR_INVALID, "allowed_cidrs", "is too long (maximum is 64 ranges)");
	/* none ([] or null): no binding */
	ch->allowed_cidrs.n = 0;
	expect_ok(0);
	assert_int_equal(tok.allowed_cidrs.n, 0);
	/* absent from a change: kept */
	ch->allowed_cidrs.n = 1;
	expect_ok(0);
	ch->set = TD_TF_NAME;
	set_text(&ch->name, "kept");
	expect_ok(0);
	assert_int_equal(tok.allowed_cidrs.n, 1);
}

static void
test_id_lists(void **state)
{
	struct td_token_change *ch = fresh(TD_SHAPE_API_KEY);
	size_t i;

	(void)state;
	ch->set = TD_TF_STORY_IDS | TD_TF_RELEASE_IDS;
	for (i = 0; i < TD_IDS_MAX; i++)
		ch->story_ids.ids[i] = (int64_t)i + 1;
	ch->story_ids.n = TD_IDS_MAX;
	ch->release_ids.ids[0] = 3;
	ch->release_ids.n = 1;
	expect_ok(0);
	assert_int_equal(tok.story_ids.n, TD_IDS_MAX);
	assert_int_equal(tok.story_ids.ids[TD_IDS_MAX - 1], TD_IDS_MAX);
	assert_int_equal(tok.release_ids.n, 1);
	ch->story_ids.n = TD_IDS_MAX + 1;
	expect_fail(0, TD_ERR_INVALID, "story_ids", "is too long (maximum is 1000 ids)");
	assert_int_equal(tok.story_ids.n, TD_IDS_MAX);
	ch->story_ids.n = 1;
	ch->release_ids.n = TD_IDS_MAX + 1;
	expect_fail(0, TD_ERR_INVALID, "release_ids", "is too long (maximum is 1000 ids)");
	ch->release_ids.n = 1;
	ch->release_ids.ids[0] = 0;
	expect_fail(0, TD_ERR_INVALID, "release_ids", "must be an array of ids");
	ch->release_ids.ids[0] = INT64_MAX;
	expect_fail(0, TD_ERR_INVALID, "release_ids", "must be an array of ids");
	ch->release_ids.ids[0] = -5;
	expect_fail(0, TD_ERR_INVALID, "release_ids", "must be an array of ids");
	ch->release_ids.n = 0;
	expect_ok(0);
	assert_int_equal(tok.story_ids.n, 1);
	assert_int_equal(tok.release_ids.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_is_management),
		cmocka_unit_test(test_rule_token_scopes),
		cmocka_unit_test(test_rule_reaches),
		cmocka_unit_test(test_rule_holds),
		cmocka_unit_test(test_rule_needs_all_spaces),
		cmocka_unit_test(test_rule_token_within),
		cmocka_unit_test(test_rule_may_see_value),
		cmocka_unit_test(test_rule_pat_within),
		cmocka_unit_test(test_rule_is_self_token),
		cmocka_unit_test(test_rule_is_self_pat),
		cmocka_unit_test(test_rule_bound_expiry),
		cmocka_unit_test(test_shape_access_token),
		cmocka_unit_test(test_shape_api_token),
		cmocka_unit_test(test_shape_api_key),
		cmocka_unit_test(test_modules),
		cmocka_unit_test(test_rule_may_mint),
		cmocka_unit_test(test_rule_upholds_caller),
		cmocka_unit_test(test_id_lists),
		cmocka_unit_test(test_rule_cidrs_within),
		cmocka_unit_test(test_rule_token_within_binding),
		cmocka_unit_test(test_allowed_cidrs_change),
	};

	return cmocka_run_group_tests_name("core_rules", tests, NULL, NULL);
}
