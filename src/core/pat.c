/* Personal access tokens: the scope catalogue and validation of a typed change. */
#include <string.h>

#include "tokend/core/core.h"
#include "tokend/core/pat.h"

#define FAIL(code_, f, m) do { err->code = (code_); err->field = (f); err->message = (m); \
			       return -1; } while (0)

static const struct td_pat_resource resources[] = {
	{ "spaces", TD_SCOPE_SPACES_READ, TD_SCOPE_SPACES_WRITE },
	{ "access_tokens", TD_SCOPE_TOKENS_READ, TD_SCOPE_TOKENS_WRITE },
	{ "personal_access_tokens", TD_SCOPE_PATS_READ, TD_SCOPE_PATS_WRITE },
};

const struct td_pat_resource *const td_pat_resources = resources;
const int td_pat_resources_count = sizeof(resources) / sizeof(resources[0]);

int
td_pat_scope_bits(const char *resource, const char *level, unsigned *bits)
{
	int i;

	for (i = 0; i < td_pat_resources_count; i++) {
		if (strcmp(resource, resources[i].name) != 0)
			continue;
		if (strcmp(level, "write") == 0)
			*bits = resources[i].read | resources[i].write;	/* write implies read */
		else if (strcmp(level, "read") == 0)
			*bits = resources[i].read;
		else
			return -1;
		return 0;
	}
	return -1;
}

int
td_pat_apply_change(struct td_pat *p, const struct td_pat_change *ch, struct td_core_error *err)
{
	const char *msg = NULL;
	size_t i;

	if (ch->name.s == NULL || ch->name.len == 0)
		FAIL(TD_ERR_MISSING, "name", "can't be blank");
	if (td_text_check(&ch->name, TD_NAME_MAX, &msg) != 0)
		FAIL(TD_ERR_INVALID, "name", msg);
	td_text_copy(&ch->name, p->name, sizeof(p->name));
	p->full = ch->full;
	if (p->full) {
		p->all_spaces = 1;
		p->nspaces = 0;
		p->scopes = TD_SCOPE_ALL;
	} else {
		if (!ch->has_spaces)
			FAIL(TD_ERR_MISSING, "spaces", "can't be blank");
		if (!ch->all_spaces && ch->nspaces == 0)
			FAIL(TD_ERR_INVALID, "spaces", "must be \"all\" or a non-empty array of space ids");
		if (ch->nspaces > TD_PAT_SPACES_MAX)
			FAIL(TD_ERR_INVALID, "spaces", "is too long (maximum is 256 spaces)");
		for (i = 0; i < ch->nspaces; i++) {
			if (ch->spaces[i] < 1 || ch->spaces[i] > TD_ID_MAX)
				FAIL(TD_ERR_INVALID, "spaces",
				     "must be \"all\" or a non-empty array of space ids");
			p->spaces[i] = ch->spaces[i];
		}
		p->all_spaces = ch->all_spaces;
		p->nspaces = ch->all_spaces ? 0 : (int)ch->nspaces;
		if (!ch->has_scopes)
			FAIL(TD_ERR_MISSING, "scopes", "can't be blank");
		if (ch->scopes == 0 || (ch->scopes & ~(unsigned)TD_SCOPE_ALL) != 0)
			FAIL(TD_ERR_INVALID, "scopes", "must grant at least one scope");
		p->scopes = ch->scopes;
	}
	if (ch->has_expires && td_time_parse(&ch->expires_at, &p->expires_at, &msg) != 0)
		FAIL(TD_ERR_INVALID, "expires_at", msg);
	if (ch->has_cidrs && td_cidrs_apply(&ch->allowed_cidrs, &p->allowed_cidrs, &msg) != 0)
		FAIL(TD_ERR_INVALID, "allowed_cidrs", msg);
	return 0;
}
