/*
 * The account of learned addresses (learned.h): per container, an
 * array of (key, until), searched linearly. Bounded by the per
 * container limit, and a lookup's answer carries at most 64 addresses:
 * a few thousand comparisons of 24 bytes per answer at the bound.
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
	free(c);
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

static bool
same_key(const struct learned_key *a, const struct learned_key *b)
{
	return a->name_id == b->name_id && a->family == b->family &&
	       memcmp(a->addr, b->addr, a->family == RULES_FAMILY_IPV6 ? 16 : 4) == 0;
}

int
learned_note(struct learned *l, const char *id, const struct learned_key *k, int64_t need_ms,
	     int64_t grant_ms, int64_t now_ms, struct learned_key *evicted, bool *ret_evicted)
{
	struct lct *c = lct_find(l, id);
	size_t i, w, first = 0;

	*ret_evicted = false;
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL || strlen(id) > RULES_ID_MAX) {
			free(c);
			return -ENOMEM;
		}
		strcpy(c->id, id);
		if (tsearch(c, &l->by_id, lct_cmp) == NULL) {
			free(c);
			return -ENOMEM;
		}
	}
	for (i = w = 0; i < c->n; i++)
		if (c->v[i].until_ms > now_ms)
			c->v[w++] = c->v[i];
	c->n = w;
	for (i = 0; i < c->n; i++) {
		if (!same_key(&c->v[i].k, k))
			continue;
		if (c->v[i].until_ms >= need_ms)
			return LEARNED_KEEP;
		c->v[i].until_ms = grant_ms;
		return LEARNED_OPEN;
	}
	if (c->n == l->max) {
		for (i = 1; i < c->n; i++)
			if (c->v[i].until_ms < c->v[first].until_ms)
				first = i;
		*evicted = c->v[first].k;
		*ret_evicted = true;
		c->v[first] = (struct lentry){*k, grant_ms};
		return LEARNED_OPEN;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct lentry *v = reallocarray(c->v, cap, sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = (struct lentry){*k, grant_ms};
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
