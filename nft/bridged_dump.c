/*
 * Reading the bridged path back (see bridged.c): the bridge table, its
 * set and chains and their rules, the inet chain bridged, and each
 * bridged container's chain b_<id>. Anything that is not exactly what
 * the layout makes is damage; the table's own parts are mended only by
 * building the table afresh (apply.c), which a tamper alone calls for.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/dump_int.h"

/* The bridge table, when it is ours. */
static int
btable_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (t == NULL || nftnl_table_nlmsg_parse(nlh, t) < 0) {
		d->err = -ENOMEM;
		goto out;
	}
	d->st->btable = layout_table_ours(t);
	d->st->btable_foreign = !d->st->btable;
out:
	if (t != NULL)
		nftnl_table_free(t);
	return MNL_CB_OK;
}

static void
bdamage(struct dump *d, const char *what, const char *name)
{
	state_base_damage(d->st, "the bridge table's %s %s is not ours", what, name);
	d->st->btable_damaged = true;
}

void
bridged_set_seen(struct dump *d, const struct nftnl_set *s, const char *name)
{
	int i;

	for (i = 0; i < LAYOUT_SET_MAX; i++)
		if (layout_set_family(i) == NFPROTO_BRIDGE &&
		    strcmp(name, layout_set_names[i]) == 0)
			break;
	if (i < LAYOUT_SET_MAX && layout_set_check(s, d->table, i) == 0)
		d->st->set_present[i] = true;
	else
		bdamage(d, "set", name);
}

void
bridged_chain_seen(struct dump *d, const struct nftnl_chain *ch, const char *name)
{
	int w;

	for (w = 0; w < LAYOUT_BR_MAX; w++)
		if (strcmp(name, layout_bchain_names[w]) == 0)
			break;
	if (w < LAYOUT_BR_MAX && layout_bchain_check(ch, w) == 0)
		d->bseen[w] = true;
	else
		bdamage(d, "chain", name);
}

int
bridged_read_table(struct nft_conn *c, struct dump *d)
{
	int r;

	d->family = NFPROTO_BRIDGE;
	r = request_dump(c, d, NFT_MSG_GETTABLE, NULL, btable_cb);
	d->family = 0;
	if (r == -ENOENT && d->st->exists)
		state_base_damage(d->st, "the bridge table is missing");
	return r == -ENOENT ? 0 : r;
}

void
bridged_judge_lists(struct dump *d)
{
	int w;

	for (w = 0; w < LAYOUT_BR_MAX; w++)
		if (!d->bseen[w] && d->st->btable)
			bdamage(d, "chain", layout_bchain_names[w]);
	for (w = 0; w < LAYOUT_SET_MAX; w++)
		if (layout_set_family(w) == NFPROTO_BRIDGE && !d->st->set_present[w] &&
		    d->st->btable)
			bdamage(d, "set", layout_set_names[w]);
}

/* Keep the rules of one chain as read, to be compared once all are in. */
static int
keep_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_rule **v;

	if (r == NULL || nftnl_rule_nlmsg_parse(nlh, r) < 0 ||
	    (v = reallocarray(d->rules, d->nrules + 1, sizeof(*v))) == NULL) {
		if (r != NULL)
			nftnl_rule_free(r);
		d->err = -ENOMEM;
		return MNL_CB_OK;
	}
	d->rules = v;
	d->rules[d->nrules++] = r;
	return MNL_CB_OK;
}

static void
drop_rules(struct dump *d)
{
	size_t i;

	for (i = 0; i < d->nrules; i++)
		nftnl_rule_free(d->rules[i]);
	free(d->rules);
	d->rules = NULL;
	d->nrules = 0;
}

/*
 * Read chain (of family) and compare its rules with what build(i)
 * makes: *ret_ok when they are the same, in number too.
 */
struct expect {
	struct dump *d;
	enum layout_bchain which; /* bridge table chains */
	const char *chain;	  /* b_<id> */
	const char *ifname;
	int kind; /* 0: bridge table chain, 1: bridged, 2: b_<id> */
};

static unsigned int
expected_n(const struct expect *x)
{
	switch (x->kind) {
	case 0:
		return layout_bchain_nrules(&x->d->st->opts, x->which);
	case 1:
		return LAYOUT_BRIDGED_NRULES;
	default:
		return layout_bport_nrules(&x->d->st->opts);
	}
}

static struct nftnl_rule *
expected(const struct expect *x, unsigned int i)
{
	const struct nft_options *o = &x->d->st->opts;

	switch (x->kind) {
	case 0:
		return layout_bchain_rule(x->d->table, o, x->which, i);
	case 1:
		return layout_bridged_rule(x->d->table, i);
	default:
		return layout_bport_rule(x->d->table, o, x->chain, x->ifname, i);
	}
}

static int
read_compare(struct nft_conn *c, const struct expect *x, uint8_t family, const char *chain,
	     bool *ret_ok)
{
	struct dump *d = x->d;
	size_t i;
	int r;

	d->family = family;
	r = request_dump(c, d, NFT_MSG_GETRULE, chain, keep_rule_cb);
	d->family = 0;
	/* as many as the layout makes, no more, no fewer (an apply that
	 * appended them twice), and each the one it makes */
	*ret_ok = r == 0 && d->nrules == expected_n(x);
	for (i = 0; *ret_ok && i < d->nrules; i++) {
		int e = layout_rule_check(d->rules[i], expected(x, (unsigned int)i));

		if (e == -ENOMEM)
			r = e;
		*ret_ok = e == 0;
	}
	drop_rules(d);
	return r == -ENOENT ? 0 : r;
}

/* Each chain b_<id>, for the interface that dispatches to its container's chain. */
static int
read_bchains(struct nft_conn *c, struct dump *d, const struct dispatch_index *ix)
{
	struct nft_state *st = d->st;
	size_t i;
	int r = 0;

	st->bchains = calloc(d->nbnames ? d->nbnames : 1, sizeof(*st->bchains));
	if (st->bchains == NULL)
		return -ENOMEM;
	for (i = 0; i < d->nbnames && r == 0; i++) {
		const char *id = layout_chain_container(d->bnames[i]);
		char chain4[LAYOUT_CHAIN_NAME_MAX + 1];
		struct expect x = {.d = d, .kind = 2, .chain = d->bnames[i]};
		struct nft_bchain *b = &st->bchains[st->nbchains];

		b->id = strdup(id);
		if (b->id == NULL)
			return -ENOMEM;
		st->nbchains++;
		layout_chain_name(id, chain4);
		x.ifname = elems_dispatch_ifname(ix, chain4);
		if (x.ifname != NULL)
			r = read_compare(c, &x, NFPROTO_INET, d->bnames[i], &b->ok);
	}
	if (st->nbchains > 1)
		qsort(st->bchains, st->nbchains, sizeof(*st->bchains), state_bchain_cmp);
	return r;
}

int
bridged_read_rules(struct nft_conn *c, struct dump *d, const struct dispatch_index *ix)
{
	struct nft_state *st = d->st;
	struct expect x = {.d = d, .kind = 0};
	int r = 0, w;
	bool ok;

	for (w = 0; w < LAYOUT_BR_MAX && st->btable && r == 0; w++) {
		x.which = w;
		r = read_compare(c, &x, NFPROTO_BRIDGE, layout_bchain_names[w], &ok);
		if (r == 0 && !ok)
			bdamage(d, "chain", layout_bchain_names[w]);
	}
	x.kind = 1;
	if (r == 0 && st->bridged_chain_ok)
		r = read_compare(c, &x, NFPROTO_INET, LAYOUT_BRIDGED_CHAIN, &st->bridged_chain_ok);
	if (r == 0 && !st->bridged_chain_ok)
		state_base_damage(st, "the chain %s is %s", LAYOUT_BRIDGED_CHAIN,
				  "missing or altered");
	if (r == 0)
		r = read_bchains(c, d, ix);
	return r;
}
