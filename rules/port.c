/*
 * "destination_port" strings: "443", "8000-9000", "80,443,8000-8100".
 * Parsed strictly, then sorted and merged so that equal port sets have
 * one representation.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules_int.h"

#define PORT_HINT                                                                                  \
	"expected a port 1-65535, a range such as \"8000-9000\" or a list such as "                \
	"\"80,443,8000-8100\" of at most 16 items"

static int
refuse(struct rules_error *reterr, const char *q, const char *why)
{
	return rules_error_set(reterr, "invalid_port", "destination_port",
			       "destination_port %s: %s; " PORT_HINT, q, why);
}

/* One port at s + *i; on success *i is just past its digits. */
static int
read_port(const char *s, size_t *i, uint16_t *ret, struct rules_error *reterr, const char *q)
{
	size_t start = *i, k;
	uint32_t v = 0;

	if (s[start] == '+' || s[start] == '-')
		return refuse(reterr, q, "signs are not accepted");
	for (k = start; s[k] >= '0' && s[k] <= '9'; k++)
		if (v <= 65535)
			v = v * 10 + (uint32_t)(s[k] - '0');
	if (k == start)
		return refuse(reterr, q,
			      s[k] == '\0' || s[k] == ',' ? "a port is missing"
							  : "unexpected characters");
	/* "0x50" is junk, not port 0 */
	if (s[k] != '\0' && s[k] != ',' && s[k] != '-')
		return refuse(reterr, q, "unexpected characters");
	if (s[start] == '0' && k - start > 1)
		return refuse(reterr, q, "leading zeros are not accepted");
	if (v == 0 || v > 65535)
		return refuse(reterr, q, "ports are 1-65535");
	*i = k;
	*ret = (uint16_t)v;
	return 0;
}

/* Sort and merge n >= 1 ranges in place. */
static void
merge(struct rules_port_range *p, uint8_t *n)
{
	struct rules_port_range t;
	uint8_t i, j, out = 0;

	/* at most RULES_PORTS_MAX items: insertion sort is enough */
	for (i = 1; i < *n; i++) {
		t = p[i];
		for (j = i; j > 0 && p[j - 1].lo > t.lo; j--)
			p[j] = p[j - 1];
		p[j] = t;
	}
	for (i = 1; i < *n; i++) {
		/* 32-bit sum: hi may be 65535 */
		if ((uint32_t)p[i].lo <= (uint32_t)p[out].hi + 1) {
			if (p[i].hi > p[out].hi)
				p[out].hi = p[i].hi;
		} else {
			p[++out] = p[i];
		}
	}
	*n = out + 1;
}

int
rules_ports_parse(const char *s, struct rules_port_range ret_ports[RULES_PORTS_MAX], uint8_t *ret_n,
		  struct rules_error *reterr)
{
	struct rules_port_range p[RULES_PORTS_MAX];
	char q[RULES_QUOTE_SIZE];
	const char *c;
	uint8_t n = 0;
	size_t i = 0;
	int r;

	rules_quote(s, q);
	if (*s == '\0')
		return refuse(reterr, q, "empty");
	for (c = s; *c != '\0'; c++)
		if (isspace((unsigned char)*c))
			return refuse(reterr, q, "spaces are not accepted");
	for (;;) {
		if (s[i] == ',' || s[i] == '\0')
			return refuse(reterr, q, "empty item in the list");
		if (n == RULES_PORTS_MAX)
			return refuse(reterr, q, "more than 16 items");
		r = read_port(s, &i, &p[n].lo, reterr, q);
		if (r < 0)
			return r;
		p[n].hi = p[n].lo;
		if (s[i] == '-') {
			i++;
			r = read_port(s, &i, &p[n].hi, reterr, q);
			if (r < 0)
				return r;
			if (p[n].hi < p[n].lo)
				return rules_error_set(reterr, "invalid_port", "destination_port",
						       "destination_port %s: range %u-%u is "
						       "reversed; write the low "
						       "port first, as in \"8000-9000\"",
						       q, (unsigned)p[n].lo, (unsigned)p[n].hi);
		}
		n++;
		if (s[i] == '\0')
			break;
		if (s[i] != ',')
			return refuse(reterr, q, "unexpected characters");
		i++;
	}
	merge(p, &n);
	memcpy(ret_ports, p, n * sizeof(p[0]));
	*ret_n = n;
	return 0;
}

char *
rules_ports_format(const struct rules_rule *r, char *buf, size_t size)
{
	size_t o = 0;
	uint8_t i;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < r->nports && o < size; i++) {
		const struct rules_port_range *p = &r->ports[i];

		if (p->lo == p->hi)
			o += (size_t)snprintf(buf + o, size - o, "%s%u", i > 0 ? "," : "",
					      (unsigned)p->lo);
		else
			o += (size_t)snprintf(buf + o, size - o, "%s%u-%u", i > 0 ? "," : "",
					      (unsigned)p->lo, (unsigned)p->hi);
	}
	return buf;
}
