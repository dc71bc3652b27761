/*
 * Read the program's table back from the kernel and decode it into the
 * rules model. Nothing outside the kernel is consulted: rule ids and
 * descriptions come from rule and element userdata, interfaces from
 * the dispatch map, verdicts from the allow and deny sets. Anything
 * that is not exactly what layout.c builds marks its container damaged.
 *
 * One reading, in order: the table, its sets and chains; the interface
 * sets while a second thread starts on the container chains
 * (chains.c); the base and drop chains' rules; the verdict sets, whole
 * or key by key (fetch.c); the chains' rules into claims; then the
 * decoding (decode.c). It must all describe one generation of the
 * ruleset, or it is read again.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/dump_int.h"

#define DUMP_TRIES 5

/* Debian's uapi headers predate the set element count (kernels of 2025 on). */
#ifndef NFTA_SET_COUNT
#define NFTA_SET_COUNT 20
#endif

static int
table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (t == NULL || nftnl_table_nlmsg_parse(nlh, t) < 0) {
		d->err = -ENOMEM;
		goto out;
	}
	d->st->exists = true;
	d->st->flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
	d->st->owner = nftnl_table_get_u32(t, NFTNL_TABLE_OWNER);
	d->st->ours = layout_table_ours(t);
out:
	if (t != NULL)
		nftnl_table_free(t);
	return MNL_CB_OK;
}

/*
 * A set of a rule by name, as the layout makes it: recorded, and true.
 * One of another shape is foreign: removed, and the rule's container,
 * which then does not decode, rewritten with a new one.
 */
static bool
dset_seen(struct dump *d, const struct nftnl_set *s, const char *name)
{
	char dname[RULES_DNAME_MAX + 1];
	uint32_t id;
	uint8_t f;
	int r;

	if (!layout_dset_parse(name, &f, &id) || layout_dset_check(s, f, dname) < 0)
		return false;
	r = state_dset_add(d->st, id, f, dname);
	if (r < 0)
		d->err = r;
	return true;
}

static int
set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_set *s = nftnl_set_alloc();
	const char *name;
	int i;

	if (s == NULL || nftnl_set_nlmsg_parse(nlh, s) < 0 ||
	    !nftnl_set_is_set(s, NFTNL_SET_TABLE) || !nftnl_set_is_set(s, NFTNL_SET_NAME)) {
		d->err = s == NULL ? -ENOMEM : -EPROTO; /* a kernel names every set */
		goto out;
	}
	if (strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), d->table) != 0)
		goto out;
	name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	if (d->family == NFPROTO_BRIDGE) {
		bridged_set_seen(d, s, name);
		goto out;
	}
	if (strcmp(name, LAYOUT_DROP_SET) == 0) {
		if (layout_drop_set_check(s) == 0)
			d->st->drop_set_present = true;
		else {
			state_base_damage(d->st, "set %s has the wrong type", name);
			d->st->base_unrepairable = true;
		}
		goto out;
	}
	for (i = 0; i < 2; i++) {
		if (strcmp(name, layout_peers_name(i)) != 0)
			continue;
		if (layout_peers_set_check(s, i) == 0)
			d->st->peers_present[i] = true;
		else {
			state_base_damage(d->st, "set %s has the wrong type", name);
			d->st->base_unrepairable = true;
		}
		goto out;
	}
	for (i = 0; i < LAYOUT_SET_MAX; i++)
		if (strcmp(name, layout_set_names[i]) == 0)
			break;
	if (i == LAYOUT_SET_MAX && dset_seen(d, s, name))
		goto out;
	if (i < LAYOUT_SET_MAX) {
		const struct nlattr *a;

		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		{
			if (mnl_attr_get_type(a) == NFTA_SET_COUNT &&
			    mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
				d->count[i] = ntohl(mnl_attr_get_u32(a));
				d->has_count[i] = true;
			}
		}
		if (layout_set_check(s, d->table, i) == 0)
			d->st->set_present[i] = true;
		else {
			state_base_damage(d->st, "set %s has the wrong type", name);
			d->st->base_unrepairable = true;
		}
	} else {
		char **v = reallocarray(d->st->foreign_sets, d->st->nforeign_sets + 1, sizeof(*v));

		if (v == NULL || (v[d->st->nforeign_sets] = strdup(name)) == NULL) {
			if (v != NULL)
				d->st->foreign_sets = v;
			d->err = -ENOMEM;
			goto out;
		}
		d->st->foreign_sets = v;
		d->st->nforeign_sets++;
	}
out:
	if (s != NULL)
		nftnl_set_free(s);
	return MNL_CB_OK;
}

static int
add_foreign_chain(struct nft_state *st, const char *name)
{
	char **v = reallocarray(st->foreign_chains, st->nforeign_chains + 1, sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	st->foreign_chains = v;
	v[st->nforeign_chains] = strdup(name);
	if (v[st->nforeign_chains] == NULL)
		return -ENOMEM;
	st->nforeign_chains++;
	return 0;
}

static int
chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct dchain *v;
	const char *name;

	if (ch == NULL || nftnl_chain_nlmsg_parse(nlh, ch) < 0 ||
	    !nftnl_chain_is_set(ch, NFTNL_CHAIN_TABLE) ||
	    !nftnl_chain_is_set(ch, NFTNL_CHAIN_NAME)) {
		d->err = ch == NULL ? -ENOMEM : -EPROTO; /* a kernel names every chain */
		goto out;
	}
	/* the kernel does not filter chain dumps by table */
	if (strcmp(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), d->table) != 0)
		goto out;
	name = nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME);
	if (d->family == NFPROTO_BRIDGE) {
		bridged_chain_seen(d, ch, name);
		goto out;
	}
	if (strcmp(name, LAYOUT_DROP_CHAIN) == 0) {
		if (!nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM))
			d->st->drop_chain_present = true;
		else {
			state_base_damage(d->st, "chain %s is hooked", name);
			d->st->base_unrepairable = true;
		}
		goto out;
	}
	if (strcmp(name, LAYOUT_DNS_CHAIN) == 0) {
		if (layout_dns_chain_check(ch) == 0)
			d->st->dns_chain_present = true;
		else {
			state_base_damage(d->st, "chain %s is not hooked as it should be", name);
			d->st->base_unrepairable = true;
		}
		goto out;
	}
	if (strcmp(name, LAYOUT_BASE_CHAIN) == 0) {
		if (layout_base_chain_check(ch) == 0)
			d->st->base_chain_present = true;
		else {
			state_base_damage(d->st, "chain %s is not hooked as it should be", name);
			d->st->base_unrepairable = true;
		}
		goto out;
	}
	if (strcmp(name, LAYOUT_BRIDGED_CHAIN) == 0 &&
	    !nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM)) {
		d->st->bridged_chain_ok = true; /* until its rules say otherwise */
		goto out;
	}
	if (strncmp(name, LAYOUT_BCHAIN_PREFIX, strlen(LAYOUT_BCHAIN_PREFIX)) == 0 &&
	    layout_chain_container(name) != NULL && !nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM)) {
		char **names = reallocarray(d->bnames, d->nbnames + 1, sizeof(*names));

		if (names == NULL || (names[d->nbnames] = strdup(name)) == NULL) {
			if (names != NULL)
				d->bnames = names;
			d->err = -ENOMEM;
			goto out;
		}
		d->bnames = names;
		d->nbnames++;
		goto out;
	}
	if (layout_chain_container(name) == NULL || nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM)) {
		if (add_foreign_chain(d->st, name) < 0)
			d->err = -ENOMEM;
		goto out;
	}
	v = nft_grow(d->chains, d->nchains, &d->cap, sizeof(*v), 64);
	if (v == NULL) {
		d->err = -ENOMEM;
		goto out;
	}
	d->chains = v;
	memset(&d->chains[d->nchains], 0, sizeof(d->chains[0]));
	d->chains[d->nchains].family = layout_chain_family(name);
	d->chains[d->nchains].name = strdup(name);
	if (d->chains[d->nchains].name == NULL)
		d->err = -ENOMEM;
	else
		d->nchains++;
out:
	if (ch != NULL)
		nftnl_chain_free(ch);
	return MNL_CB_OK;
}

static int
dchain_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dchain *)a)->name, ((const struct dchain *)b)->name);
}

/*
 * The base chain's and the drop chain's few rules, checked as libnftnl
 * objects; the base chain's first says which options made them all.
 */
static int
fixed_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *chain;
	unsigned int *seen;
	bool drop;

	if (r == NULL || nftnl_rule_nlmsg_parse(nlh, r) < 0 ||
	    !nftnl_rule_is_set(r, NFTNL_RULE_CHAIN)) {
		d->err = r == NULL ? -ENOMEM : -EPROTO; /* a kernel names every rule's chain */
		goto out;
	}
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	if (strcmp(chain, LAYOUT_DNS_CHAIN) == 0) {
		if (layout_rule_check(
			    r, layout_dns_rule(d->table, &d->st->opts, d->dns_rules_seen++)) != 0)
			d->st->base_rules_ok = false;
		goto out;
	}
	drop = strcmp(chain, LAYOUT_DROP_CHAIN) == 0;
	seen = drop ? &d->drop_rules_seen : &d->base_rules_seen;
	if (!drop && *seen == 0 && layout_base_options(r, &d->st->opts) < 0)
		d->st->base_rules_ok = false;
	if ((drop ? layout_drop_rule_check(r, d->table, &d->st->opts, *seen)
		  : layout_base_rule_check(r, d->table, &d->st->opts, *seen)) != 0)
		d->st->base_rules_ok = false;
	(*seen)++;
out:
	if (r != NULL)
		nftnl_rule_free(r);
	return MNL_CB_OK;
}

static void
dump_free(struct dump *d)
{
	size_t i;

	for (i = 0; i < d->nchains; i++)
		free(d->chains[i].name);
	free(d->chains);
	for (i = 0; i < d->nbnames; i++)
		free(d->bnames[i]);
	free(d->bnames);
	free(d->conts);
	free(d->pins[0]);
	free(d->pins[1]);
	free(d->scratch);
	free(d->mine);
	region_free(&d->region);
}

/* The table's sets and chains, sorted by name for the decoding. */
static int
read_lists(struct nft_conn *c, struct dump *d)
{
	int r = request_dump(c, d, NFT_MSG_GETSET, NULL, set_cb);

	if (r == 0)
		r = request_dump(c, d, NFT_MSG_GETCHAIN, NULL, chain_cb);
	if (r == 0 && d->nchains > 1) /* qsort() takes no NULL, even for nothing */
		qsort(d->chains, d->nchains, sizeof(*d->chains), dchain_cmp);
	state_dsets_sort(d->st);
	/* the bridge table's, as far as it is ours */
	if (r == 0)
		r = bridged_read_table(c, d);
	d->family = NFPROTO_BRIDGE;
	if (r == 0 && d->st->btable)
		r = request_dump(c, d, NFT_MSG_GETSET, NULL, set_cb);
	if (r == 0 && d->st->btable)
		r = request_dump(c, d, NFT_MSG_GETCHAIN, NULL, chain_cb);
	d->family = 0;
	if (r == 0)
		bridged_judge_lists(d);
	return r;
}

/*
 * What the rest of the reading needs: a claim cache, and, when the
 * kernel counts the verdict sets' elements, room for them to be fetched
 * by key. The worker thread copies d as this leaves it.
 */
static int
prepare(struct dump *d, struct dispatch_index *ix, struct fetched *f)
{
	const struct nft_state *st = d->st;
	int r = 0;

	d->cache = layout_claim_cache_new();
	if (d->cache == NULL)
		r = -ENOMEM;
	d->fetch = st->set_present[LAYOUT_SET_ALLOW] && st->set_present[LAYOUT_SET_DENY] &&
		   d->has_count[LAYOUT_SET_ALLOW] && d->has_count[LAYOUT_SET_DENY];
	d->ix = ix;
	if (r == 0 && d->fetch)
		r = fetch_prepare(d, f);
	return r;
}

/* The interface sets, and the index of dispatch that the fetching needs. */
static int
read_interface_sets(struct nft_conn *c, struct dump *d, struct dispatch_index *ix)
{
	struct nft_state *st = d->st;
	int i, r = 0;

	for (i = 0; r == 0 && i < LAYOUT_SET_MAX; i++) {
		if (!st->set_present[i] || i == LAYOUT_SET_ALLOW || i == LAYOUT_SET_DENY)
			continue;
		if (d->has_count[i])
			r = state_elems_reserve(&st->elems[i], d->count[i]);
		d->set = i;
		if (r == 0)
			r = request_dump(c, d, NFT_MSG_GETSETELEM, NULL, elems_cb);
	}
	if (r == 0)
		r = elems_dispatch_index(st, ix);
	return r;
}

/* The base chain's rules and, with a drop log, the drop chain's. */
static int
read_fixed_rules(struct nft_conn *c, struct dump *d)
{
	const struct nft_state *st = d->st;
	int r = 0;

	if (st->base_chain_present)
		r = request_dump(c, d, NFT_MSG_GETRULE, LAYOUT_BASE_CHAIN, fixed_rule_cb);
	if (r == 0 && st->opts.log_rate > 0 && st->drop_chain_present)
		r = request_dump(c, d, NFT_MSG_GETRULE, LAYOUT_DROP_CHAIN, fixed_rule_cb);
	if (r == 0 && st->opts.dns_port != 0 && st->dns_chain_present)
		r = request_dump(c, d, NFT_MSG_GETRULE, LAYOUT_DNS_CHAIN, fixed_rule_cb);
	return r;
}

/* The verdict sets whole, where they cannot be fetched by key. */
static int
read_verdict_sets(struct nft_conn *c, struct dump *d)
{
	int i, r = 0;

	for (i = LAYOUT_SET_ALLOW; r == 0 && i <= LAYOUT_SET_DENY; i++) {
		if (!d->st->set_present[i])
			continue;
		d->set = i;
		r = request_dump(c, d, NFT_MSG_GETSETELEM, NULL, elems_cb);
	}
	return r;
}

static int
learned_cb(const struct raw_elem *re, void *data)
{
	struct nft_dset *ds = data;
	size_t len = ds->family == RULES_FAMILY_IPV6 ? 16 : 4;
	struct nft_learned *v;

	/* an element we could not have written is left for the agent to ignore */
	if (re == NULL || re->key_len != len || !re->has_timeout)
		return 0;
	v = nft_grow(ds->learned, ds->nlearned, &ds->learned_cap, sizeof(*v), 8);
	if (v == NULL)
		return -ENOMEM;
	ds->learned = v;
	memset(&v[ds->nlearned], 0, sizeof(*v));
	v[ds->nlearned].family = ds->family;
	memcpy(v[ds->nlearned].addr, re->key, len);
	v[ds->nlearned].ms_left = re->expiration;
	ds->nlearned++;
	return 0;
}

struct learned_read {
	struct nft_dset *ds;
	int err;
};

static int
learned_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct learned_read *lr = data;
	int r = raw_elems_foreach(nlh, learned_cb, lr->ds);

	if (r < 0)
		lr->err = r;
	return MNL_CB_OK;
}

/* What the sets of rules by name hold, and for how long yet. */
static int
read_learned(struct nft_conn *c, struct nft_state *st)
{
	size_t i;
	int r = 0;

	for (i = 0; i < st->ndsets && r == 0; i++) {
		NFT_MSG_ALIGNED char buf[NFT_REQ_BUF] = {0};
		struct learned_read lr = {.ds = &st->dsets[i]};
		char name[LAYOUT_DSET_NAME_MAX];

		layout_dset_name(lr.ds->family, lr.ds->name_id, name);
		r = nft_conn_dump(c, request_set_elems(c, buf, NFPROTO_INET, name, NLM_F_DUMP),
				  learned_msg_cb, &lr);
		if (r == 0)
			r = lr.err;
	}
	return r;
}

/* Say what is wrong with the table's own objects, now that all are read. */
static void
judge_base(const struct dump *d)
{
	struct nft_state *st = d->st;
	int i;

	if (!st->base_chain_present || d->base_rules_seen != layout_base_nrules(&st->opts))
		st->base_rules_ok = false;
	if (st->opts.log_rate > 0 && (!st->drop_chain_present || !st->drop_set_present ||
				      d->drop_rules_seen != LAYOUT_DROP_NRULES)) {
		state_base_damage(st, "the drop log is %s",
				  st->drop_chain_present ? "altered" : "missing");
		st->base_rules_ok = false;
	}
	if (st->opts.dns_port != 0 &&
	    (!st->dns_chain_present || d->dns_rules_seen != LAYOUT_DNS_NRULES ||
	     !st->peers_present[0] || !st->peers_present[1])) {
		state_base_damage(st, "the resolver's redirect is %s",
				  st->dns_chain_present ? "altered" : "missing");
		st->base_rules_ok = false;
	}
	if (st->base_damage[0] == '\0' && !st->base_rules_ok)
		snprintf(st->base_damage, sizeof(st->base_damage), "the base chain is %s",
			 st->base_chain_present ? "altered" : "missing");
	for (i = 0; i < LAYOUT_SET_MAX; i++)
		if (!st->set_present[i])
			state_base_damage(st, "set %s is missing", layout_set_names[i]);
}

/*
 * Everything read must describe one generation of the ruleset, or of a
 * table that no other commit could change: -EAGAIN when not.
 */
static int
same_generation(struct nft_conn *c, struct nft_state *st, bool owned)
{
	uint32_t genid_after;
	int r = nft_conn_genid(c, &genid_after);

	if (r == 0 && genid_after != st->genid && owned) {
		st->others = genid_after - st->genid;
		st->genid = genid_after; /* what it read holds in this one too */
	} else if (r == 0 && genid_after != st->genid) {
		r = -EAGAIN;
	}
	return r;
}

static int
dump_once(struct nft_conn *c, const struct rules_set *want, struct nft_state *st)
{
	struct gate ix_ready = GATE_INIT;
	struct dump d = {.st = st, .table = c->table, .want = want, .ix_ready = &ix_ready};
	struct fetched fetched = {0};
	struct dispatch_index ix = {0};
	struct worker w = {0};
	atomic_size_t next = 0;
	bool owned = false;
	int r, r2;

	r = nft_conn_genid(c, &st->genid);
	if (r < 0)
		return r;
	r = request_dump(c, &d, NFT_MSG_GETTABLE, NULL, table_cb);
	/* no table: an empty state, but a bridge table left without it
	 * must be known, to be replaced (or refused if not ours) */
	if (r == -ENOENT)
		return bridged_read_table(c, &d);
	if (r < 0)
		goto out;
	st->base_rules_ok = true;
	/* Only the owner's socket can change an owned table: other commits
	 * move the generation and mark dumps interrupted, but this one holds
	 * still (our own commits wait for the reading: one thread, one lock). */
	owned = state_owned_by(st, c);
	c->intr_ok = owned;
	r = read_lists(c, &d);
	if (r < 0)
		goto out;
	r = prepare(&d, &ix, &fetched);
	if (r == 0)
		chains_start(c, &d, &next, &w);
	if (r == 0)
		r = read_interface_sets(c, &d, &ix);
	chains_index_ready(&ix_ready, r == 0);
	if (r == 0)
		r = read_fixed_rules(c, &d);
	if (r == 0)
		r = bridged_read_rules(c, &d, &ix);
	if (r == 0 && !d.fetch)
		r = read_verdict_sets(c, &d);
	if (r == 0)
		r = chains_dump(c, &d, &next);
	else
		atomic_store(&next, d.nchains); /* the worker stops too */
	r2 = chains_join(c, &w);
	if (r == 0)
		r = r2;
	if (r == 0 && d.fetch)
		r = fetch_settle(c, &d, &fetched);
	if (r < 0)
		goto out;
	if (want == NULL)
		r = read_learned(c, st);
	if (r < 0)
		goto out;
	judge_base(&d);
	r = decode_containers(&d);
	if (r == 0)
		r = same_generation(c, st, owned);
out:
	c->intr_ok = false;
	if (r == -EINTR)
		r = -EAGAIN; /* a commit interrupted a dump: read again */
	layout_claim_cache_free(d.cache);
	region_free(&w.d.region); /* the worker's chains were decoded above */
	elems_dispatch_index_free(&ix);
	fetch_free(&fetched);
	dump_free(&d);
	return r;
}

int
nft_dump(struct nft_conn *c, const struct rules_set *want, struct nft_state **ret,
	 struct nft_error *reterr)
{
	struct nft_state *st = NULL;
	int r = -EAGAIN, tries;

	memset(reterr, 0, sizeof(*reterr));
	for (tries = 0; tries < DUMP_TRIES && r == -EAGAIN; tries++) {
		nft_state_free(st);
		st = calloc(1, sizeof(*st));
		if (st == NULL) {
			r = -ENOMEM;
			break;
		}
		r = dump_once(c, want, st);
	}
	if (r < 0) {
		nft_state_free(st);
		reterr->err = r;
		snprintf(reterr->what, sizeof(reterr->what), "dump table");
		if (r == -EAGAIN)
			snprintf(reterr->detail, sizeof(reterr->detail),
				 "the ruleset kept changing while it was read");
		return r;
	}
	st->reads = (unsigned int)tries;
	*ret = st;
	return 0;
}
