/*
 * Destinations by DNS name: "api.stripe.com", or "*.github.com" for
 * every name of one or more labels under github.com (not github.com
 * itself). Host names as RFC 1123 has them: letters, digits and
 * hyphens, IDNs in their xn-- form; stored lower-case without the
 * trailing dot.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"

static bool
ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Why the label of len bytes at p is no host name label, or NULL. */
static const char *
label_why(const char *p, size_t len, bool last)
{
	size_t i;
	bool digits = true;

	if (len == 0)
		return "empty label";
	if (len > RULES_LABEL_MAX)
		return "a label is longer than 63 bytes";
	for (i = 0; i < len; i++) {
		if (p[i] == '_')
			return "underscores are not accepted in host names";
		if (p[i] == '*')
			return "\"*\" is accepted only as the whole leftmost label";
		if ((unsigned char)p[i] >= 0x80)
			return "not ASCII; give an IDN in its xn-- form";
		if (!ldh(p[i]))
			return "a label holds only letters, digits and hyphens";
		digits &= p[i] >= '0' && p[i] <= '9';
	}
	if (p[0] == '-' || p[len - 1] == '-')
		return "a label cannot start or end with a hyphen";
	if (last && digits)
		return "the last label is all digits (an address is written as one)";
	return NULL;
}

/* Why the lower-cased name n is not acceptable, or NULL. */
static const char *
name_why(const char *n)
{
	const char *p = n, *dot, *why;
	size_t len = strlen(n);

	if (len == 0)
		return "empty";
	if (strchr(n, '/') != NULL)
		return "a name takes no /prefix";
	if (len > RULES_DNAME_MAX)
		return "longer than 253 bytes";
	if (n[0] == '*') {
		if (n[1] != '.')
			return "\"*\" is accepted only as the whole leftmost label";
		p = n + 2;
		if (strchr(p, '.') == NULL)
			return "a wildcard needs two labels or more after \"*.\" (\"*.com\" is "
			       "not accepted)";
	} else if (strchr(n, '.') == NULL) {
		/* a query names a host in a domain; one label is a typo or a search-list word */
		return "a name needs two labels or more, such as \"example.com\"";
	}
	for (;; p = dot + 1) {
		dot = strchr(p, '.');
		why = label_why(p, dot ? (size_t)(dot - p) : strlen(p), dot == NULL);
		if (why != NULL || dot == NULL)
			return why;
	}
}

int
rules_dname_parse(const char *s, struct rules_rule *r, struct rules_error *reterr)
{
	char q[RULES_QUOTE_SIZE];
	const char *why;
	size_t len = strlen(s), i;
	char *n;

	/* the root's dot: "example.com." is example.com */
	if (len > 1 && s[len - 1] == '.' && s[len - 2] != '.')
		len--;
	n = strndup(s, len);
	if (n == NULL)
		return rules_error_nomem(reterr);
	for (i = 0; i < len; i++)
		if (n[i] >= 'A' && n[i] <= 'Z')
			n[i] = (char)(n[i] - 'A' + 'a');
	why = name_why(n);
	if (why != NULL) {
		free(n);
		return rules_error_set(reterr, "invalid_destination", "destination",
				       "destination %s: %s; %s", rules_quote(s, q), why,
				       rules_dest_use.hint);
	}
	free(r->dname);
	r->dname = n;
	r->family = RULES_FAMILY_IPV4;
	r->daddr = 0;
	memset(r->daddr6, 0, sizeof(r->daddr6));
	r->plen = 0;
	return 0;
}

bool
rules_container_has_names(const struct rules_container *c)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].dname != NULL)
			return true;
	return false;
}

bool
rules_dname_match(const char *pattern, const char *name)
{
	size_t pl, nl;

	if (pattern[0] != '*')
		return strcmp(pattern, name) == 0;
	/* "*.github.com": ".github.com" ends name, with a label before it */
	pl = strlen(pattern + 1);
	nl = strlen(name);
	return nl > pl && strcmp(name + nl - pl, pattern + 1) == 0;
}
