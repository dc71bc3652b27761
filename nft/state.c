/*
 * What a reading of the table found (struct nft_state): its accessors,
 * the element sets it holds and their hash index, the first reason its
 * base objects are damaged, and freeing it whole.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>

#include "nft/dump_int.h"

void
state_base_damage(struct nft_state *st, const char *fmt, ...)
{
	va_list ap;

	if (st->base_damage[0] != '\0')
		return; /* the first reason explains the rest */
	va_start(ap, fmt);
	vsnprintf(st->base_damage, sizeof(st->base_damage), fmt, ap);
	va_end(ap);
}

/* Room for n elements, where the kernel says how many a set holds. */
int
state_elems_reserve(struct nft_elems *es, size_t n)
{
	struct nft_elem *v = reallocarray(es->v, n ? n : 1, sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	region_prefault(v, n * sizeof(*v));
	es->v = v;
	es->cap = n ? n : 1;
	return 0;
}

/* Open addressing, at most half full: slot holds index + 1, 0 is empty. */
int
state_elems_index(struct nft_elems *es)
{
	size_t size = 16, i, k;

	while (size < 2 * es->n)
		size *= 2;
	es->slot = calloc(size, sizeof(*es->slot));
	if (es->slot == NULL)
		return -ENOMEM;
	es->mask = size - 1;
	for (i = 0; i < es->n; i++) {
		k = nft_hash_key(es->v[i].ifname, es->v[i].value) & es->mask;
		while (es->slot[k] != 0)
			k = (k + 1) & es->mask;
		es->slot[k] = (uint32_t)i + 1;
	}
	return 0;
}

void
state_elems_clear(struct nft_elems *es)
{
	size_t i;

	for (i = 0; i < es->n; i++) {
		free(es->v[i].chain);
		free(es->v[i].tail);
	}
	free(es->v);
	free(es->slot);
	memset(es, 0, sizeof(*es));
}

void
nft_state_free(struct nft_state *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < LAYOUT_SET_MAX; i++)
		state_elems_clear(&s->elems[i]);
	for (i = 0; i < s->nforeign_chains; i++)
		free(s->foreign_chains[i]);
	free(s->foreign_chains);
	for (i = 0; i < s->nforeign_sets; i++)
		free(s->foreign_sets[i]);
	free(s->foreign_sets);
	for (i = 0; i < s->nbchains; i++)
		free(s->bchains[i].id);
	free(s->bchains);
	for (i = 0; i < s->ndsets; i++) {
		free(s->dsets[i].dname);
		free(s->dsets[i].learned);
	}
	free(s->dsets);
	free(s->containers); /* and what they point to: */
	region_free(&s->arena);
	free(s);
}

static int
dset_cmp(const void *a, const void *b)
{
	const struct nft_dset *x = a, *y = b;

	if (x->name_id != y->name_id)
		return x->name_id < y->name_id ? -1 : 1;
	return (x->family > y->family) - (x->family < y->family);
}

int
state_dset_add(struct nft_state *st, uint32_t name_id, uint8_t family, const char *dname)
{
	struct nft_dset *v = nft_grow(st->dsets, st->ndsets, &st->dsets_cap, sizeof(*v), 16);
	char *copy = strdup(dname);

	if (v == NULL || copy == NULL) {
		if (v != NULL)
			st->dsets = v;
		free(copy);
		return -ENOMEM;
	}
	st->dsets = v;
	v[st->ndsets++] = (struct nft_dset){.name_id = name_id, .family = family, .dname = copy};
	return 0;
}

void
state_dsets_sort(struct nft_state *st)
{
	if (st->ndsets > 1)
		qsort(st->dsets, st->ndsets, sizeof(*st->dsets), dset_cmp);
}

const struct nft_dset *
state_dset(const struct nft_state *st, uint32_t name_id, uint8_t family)
{
	struct nft_dset key = {.name_id = name_id, .family = family};

	if (st->ndsets == 0)
		return NULL;
	return bsearch(&key, st->dsets, st->ndsets, sizeof(key), dset_cmp);
}

const struct nft_learned *
nft_state_learned(const struct nft_state *st, uint32_t name_id, uint8_t family, size_t *ret_n)
{
	const struct nft_dset *d = state_dset(st, name_id, family);

	*ret_n = d != NULL ? d->nlearned : 0;
	return d != NULL ? d->learned : NULL;
}

const struct nft_dset *
state_dsets_of_port(const struct nft_state *st, uint16_t port, size_t *ret_n)
{
	uint32_t first = layout_name_id(port, 0);
	size_t lo = 0, hi = st->ndsets, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->dsets[mid].name_id < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + n < st->ndsets && st->dsets[lo + n].name_id >> 16 == port)
		n++;
	*ret_n = n;
	return n > 0 ? &st->dsets[lo] : NULL;
}

bool
nft_state_table_exists(const struct nft_state *s)
{
	return s->exists;
}

bool
nft_state_table_owned(const struct nft_state *s)
{
	return s->flags & NFT_TABLE_F_OWNER;
}

bool
nft_state_table_persist(const struct nft_state *s)
{
	return s->flags & NFT_TABLE_F_PERSIST;
}

uint32_t
nft_state_genid(const struct nft_state *s)
{
	return s->genid;
}

unsigned int
nft_state_reads(const struct nft_state *s)
{
	return s->reads;
}

unsigned int
nft_state_others(const struct nft_state *s)
{
	return s->others;
}

size_t
nft_state_count(const struct nft_state *s)
{
	return s->ncontainers;
}

const struct nft_container *
nft_state_get(const struct nft_state *s, size_t i)
{
	return i < s->ncontainers ? &s->containers[i] : NULL;
}

static int
container_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct nft_container *)elem)->fw.id);
}

const struct nft_container *
nft_state_find(const struct nft_state *s, const char *id)
{
	if (s->ncontainers == 0) /* bsearch() takes no NULL, even for nothing */
		return NULL;
	return bsearch(id, s->containers, s->ncontainers, sizeof(*s->containers), container_cmp);
}

const struct nft_options *
nft_state_options(const struct nft_state *s)
{
	return &s->opts;
}

const char *
nft_state_base_damage(const struct nft_state *s)
{
	return s->base_damage;
}

int
state_bchain_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nft_bchain *)a)->id, ((const struct nft_bchain *)b)->id);
}

bool
state_bchain(const struct nft_state *st, const char *id, bool *ret_ok)
{
	struct nft_bchain key = {.id = (char *)(uintptr_t)id};
	const struct nft_bchain *b = st->nbchains ? bsearch(&key, st->bchains, st->nbchains,
							    sizeof(key), state_bchain_cmp)
						  : NULL;

	*ret_ok = b != NULL && b->ok;
	return b != NULL;
}
