/*
 * What this process last committed to its table, per container: the
 * interface, the tag block and, per tag, its verdict set and the
 * identity of the rule it stands for. It is what lets nft_put() change
 * one container with a transaction of that container's size, without a
 * dump of the other ten thousand. Rules themselves are not kept: the
 * caller holds them once already.
 */

#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft/nft_int.h"

static int
by_id_cmp(const void *a, const void *b)
{
	return strcmp(((const struct model_ct *)a)->id, ((const struct model_ct *)b)->id);
}

static int
by_ifname_cmp(const void *a, const void *b)
{
	return strcmp(((const struct model_ct *)a)->ifname, ((const struct model_ct *)b)->ifname);
}

int
nft_model_new(struct nft_model **ret)
{
	struct nft_model *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return -ENOMEM;
	*ret = m;
	return 0;
}

static void
nop_free(void *p)
{
	(void)p;
}

void
model_clear(struct nft_model *m)
{
	/* by_ifname holds the same nodes: only by_id frees them */
	tdestroy(m->by_ifname, nop_free);
	tdestroy(m->by_id, free);
	m->by_ifname = NULL;
	m->by_id = NULL;
	m->n = 0;
	m->valid = false;
	memset(m->ports_used, 0, sizeof(m->ports_used));
}

static void
port_mark(struct nft_model *m, uint16_t port, bool used)
{
	if (port == 0 || port > LAYOUT_PORT_MAX)
		return;
	if (used)
		m->ports_used[port / 8] |= (uint8_t)(1u << (port % 8));
	else
		m->ports_used[port / 8] &= (uint8_t) ~(1u << (port % 8));
}

bool
model_port_used(const struct nft_model *m, uint16_t port)
{
	return port == 0 || port > LAYOUT_PORT_MAX || (m->ports_used[port / 8] >> (port % 8)) & 1;
}

void
nft_port_ids_spent(struct nft_error *reterr)
{
	snprintf(reterr->detail, sizeof(reterr->detail),
		 "every port id is taken: at most %u containers can be attached at once",
		 LAYOUT_PORT_MAX);
}

int
model_port_alloc(const struct nft_model *m, uint16_t *ret)
{
	uint32_t p;

	for (p = 1; p <= LAYOUT_PORT_MAX; p++)
		if (!model_port_used(m, (uint16_t)p)) {
			*ret = (uint16_t)p;
			return 0;
		}
	return -ENOSPC;
}

void
nft_model_free(struct nft_model *m)
{
	if (m == NULL)
		return;
	model_clear(m);
	free(m);
}

bool
nft_model_valid(const struct nft_model *m)
{
	return m->valid;
}

static struct model_ct *
lookup(const struct nft_model *m, const char *id)
{
	struct model_ct key;
	void *const *p;

	if (strlen(id) > RULES_ID_MAX)
		return NULL;
	strcpy(key.id, id);
	p = tfind(&key, &m->by_id, by_id_cmp);
	return p ? *p : NULL;
}

const struct model_ct *
model_find(const struct nft_model *m, const char *id)
{
	return lookup(m, id);
}

bool
nft_model_bridged(const struct nft_model *m, const char *id)
{
	const struct model_ct *ct = lookup(m, id);

	return ct != NULL && ct->bridged;
}

uint32_t
nft_model_port_mark(const struct nft_model *m, const char *id, uint32_t *ret_mask)
{
	const struct model_ct *ct = lookup(m, id);

	*ret_mask = LAYOUT_MARK_FIELD;
	return ct != NULL && ct->port != 0 ? layout_port_mark(ct->port) : 0;
}

const struct model_ct *
model_find_ifname(const struct nft_model *m, const char *ifname)
{
	struct model_ct key;
	void *const *p;

	if (strlen(ifname) >= sizeof(key.ifname))
		return NULL;
	strcpy(key.ifname, ifname);
	p = tfind(&key, &m->by_ifname, by_ifname_cmp);
	return p ? *p : NULL;
}

/* FNV-1a over what decides which packets a rule's tag stands for. */
/* 64-bit FNV-1a of len bytes at p, on from h. */
static uint64_t
fnv64(uint64_t h, const void *ptr, size_t len)
{
	const uint8_t *p = ptr;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV64_BASIS 0xcbf29ce484222325ULL

uint64_t
model_rule_key(const struct rules_rule *r)
{
	uint64_t h = fnv64(FNV64_BASIS, r->id, strlen(r->id) + 1);

	h = fnv64(h, &r->family, 1);
	h = fnv64(h, &r->daddr, sizeof(r->daddr));
	h = fnv64(h, r->daddr6, sizeof(r->daddr6));
	h = fnv64(h, &r->plen, 1);
	h = fnv64(h, &r->proto, 1);
	h = fnv64(h, &r->action, 1);
	h = fnv64(h, &r->nports, 1);
	h = fnv64(h, r->ports, r->nports * sizeof(r->ports[0]));
	if (r->dname != NULL)
		h = fnv64(h, r->dname, strlen(r->dname) + 1);
	return h;
}

uint64_t
model_dname_key(const char *rule_id, const char *dname)
{
	uint64_t h = fnv64(FNV64_BASIS, rule_id, strlen(rule_id) + 1);

	return fnv64(h, dname, strlen(dname) + 1) | 1; /* never 0, which is "no name" */
}

void
model_remove(struct nft_model *m, const char *id)
{
	struct model_ct *ct = lookup(m, id);

	if (ct == NULL)
		return;
	tdelete(ct, &m->by_ifname, by_ifname_cmp);
	tdelete(ct, &m->by_id, by_id_cmp);
	port_mark(m, ct->port, false);
	free(ct);
	m->n--;
}

/*
 * Record that c is in the kernel with tags from base. On failure the
 * model no longer knows the kernel: it is marked invalid.
 */
int
model_set(struct nft_model *m, const struct rules_container *c, uint32_t base, uint16_t port,
	  const uint32_t *name_ids)
{
	size_t rules = c->nrules * sizeof(struct model_rule);
	struct model_ct *ct =
		calloc(1, sizeof(*ct) + rules + c->naddresses * sizeof(*c->addresses));
	void **p;
	size_t i;

	model_remove(m, c->id);
	if (ct == NULL)
		goto fail;
	ct->naddresses = c->naddresses;
	if (c->naddresses > 0) {
		ct->addresses = (struct rules_address *)((char *)ct->rules + rules);
		memcpy(ct->addresses, c->addresses, c->naddresses * sizeof(*c->addresses));
	}
	strcpy(ct->id, c->id);
	strcpy(ct->ifname, c->ifname);
	ct->base = base;
	ct->port = port;
	ct->bridged = c->bridged;
	ct->policy = c->policy;
	ct->has6 = layout_has_ipv6(c);
	ct->has_names = rules_container_has_names(c);
	ct->nrules = c->nrules;
	for (i = 0; i < c->nrules; i++) {
		ct->rules[i].key = model_rule_key(&c->rules[i]);
		ct->rules[i].action = c->rules[i].action;
		if (name_ids != NULL && name_ids[i] != 0) {
			ct->rules[i].name_id = name_ids[i];
			ct->rules[i].dkey = model_dname_key(c->rules[i].id, c->rules[i].dname);
		}
	}
	if (tsearch(ct, &m->by_id, by_id_cmp) == NULL)
		goto fail;
	p = tsearch(ct, &m->by_ifname, by_ifname_cmp);
	if (p == NULL || *p != ct) {
		/* out of memory, or two containers on one interface */
		tdelete(ct, &m->by_id, by_id_cmp);
		goto fail;
	}
	port_mark(m, port, true);
	m->n++;
	return 0;
fail:
	free(ct);
	m->valid = false;
	return -ENOMEM;
}

uint32_t
nft_model_name_id(const struct nft_model *m, const char *id, size_t index, const char *rule_id,
		  const char *dname)
{
	const struct model_ct *ct = model_find(m, id);

	if (ct == NULL || index >= ct->nrules ||
	    ct->rules[index].dkey != model_dname_key(rule_id, dname))
		return 0;
	return ct->rules[index].name_id;
}

int
nft_model_tag(const struct nft_model *m, const char *ifname, uint32_t tag, const char **ret_id,
	      size_t *ret_index)
{
	const struct model_ct *ct = model_find_ifname(m, ifname);

	if (ct == NULL || tag < ct->base || tag - ct->base > ct->nrules)
		return -ENOENT;
	*ret_id = ct->id;
	*ret_index = tag - ct->base;
	return 0;
}
