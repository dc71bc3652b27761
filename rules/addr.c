/*
 * Strict destinations: IPv4 addresses and CIDR prefixes here, IPv6 in
 * addr6.c. inet_aton() is no use here: it takes "10.1", "0x0a.0.0.1"
 * and "010.0.0.1" (octal), each meaning something other than what a
 * person reading the rule would assume.
 */

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules_int.h"

const struct rules_addr_use rules_dest_use = {
	.code = "invalid_destination",
	.field = "destination",
	.label = "destination",
	.hint = "expected an IPv4 or IPv6 address or network such as \"203.0.113.10\", "
		"\"10.0.0.0/8\" or \"2001:db8::/32\", or a host name such as \"api.stripe.com\"",
	.port = "a port is not part of the destination; give it in destination_port",
	.zone = ": a rule names a destination, not an interface",
	.mapped = ": IPv4 packets are matched by IPv4 destinations",
	.prefix = true,
};

/* How reading the dotted quad at the start of the address part went. */
enum quad {
	QUAD_OK,
	QUAD_TRAILING,	/* four octets, then more characters */
	QUAD_SHORT,	/* fewer than four octets */
	QUAD_MALFORMED, /* an empty octet or a stray character */
	QUAD_RANGE,	/* an octet over 255 */
	QUAD_ZEROS,	/* an octet with a leading zero */
	QUAD_MAX,
};

static const char *const quad_why[QUAD_MAX] = {
	[QUAD_TRAILING] = "unexpected characters after the address",
	[QUAD_SHORT] = "short forms are not accepted; write all four octets",
	[QUAD_MALFORMED] = "malformed address",
	[QUAD_RANGE] = "octets are 0-255",
	[QUAD_ZEROS] = "leading zeros are not accepted (they read as octal elsewhere)",
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static enum quad
read_quad(const char *s, size_t len, uint32_t *ret_addr)
{
	uint32_t addr = 0;
	size_t i = 0;
	int k;

	for (k = 0; k < 4; k++) {
		unsigned v = 0;
		size_t start;

		if (k > 0) {
			if (i == len)
				return QUAD_SHORT;
			if (s[i] != '.')
				return QUAD_MALFORMED;
			i++;
		}
		start = i;
		for (; i < len && is_digit(s[i]); i++)
			if (v <= 255)
				v = v * 10 + (unsigned)(s[i] - '0');
		if (i == start)
			return QUAD_MALFORMED;
		if (s[start] == '0' && i - start > 1)
			return QUAD_ZEROS;
		if (v > 255)
			return QUAD_RANGE;
		addr = addr << 8 | v;
	}
	if (i < len)
		return QUAD_TRAILING;
	*ret_addr = addr;
	return QUAD_OK;
}

bool
rules_quad_read(const char *s, size_t len, uint32_t *ret_addr)
{
	return read_quad(s, len, ret_addr) == QUAD_OK;
}

/* An octet spelt "0x..": say so rather than "malformed". */
static bool
has_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++)
		if ((i == 0 || s[i - 1] == '.') && s[i] == '0' &&
		    (s[i + 1] == 'x' || s[i + 1] == 'X'))
			return true;
	return false;
}

static bool
has_letter(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (isalpha((unsigned char)s[i]))
			return true;
	return false;
}

int
rules_addr_refuse(const struct rules_addr_use *u, struct rules_error *reterr, const char *q,
		  const char *why)
{
	return rules_error_set(reterr, u->code, u->field, "%s %s: %s; %s", u->label, q, why,
			       u->hint);
}

const char *
rules_addr_suggest(const struct rules_addr_use *u, char buf[RULES_DEST_STRLEN])
{
	if (!u->prefix)
		buf[strcspn(buf, "/")] = '\0';
	return buf;
}

const char *
rules_prefix_read(const char *p, unsigned max, unsigned *ret_plen)
{
	bool v6 = max > 32;
	unsigned v = 0;
	size_t i;

	if (*p == '\0')
		return "missing prefix length after \"/\"";
	for (i = 0; p[i] != '\0'; i++) {
		if (!is_digit(p[i]))
			return v6 ? "the prefix length must be a decimal number 0-128"
				  : "the prefix length must be a decimal number 0-32";
		if (v <= max)
			v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (p[0] == '0' && i > 1)
		return "leading zeros in the prefix length are not accepted";
	if (v > max)
		return v6 ? "the prefix length is over 128" : "the prefix length is over 32";
	*ret_plen = v;
	return NULL;
}

/*
 * One colon is no IPv6 address (that takes two at least): most likely
 * a port or a host name written where only the address belongs.
 */
static int
refuse_one_colon(const struct rules_addr_use *u, struct rules_error *reterr, const char *q,
		 const char *s)
{
	size_t n = strcspn(s, ":");
	uint32_t addr;

	if (read_quad(s, n, &addr) == QUAD_OK)
		return rules_addr_refuse(u, reterr, q, u->port);
	if (has_letter(s, n) && u->prefix)
		return rules_addr_refuse(
			u, reterr, q, "a port is not part of a name; give it in destination_port");
	if (has_letter(s, n))
		return rules_addr_refuse(u, reterr, q,
					 "hostnames are not accepted; resolve it first, the "
					 "firewall takes numeric addresses only");
	return rules_addr_refuse(u, reterr, q, "malformed address");
}

int
rules_addr_parse(const char *s, const struct rules_addr_use *u, struct rules_rule *ret,
		 struct rules_error *reterr)
{
	char q[RULES_QUOTE_SIZE], canon[19];
	const char *slash, *why, *p, *colon;
	unsigned plen = 32;
	uint32_t addr, mask;
	enum quad r;
	size_t alen;

	rules_quote(s, q);
	if (*s == '\0')
		return rules_addr_refuse(u, reterr, q, "empty");
	for (p = s; *p != '\0'; p++)
		if (isspace((unsigned char)*p))
			return rules_addr_refuse(u, reterr, q, "whitespace is not accepted");
	if (!u->prefix && strchr(s, '/') != NULL)
		return rules_addr_refuse(u, reterr, q, "a prefix; give one address");
	colon = strchr(s, ':');
	if (colon != NULL && strchr(colon + 1, ':') == NULL)
		return refuse_one_colon(u, reterr, q, s);
	if (colon != NULL)
		return rules_addr6_parse(s, u, ret, reterr);
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (has_hex(s, alen))
		return rules_addr_refuse(u, reterr, q, "hexadecimal octets are not accepted");
	r = read_quad(s, alen, &addr);
	if (r != QUAD_OK && r != QUAD_TRAILING && has_letter(s, alen))
		return rules_addr_refuse(u, reterr, q,
					 "hostnames are not accepted; resolve it first, the "
					 "firewall takes numeric addresses only");
	if (r != QUAD_OK)
		return rules_addr_refuse(u, reterr, q, quad_why[r]);
	if (slash != NULL) {
		why = rules_prefix_read(slash + 1, 32, &plen);
		if (why != NULL)
			return rules_addr_refuse(u, reterr, q, why);
	}
	/* a shift by 32 is undefined, so /0 gets its mask spelt out */
	mask = plen == 0 ? 0 : UINT32_MAX << (32 - plen);
	if ((addr & ~mask) != 0)
		return rules_error_set(reterr, u->code, u->field,
				       "%s %s: host bits set; did you mean \"%s\"?", u->label, q,
				       rules_cidr_format(addr & mask, (uint8_t)plen, canon));
	ret->family = RULES_FAMILY_IPV4;
	ret->daddr = addr;
	memset(ret->daddr6, 0, sizeof(ret->daddr6));
	ret->plen = (uint8_t)plen;
	return 0;
}

/*
 * A name has a letter, or a "*" or "_" to refuse in a name's words;
 * never a colon (IPv6, or a port) or an octet spelt in hexadecimal,
 * which the address parser explains better.
 */
static bool
name_like(const char *s)
{
	size_t n = strcspn(s, "/"), i;
	enum quad q;
	uint32_t addr;

	if (strchr(s, ':') != NULL || has_hex(s, n))
		return false;
	/* "10.0.0.1x" is an address with junk after it, not a name */
	q = read_quad(s, n, &addr);
	if (q == QUAD_OK || q == QUAD_TRAILING)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '_' || (unsigned char)s[i] >= 0x80)
			return true;
	return has_letter(s, n);
}

int
rules_dest_parse(const char *s, struct rules_rule *ret, struct rules_error *reterr)
{
	if (name_like(s))
		return rules_dname_parse(s, ret, reterr);
	return rules_addr_parse(s, &rules_dest_use, ret, reterr);
}

char *
rules_cidr_format(uint32_t daddr, uint8_t plen, char buf[19])
{
	/* buf fits "/32" at most; a longer prefix is a caller bug, kept in bounds */
	unsigned len = plen <= 32 ? plen : 32;

	snprintf(buf, 19, "%u.%u.%u.%u/%u", daddr >> 24, (daddr >> 16) & 0xff, (daddr >> 8) & 0xff,
		 daddr & 0xff, len);
	return buf;
}

const char *
rules_dest_format(const struct rules_rule *r, char buf[RULES_DEST_STRLEN])
{
	if (r->dname != NULL)
		return r->dname;
	if (r->family == RULES_FAMILY_IPV6)
		return rules_cidr6_format(r->daddr6, r->plen, buf);
	return rules_cidr_format(r->daddr, r->plen, buf);
}

char *
rules_address_format(const struct rules_address *a, char buf[RULES_DEST_STRLEN])
{
	if (a->family == RULES_FAMILY_IPV6)
		rules_cidr6_format(a->addr, 128, buf);
	else
		rules_cidr_format((uint32_t)a->addr[0] << 24 | (uint32_t)a->addr[1] << 16 |
					  (uint32_t)a->addr[2] << 8 | a->addr[3],
				  32, buf);
	buf[strcspn(buf, "/")] = '\0';
	return buf;
}

bool
rules_dest_equal(const struct rules_rule *a, const struct rules_rule *b)
{
	if (a->dname != NULL || b->dname != NULL)
		return a->dname != NULL && b->dname != NULL && strcmp(a->dname, b->dname) == 0;
	return a->family == b->family && a->plen == b->plen && a->daddr == b->daddr &&
	       memcmp(a->daddr6, b->daddr6, sizeof(a->daddr6)) == 0;
}
