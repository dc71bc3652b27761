/*
 * Zero-copy views of dumped rules and set elements, read with libmnl.
 *
 * libnftnl parses every expression into an allocated object found by a
 * linear search of its expression types, which made that most of a
 * large dump's work. These views point into the received message
 * instead, and claim_cache.c checks them against templates that libnftnl
 * builds once per shape of rule.
 */

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <arpa/inet.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/nft_int.h"

static void
raw_attr_set(struct raw_attr *r, const struct nlattr *a)
{
	r->type = mnl_attr_get_type(a); /* flags such as NLA_F_NESTED masked off */
	r->len = mnl_attr_get_payload_len(a);
	r->data = mnl_attr_get_payload(a);
}

static int
parse_expr(const struct nlattr *elem, struct raw_expr *e)
{
	const struct nlattr *a, *data = NULL;

	e->name = NULL;
	e->nattrs = 0;
	mnl_attr_for_each_nested(a, elem)
	{
		if (mnl_attr_get_type(a) == NFTA_EXPR_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			e->name = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == NFTA_EXPR_DATA)
			data = a;
	}
	if (e->name == NULL)
		return -EBADMSG;
	if (data == NULL)
		return 0; /* an expression without attributes, e.g. "counter" without data */
	mnl_attr_for_each_nested(a, data)
	{
		if (e->nattrs == RAW_ATTRS_MAX)
			return -EBADMSG;
		raw_attr_set(&e->a[e->nattrs++], a);
	}
	return 0;
}

int
raw_rule_parse_head(const struct nlmsghdr *nlh, struct raw_rule *ret)
{
	const struct nlattr *a;

	/* not e[]: 3 KiB, for 100,000 rules, most never parsed */
	memset(ret, 0, offsetof(struct raw_rule, e));
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		switch (mnl_attr_get_type(a)) {
		case NFTA_RULE_TABLE:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
				return -EBADMSG;
			ret->table = mnl_attr_get_str(a);
			break;
		case NFTA_RULE_CHAIN:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
				return -EBADMSG;
			ret->chain = mnl_attr_get_str(a);
			break;
		case NFTA_RULE_HANDLE:
			if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
				return -EBADMSG;
			ret->handle = be64toh(mnl_attr_get_u64(a));
			break;
		case NFTA_RULE_USERDATA:
			ret->udata = mnl_attr_get_payload(a);
			ret->udata_len = mnl_attr_get_payload_len(a);
			break;
		case NFTA_RULE_EXPRESSIONS:
			ret->exprs = mnl_attr_get_payload(a);
			ret->exprs_len = mnl_attr_get_payload_len(a);
			break;
		}
	}
	return ret->table != NULL && ret->chain != NULL ? 0 : -EBADMSG;
}

int
raw_rule_parse_exprs(struct raw_rule *r)
{
	const char *end = (const char *)r->exprs + r->exprs_len;
	const struct nlattr *b;

	r->nexprs = 0;
	if (r->exprs == NULL)
		return 0;
	/* the nest's payload, walked as mnl_attr_for_each_nested() would */
	for (b = r->exprs; mnl_attr_ok(b, end - (const char *)b); b = mnl_attr_next(b)) {
		if (mnl_attr_get_type(b) != NFTA_LIST_ELEM || r->nexprs == RAW_EXPRS_MAX ||
		    parse_expr(b, &r->e[r->nexprs]) < 0)
			return -EBADMSG;
		r->nexprs++;
	}
	return 0;
}

int
raw_rule_parse(const struct nlmsghdr *nlh, struct raw_rule *ret)
{
	int r = raw_rule_parse_head(nlh, ret);

	return r < 0 ? r : raw_rule_parse_exprs(ret);
}

const struct raw_attr *
raw_expr_attr(const struct raw_expr *e, uint16_t type)
{
	unsigned int i;

	for (i = 0; i < e->nattrs; i++)
		if (e->a[i].type == type)
			return &e->a[i];
	return NULL;
}

uint32_t
raw_expr_u32(const struct raw_expr *e, uint16_t type)
{
	const struct raw_attr *a = raw_expr_attr(e, type);
	uint32_t v;

	if (a == NULL || a->len != sizeof(v))
		return UINT32_MAX;
	memcpy(&v, a->data, sizeof(v));
	return ntohl(v);
}

/* The value of a data attribute: a nest holding one NFTA_DATA_VALUE. */
const void *
raw_expr_value(const struct raw_expr *e, uint16_t type, uint16_t len)
{
	const struct raw_attr *a = raw_expr_attr(e, type);
	const struct nlattr *in;

	if (a == NULL || a->len < sizeof(*in))
		return NULL;
	in = a->data;
	if (!mnl_attr_ok(in, (int)a->len) || mnl_attr_get_type(in) != NFTA_DATA_VALUE ||
	    mnl_attr_get_payload_len(in) != len)
		return NULL;
	return mnl_attr_get_payload(in);
}

bool
raw_expr_is(const struct raw_expr *e, const char *name)
{
	return e != NULL && strcmp(e->name, name) == 0;
}

static int
parse_counter(const struct nlattr *expr, struct raw_elem *e)
{
	struct raw_expr x;
	unsigned int i;

	if (e->has_counter || parse_expr(expr, &x) < 0 || !raw_expr_is(&x, "counter"))
		return -EBADMSG;
	e->has_counter = true;
	for (i = 0; i < x.nattrs; i++) {
		uint64_t v;

		if (x.a[i].len != sizeof(v))
			return -EBADMSG;
		memcpy(&v, x.a[i].data, sizeof(v));
		if (x.a[i].type == NFTA_COUNTER_PACKETS)
			e->packets = be64toh(v);
		else if (x.a[i].type == NFTA_COUNTER_BYTES)
			e->bytes = be64toh(v);
	}
	return 0;
}

static int
parse_elem(const struct nlattr *elem, struct raw_elem *e)
{
	const struct nlattr *a, *b, *c;

	memset(e, 0, sizeof(*e));
	mnl_attr_for_each_nested(a, elem)
	{
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_KEY:
			/* the value must lie within the key: a dump may hold anything */
			b = mnl_attr_get_payload(a);
			if (!mnl_attr_ok(b, (int)mnl_attr_get_payload_len(a)) ||
			    mnl_attr_get_type(b) != NFTA_DATA_VALUE)
				return -EBADMSG;
			e->key = mnl_attr_get_payload(b);
			e->key_len = mnl_attr_get_payload_len(b);
			break;
		case NFTA_SET_ELEM_DATA:
			mnl_attr_for_each_nested(b, a)
			{
				if (mnl_attr_get_type(b) == NFTA_DATA_VALUE) {
					e->data = mnl_attr_get_payload(b);
					e->data_len = mnl_attr_get_payload_len(b);
				} else if (mnl_attr_get_type(b) == NFTA_DATA_VERDICT) {
					mnl_attr_for_each_nested(c, b)
					{
						if (mnl_attr_get_type(c) == NFTA_VERDICT_CODE &&
						    mnl_attr_validate(c, MNL_TYPE_U32) < 0)
							return -EBADMSG;
						if (mnl_attr_get_type(c) == NFTA_VERDICT_CODE)
							e->verdict = ntohl(mnl_attr_get_u32(c));
						else if (mnl_attr_get_type(c) ==
								 NFTA_VERDICT_CHAIN &&
							 mnl_attr_validate(
								 c, MNL_TYPE_NUL_STRING) == 0)
							e->chain = mnl_attr_get_str(c);
					}
				}
			}
			break;
		case NFTA_SET_ELEM_TIMEOUT:
			e->has_timeout = true;
			break;
		case NFTA_SET_ELEM_EXPIRATION:
			if (mnl_attr_validate(a, MNL_TYPE_U64) == 0)
				e->expiration = be64toh(mnl_attr_get_u64(a));
			break;
		case NFTA_SET_ELEM_USERDATA:
			e->udata = mnl_attr_get_payload(a);
			e->udata_len = mnl_attr_get_payload_len(a);
			break;
		case NFTA_SET_ELEM_EXPR:
			if (parse_counter(a, e) < 0)
				return -EBADMSG;
			break;
		case NFTA_SET_ELEM_EXPRESSIONS:
			/* a list of expressions: ours holds one counter */
			mnl_attr_for_each_nested(b, a)
			{
				if (parse_counter(b, e) < 0)
					return -EBADMSG;
			}
			break;
		}
	}
	return e->key != NULL ? 0 : -EBADMSG;
}

int
raw_elems_foreach(const struct nlmsghdr *nlh, int (*cb)(const struct raw_elem *e, void *data),
		  void *data)
{
	const struct nlattr *a, *b;
	struct raw_elem e;
	int r;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(b, a)
		{
			/* an element we cannot read goes to cb as NULL */
			r = cb(parse_elem(b, &e) == 0 ? &e : NULL, data);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
