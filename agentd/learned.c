/*
 * The account of learned addresses (learned.h): per container, an
 * array of (key, until) with an open-addressing index over it. Entries
 * past their time stay until the container reaches its bound (a lookup
 * treats them as closed), and are swept then, before the first to close
 * is evicted: an answer costs its addresses' hash lookups, and a sweep
 * of the container's entries only at the bound.
 */

#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/learned.h"
#include "rules/rules.h"

struct lentry {
	struct learned_key k;
	int64_t until_ms;
};

struct lct {
	char id[RULES_ID_MAX + 1];
	struct lentry *v;
	size_t n, cap;
	uint32_t *slots; /* index + 1 of an entry, 0: free; nslots a power of 2 */
	size_t nslots;
};

struct learned {
	void *by_id; /* tsearch tree of struct lct */
	size_t max;
};

static int
lct_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lct *)a)->id, ((const struct lct *)b)->id);
}

static void
lct_free(void *p)
{
	struct lct *c = p;

	free(c->v);
	free(c->slots);
	free(c);
}

static size_t
key_len(const struct learned_key *k)
{
	return k->family == RULES_FAMILY_IPV6 ? 16 : 4;
}

static uint32_t
key_hash(const struct learned_key *k)
{
	uint32_t h = 2166136261u ^ k->family;
	size_t i;

	for (i = 0; i < 4; i++) {
		h ^= (k->name_id >> (8 * i)) & 0xff;
		h *= 16777619u;
	}
	for (i = 0; i < key_len(k); i++) {
		h ^= k->addr[i];
		h *= 16777619u;
	}
	return h;
}

static bool
same_key(const struct learned_key *a, const struct learned_key *b)
{
	return a->name_id == b->name_id && a->family == b->family &&
	       memcmp(a->addr, b->addr, key_len(a)) == 0;
}

/* The slot of k: where it is, or the free one where it would go. */
static size_t
slot_of(const struct lct *c, const struct learned_key *k)
{
	size_t mask = c->nslots - 1, i = key_hash(k) & mask;

	while (c->slots[i] != 0 && !same_key(&c->v[c->slots[i] - 1].k, k))
		i = (i + 1) & mask;
	return i;
}

/* Index the entries anew, in a table at least twice their room. */
static int
reindex(struct lct *c)
{
	size_t n = 16, i;
	uint32_t *slots;

	while (n < 2 * c->cap)
		n *= 2;
	slots = calloc(n, sizeof(*slots));
	if (slots == NULL)
		return -ENOMEM;
	free(c->slots);
	c->slots = slots;
	c->nslots = n;
	for (i = 0; i < c->n; i++)
		c->slots[slot_of(c, &c->v[i].k)] = (uint32_t)i + 1;
	return 0;
}

/* Drop the entries past their time. */
static int
sweep(struct lct *c, int64_t now_ms)
{
	size_t i, w;

	for (i = w = 0; i < c->n; i++)
		if (c->v[i].until_ms > now_ms)
			c->v[w++] = c->v[i];
	if (w == c->n)
		return 0;
	c->n = w;
	return reindex(c);
}

struct learned *
learned_new(size_t max)
{
	struct learned *l = calloc(1, sizeof(*l));

	if (l != NULL)
		l->max = max > 0 ? max : 1;
	return l;
}

void
learned_free(struct learned *l)
{
	if (l == NULL)
		return;
	tdestroy(l->by_id, lct_free);
	free(l);
}

static struct lct *
lct_find(const struct learned *l, const char *id)
{
	struct lct key;
	void *const *p;

	if (strlen(id) > RULES_ID_MAX)
		return NULL;
	strcpy(key.id, id);
	p = tfind(&key, &l->by_id, lct_cmp);
	return p != NULL ? *p : NULL;
}

int
learned_note(struct learned *l, const char *id, const struct learned_key *k, int64_t need_ms,
	     int64_t grant_ms, int64_t now_ms, struct learned_key *evicted, bool *ret_evicted)
{
	struct lct *c = lct_find(l, id);
	size_t i, slot, first = 0;

	*ret_evicted = false;
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL || strlen(id) > RULES_ID_MAX) {
			free(c);
			return -ENOMEM;
		}
		strcpy(c->id, id);
		if (reindex(c) < 0 || tsearch(c, &l->by_id, lct_cmp) == NULL) {
			lct_free(c);
			return -ENOMEM;
		}
	}
	slot = slot_of(c, k);
	if (c->slots[slot] != 0) {
		struct lentry *e = &c->v[c->slots[slot] - 1];

		/* past its time the kernel has closed it: open again */
		if (e->until_ms > now_ms && e->until_ms >= need_ms)
			return LEARNED_KEEP;
		e->until_ms = grant_ms;
		return LEARNED_OPEN;
	}
	if (c->n == l->max) {
		if (sweep(c, now_ms) < 0)
			return -ENOMEM;
		slot = slot_of(c, k);
	}
	if (c->n == l->max) {
		/* the first to close goes; k takes its place in the array */
		for (i = 1; i < c->n; i++)
			if (c->v[i].until_ms < c->v[first].until_ms)
				first = i;
		*evicted = c->v[first].k;
		*ret_evicted = true;
		c->v[first] = (struct lentry){*k, grant_ms};
		return reindex(c) < 0 ? -ENOMEM : LEARNED_OPEN;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct lentry *v = reallocarray(c->v, cap, sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
		if (reindex(c) < 0)
			return -ENOMEM;
		slot = slot_of(c, k);
	}
	c->v[c->n] = (struct lentry){*k, grant_ms};
	c->slots[slot] = (uint32_t)++c->n;
	return LEARNED_OPEN;
}

void
learned_forget(struct learned *l, const char *id)
{
	struct lct *c = lct_find(l, id);

	if (c == NULL)
		return;
	tdelete(c, &l->by_id, lct_cmp);
	lct_free(c);
}

size_t
learned_count(const struct learned *l, const char *id)
{
	const struct lct *c = lct_find(l, id);

	return c != NULL ? c->n : 0;
}
