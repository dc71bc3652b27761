/*
 * How one firewall differs from another, in words people and programs
 * can act on: the audit compares the kernel's with the desired one.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules_int.h"

static size_t say(rules_diff_cb cb, void *data, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static size_t
say(rules_diff_cb cb, void *data, const char *fmt, ...)
{
	char buf[RULES_DIFF_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cb(buf, data);
	return 1;
}

static const struct rules_rule *
find_rule(const struct rules_container *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (strcmp(c->rules[i].id, id) == 0)
			return &c->rules[i];
	return NULL;
}

/* The fields in which two rules with the same id differ, comma-separated. */
static void
rule_fields(const struct rules_rule *a, const struct rules_rule *b, char *buf, size_t size)
{
	const char *d[6];
	size_t n = 0, i;

	if (!rules_dest_equal(a, b))
		d[n++] = "destination";
	if (a->nports != b->nports || memcmp(a->ports, b->ports, a->nports * sizeof(a->ports[0])))
		d[n++] = "destination_port";
	if (a->proto != b->proto)
		d[n++] = "protocol";
	if (a->action != b->action)
		d[n++] = "action";
	if ((a->desc == NULL) != (b->desc == NULL) ||
	    (a->desc != NULL && strcmp(a->desc, b->desc) != 0))
		d[n++] = "description";
	if (a->expires_at != b->expires_at)
		d[n++] = "expires_at";
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", d[i]);
}

/* Whether c holds a (lists are short: RULES_ADDRESSES_MAX). */
static bool
has_address(const struct rules_container *c, const struct rules_address *a)
{
	size_t i;

	for (i = 0; i < c->naddresses; i++)
		if (c->addresses[i].family == a->family &&
		    memcmp(c->addresses[i].addr, a->addr, sizeof(a->addr)) == 0)
			return true;
	return false;
}

/* The addresses one side has and the other lacks, each a sentence. */
static size_t
address_diff(const struct rules_container *one, const struct rules_container *other,
	     const char *what, rules_diff_cb cb, void *data)
{
	char buf[RULES_DEST_STRLEN];
	size_t i, n = 0;

	for (i = 0; i < one->naddresses; i++)
		if (!has_address(other, &one->addresses[i]))
			n += say(cb, data, "address %s: %s",
				 rules_address_format(&one->addresses[i], buf), what);
	return n;
}

size_t
rules_container_diff(const struct rules_container *want, const struct rules_container *have,
		     rules_diff_cb cb, void *data)
{
	char fields[96];
	size_t i, n = 0;

	if (strcmp(want->ifname, have->ifname) != 0)
		n += say(cb, data, "interface: desired %s, enforced %s",
			 want->ifname[0] ? want->ifname : "none",
			 have->ifname[0] ? have->ifname : "none");
	n += address_diff(want, have, "desired, not enforced", cb, data);
	n += address_diff(have, want, "enforced, not desired", cb, data);
	if (want->policy != have->policy)
		n += say(cb, data, "default_action: desired %s, enforced %s",
			 rules_action_name(want->policy), rules_action_name(have->policy));
	for (i = 0; i < want->nrules; i++) {
		const struct rules_rule *w = &want->rules[i], *h = find_rule(have, w->id);

		if (h == NULL) {
			n += say(cb, data, "rule %s: desired, not enforced", w->id);
			continue;
		}
		rule_fields(w, h, fields, sizeof(fields));
		if (fields[0] != '\0')
			n += say(cb, data, "rule %s: enforced with another %s", w->id, fields);
	}
	for (i = 0; i < have->nrules; i++)
		if (find_rule(want, have->rules[i].id) == NULL)
			n += say(cb, data, "rule %s: enforced, not desired", have->rules[i].id);
	return n;
}
