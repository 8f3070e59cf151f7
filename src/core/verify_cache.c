#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tokend/store/store.h"
#include "tokend/core/verify_cache.h"
#include "tokend/server/metrics.h"

struct slot {
	int64_t space_id, id;		/* id 0: empty (token ids start at 1) */
	int present;			/* else the record is absent */
	struct td_token_facts facts;
	/* owned copy of the story and release ids, then the address ranges
	 * (all 64 fit: made when the slot is filled, so a hit allocates
	 * nothing and an unbound token's slot grows by nothing); NULL when
	 * all are empty */
	void *owned;
};

struct td_verify_cache {
	struct slot *slots;
	uint64_t mask;
	int used;
};

void
td_token_facts_of(const struct td_token *t, int space_min_cache, struct td_token_facts *out)
{
	out->id = t->id;
	out->space_id = t->space_id;
	out->status = t->status;
	out->access = t->access;
	out->rights = t->rights;
	out->expires_at = t->expires_at;
	out->branch_id = t->branch_id;
	out->min_cache = td_token_effective_min_cache(t, space_min_cache);
	out->kid = t->kid;
	out->signed_kind = t->signed_kind;
	memcpy(out->secret, t->secret, TD_SECRET_BYTES);
	out->prev_expires_at_ms = t->prev_expires_at_ms;
	out->max_uses = t->max_uses;
	out->prev_kid = t->prev_kid;
	out->prev_kind = t->prev_kind;
	memcpy(out->prev_secret, t->prev_secret, TD_SECRET_BYTES);
	out->story_ids = t->story_ids.ids;
	out->nstory_ids = t->story_ids.n;
	out->release_ids = t->release_ids.ids;
	out->nrelease_ids = t->release_ids.n;
	out->cidrs = t->allowed_cidrs.r;
	out->ncidrs = t->allowed_cidrs.n;
}

static uint64_t
slot_of(const struct td_verify_cache *c, int64_t space_id, int64_t id)
{
	/* splitmix64 finaliser: token ids are sequential, spread them */
	uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ULL ^ (uint64_t)space_id;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (x ^ (x >> 31)) & c->mask;
}

static void
slot_clear(struct td_verify_cache *c, struct slot *s)
{
	if (s->id == 0)
		return;
	free(s->owned);
	OPENSSL_cleanse(s, sizeof(*s));
	c->used--;
}

struct td_verify_cache *
td_verify_cache_new(int slots)
{
	struct td_verify_cache *c = calloc(1, sizeof(*c));
	uint64_t n = 1;

	if (c == NULL || slots < 1 || slots > TD_VERIFY_CACHE_MAX)
		goto fail;
	while (n < (uint64_t)slots)
		n <<= 1;
	if ((c->slots = calloc(n, sizeof(*c->slots))) == NULL)
		goto fail;
	c->mask = n - 1;
	return c;
fail:
	free(c);
	return NULL;
}

void
td_verify_cache_free(struct td_verify_cache *c)
{
	if (c == NULL)
		return;
	td_verify_cache_clear(c);
	free(c->slots);
	free(c);
}

int
td_verify_cache_get(const struct td_verify_cache *c, int64_t space_id, int64_t id,
		    const struct td_token_facts **facts)
{
	const struct slot *s = &c->slots[slot_of(c, space_id, id)];

	if (s->id != id || s->space_id != space_id || id == 0)
		return 0;
	*facts = s->present ? &s->facts : NULL;
	return 1;
}

int
td_verify_cache_put(struct td_verify_cache *c, int64_t space_id, int64_t id,
		    const struct td_token_facts *facts)
{
	struct slot *s = &c->slots[slot_of(c, space_id, id)];
	size_t nids = 0, bytes = 0;
	int64_t *ids = NULL;
	struct td_cidr *cidrs;

	if (id == 0)
		return -1;
	if (facts != NULL) {
		nids = (size_t)facts->nstory_ids + (size_t)facts->nrelease_ids;
		bytes = nids * sizeof(*ids) + (size_t)facts->ncidrs * sizeof(*cidrs);
	}
	/* int64_t ids first: the ranges (bytes only) need no alignment after them */
	if (bytes > 0 && (ids = malloc(bytes)) == NULL)
		return -1;
	cidrs = ids != NULL ? (struct td_cidr *)(void *)(ids + nids) : NULL;
	if (nids > 0) {
		memcpy(ids, facts->story_ids, (size_t)facts->nstory_ids * sizeof(*ids));
		memcpy(ids + facts->nstory_ids, facts->release_ids,
		       (size_t)facts->nrelease_ids * sizeof(*ids));
	}
	if (facts != NULL && facts->ncidrs > 0)
		memcpy(cidrs, facts->cidrs, (size_t)facts->ncidrs * sizeof(*cidrs));
	slot_clear(c, s);
	s->space_id = space_id;
	s->id = id;
	s->present = facts != NULL;
	if (facts != NULL) {
		s->facts = *facts;
		s->owned = ids;
		s->facts.story_ids = nids > 0 ? ids : NULL;
		s->facts.release_ids = nids > 0 ? ids + facts->nstory_ids : NULL;
		s->facts.cidrs = facts->ncidrs > 0 ? cidrs : NULL;
	}
	c->used++;
	return 0;
}

void
td_verify_cache_drop(struct td_verify_cache *c, int64_t space_id, int64_t id)
{
	struct slot *s = &c->slots[slot_of(c, space_id, id)];

	if (s->id == id && s->space_id == space_id)
		slot_clear(c, s);
}

void
td_verify_cache_drop_space(struct td_verify_cache *c, int64_t space_id)
{
	uint64_t i;

	for (i = 0; i <= c->mask && c->used > 0; i++)
		if (c->slots[i].id != 0 && c->slots[i].space_id == space_id)
			slot_clear(c, &c->slots[i]);
}

void
td_verify_cache_clear(struct td_verify_cache *c)
{
	uint64_t i;

	for (i = 0; i <= c->mask && c->used > 0; i++)
		slot_clear(c, &c->slots[i]);
}

int
td_verify_cache_count(const struct td_verify_cache *c)
{
	return c->used;
}

void
td_verify_cache_invalidate(void *cache, enum td_invalidate what, int64_t space_id, int64_t id)
{
	struct td_verify_cache *c = cache;

	if (what == TD_INVALIDATE_PAT)
		return;		/* no PAT is in this cache */
	td_metric_count(what == TD_INVALIDATE_TOKEN || what == TD_INVALIDATE_SPACE
			 ? TD_M_CACHE_INVALIDATION : TD_M_CACHE_FLUSH);
	if (what == TD_INVALIDATE_TOKEN)
		td_verify_cache_drop(c, space_id, id);
	else if (what == TD_INVALIDATE_SPACE)
		td_verify_cache_drop_space(c, space_id);
	else
		td_verify_cache_clear(c);
}
