/* The PAT cache (see pat_cache.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tokend/core/pat_cache.h"

_Static_assert((TD_PAT_CACHE_SLOTS & (TD_PAT_CACHE_SLOTS - 1)) == 0,
	       "TD_PAT_CACHE_SLOTS is a power of two");

struct slot {
	int64_t id;		/* 0: empty (PAT ids start at 1) */
	int present;		/* else the PAT is absent */
	struct td_pat pat;
};

struct td_pat_cache {
	struct slot slots[TD_PAT_CACHE_SLOTS];
	int used;
};

static struct slot *
slot_of(const struct td_pat_cache *c, int64_t id)
{
	return (struct slot *)&c->slots[(uint64_t)id & (TD_PAT_CACHE_SLOTS - 1)];
}

static void
slot_clear(struct td_pat_cache *c, struct slot *s)
{
	if (s->id == 0)
		return;
	OPENSSL_cleanse(s, sizeof(*s));
	c->used--;
}

struct td_pat_cache *
td_pat_cache_new(void)
{
	return calloc(1, sizeof(struct td_pat_cache));
}

void
td_pat_cache_free(struct td_pat_cache *c)
{
	if (c == NULL)
		return;
	td_pat_cache_clear(c);
	free(c);
}

int
td_pat_cache_get(const struct td_pat_cache *c, int64_t id, const struct td_pat **pat)
{
	const struct slot *s = slot_of(c, id);

	if (id <= 0 || s->id != id)
		return 0;
	*pat = s->present ? &s->pat : NULL;
	return 1;
}

void
td_pat_cache_put(struct td_pat_cache *c, int64_t id, const struct td_pat *pat)
{
	struct slot *s = slot_of(c, id);

	if (id <= 0)
		return;
	slot_clear(c, s);
	s->id = id;
	s->present = pat != NULL;
	if (pat != NULL)
		s->pat = *pat;
	c->used++;
}

void
td_pat_cache_drop(struct td_pat_cache *c, int64_t id)
{
	struct slot *s = slot_of(c, id);

	if (id > 0 && s->id == id)
		slot_clear(c, s);
}

void
td_pat_cache_clear(struct td_pat_cache *c)
{
	int i;

	for (i = 0; i < TD_PAT_CACHE_SLOTS && c->used > 0; i++)
		slot_clear(c, &c->slots[i]);
}

int
td_pat_cache_count(const struct td_pat_cache *c)
{
	return c->used;
}
