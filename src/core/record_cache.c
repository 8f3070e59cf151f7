/* The record caches (see record_cache.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tokend/core/record_cache.h"

_Static_assert((TD_PAT_CACHE_SLOTS & (TD_PAT_CACHE_SLOTS - 1)) == 0 &&
	       (TD_TOKEN_CACHE_SLOTS & (TD_TOKEN_CACHE_SLOTS - 1)) == 0,
	       "cache slots are a power of two");

struct slot {
	int64_t space_id;
	int64_t id;		/* 0: empty (ids start at 1) */
	int present;		/* else the record is absent */
	void *rec;		/* record_size bytes */
};

struct td_record_cache {
	int nslots, used;
	size_t record_size;
	struct slot *slots;
	unsigned char *records;	/* nslots * record_size */
};

static struct slot *
slot_of(const struct td_record_cache *c, int64_t id)
{
	return &c->slots[(uint64_t)id & (uint64_t)(c->nslots - 1)];
}

static void
slot_clear(struct td_record_cache *c, struct slot *s)
{
	if (s->id == 0)
		return;
	OPENSSL_cleanse(s->rec, c->record_size);	/* secrets' hashes, regeneration secrets */
	s->id = s->space_id = 0;
	s->present = 0;
	c->used--;
}

struct td_record_cache *
td_record_cache_new(int slots, size_t record_size)
{
	struct td_record_cache *c;
	int i;

	if (slots <= 0 || (slots & (slots - 1)) != 0 || record_size == 0)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->slots = calloc((size_t)slots, sizeof(*c->slots))) == NULL ||
	    (c->records = calloc((size_t)slots, record_size)) == NULL) {
		td_record_cache_free(c);
		return NULL;
	}
	c->nslots = slots;
	c->record_size = record_size;
	for (i = 0; i < slots; i++)
		c->slots[i].rec = c->records + (size_t)i * record_size;
	return c;
}

void
td_record_cache_free(struct td_record_cache *c)
{
	if (c == NULL)
		return;
	if (c->records != NULL)
		td_record_cache_clear(c);
	free(c->records);
	free(c->slots);
	free(c);
}

int
td_record_cache_get(const struct td_record_cache *c, int64_t space_id, int64_t id,
		    const void **rec)
{
	const struct slot *s = slot_of(c, id);

	if (id <= 0 || s->id != id || s->space_id != space_id)
		return 0;
	*rec = s->present ? s->rec : NULL;
	return 1;
}

void
td_record_cache_put(struct td_record_cache *c, int64_t space_id, int64_t id, const void *rec)
{
	struct slot *s = slot_of(c, id);

	if (id <= 0)
		return;
	slot_clear(c, s);
	s->space_id = space_id;
	s->id = id;
	s->present = rec != NULL;
	if (rec != NULL)
		memcpy(s->rec, rec, c->record_size);
	c->used++;
}

void
td_record_cache_drop(struct td_record_cache *c, int64_t space_id, int64_t id)
{
	struct slot *s = slot_of(c, id);

	if (id > 0 && s->id == id && s->space_id == space_id)
		slot_clear(c, s);
}

void
td_record_cache_drop_space(struct td_record_cache *c, int64_t space_id)
{
	int i;

	for (i = 0; i < c->nslots && c->used > 0; i++)
		if (c->slots[i].space_id == space_id)
			slot_clear(c, &c->slots[i]);
}

void
td_record_cache_clear(struct td_record_cache *c)
{
	int i;

	for (i = 0; i < c->nslots && c->used > 0; i++)
		slot_clear(c, &c->slots[i]);
}

int
td_record_cache_count(const struct td_record_cache *c)
{
	return c->used;
}
