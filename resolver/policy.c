/*
 * What a container may resolve: the rules by name of its firewall,
 * deny over allow, and its default for the names no rule names.
 */

#include "resolver/resolver.h"

enum resolver_verdict
resolver_decide(const struct rules_container *c, const struct resolver_query *q, size_t *rules,
		size_t *ret_n)
{
	size_t i, n = 0;

	*ret_n = 0;
	for (i = 0; i < c->nrules; i++) {
		const struct rules_rule *r = &c->rules[i];

		if (r->dname == NULL || !rules_dname_match(r->dname, q->name))
			continue;
		if (r->action == RULES_ACTION_DENY)
			return RESOLVER_REFUSE;
		rules[n++] = i;
	}
	if (n == 0)
		return c->policy == RULES_ACTION_ALLOW ? RESOLVER_FORWARD : RESOLVER_REFUSE;
	/* allowed by name: only the addresses the rules open are there to ask for */
	if (q->qtype != RESOLVER_TYPE_A && q->qtype != RESOLVER_TYPE_AAAA)
		return RESOLVER_NODATA;
	*ret_n = n;
	return RESOLVER_FORWARD;
}
