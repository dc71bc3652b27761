/*
 * Strict IPv6 destinations: the text forms of RFC 4291 (one to four hex
 * digits a group, one "::" at most), and their canonical text (RFC
 * 5952). inet_pton() is no use here: it takes dotted-quad tails and
 * IPv4-mapped addresses, which no IPv6 packet a container sends goes
 * to, and it cannot say what was wrong.
 */

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules_int.h"

#define GROUPS 8
#define WHY_SIZE 80

static int
hex_value(char c)
{
	static const char digits[] = "0123456789abcdef";
	const char *p = c != '\0' ? strchr(digits, tolower((unsigned char)c)) : NULL;

	return p != NULL ? (int)(p - digits) : -1;
}

/* Groups read so far: those before "::" and those after it. */
struct groups {
	uint16_t g[2][GROUPS];
	unsigned n[2];
	bool gap;    /* a "::" was read: later groups go to g[1] */
	bool dotted; /* the last two groups were written as a dotted quad */
};

static bool
put(struct groups *gs, uint16_t v)
{
	if (gs->n[0] + gs->n[1] == GROUPS)
		return false;
	gs->g[gs->gap][gs->n[gs->gap]++] = v;
	return true;
}

/* The character at s[i] where a group should start or go on. */
static const char *
bad_char(const char *s, size_t i, char why[WHY_SIZE])
{
	unsigned char c = (unsigned char)s[i];

	if (c == '[' || c == ']')
		return "brackets are not accepted; write the address alone";
	if (c > 0x20 && c < 0x7f)
		snprintf(why, WHY_SIZE, "\"%c\" is not a hex digit", c);
	else
		snprintf(why, WHY_SIZE, "byte 0x%02x is not a hex digit", c);
	return why;
}

/* The groups of the len bytes at s; NULL, or why they do not read. */
static const char *
read_groups(const char *s, size_t len, struct groups *gs, char why[WHY_SIZE])
{
	size_t i = 0;

	memset(gs, 0, sizeof(*gs));
	if (len >= 2 && s[0] == ':' && s[1] != ':')
		return "an address cannot begin with a single \":\"";
	if (s[len - 1] == ':' && (len < 2 || s[len - 2] != ':'))
		return "an address cannot end with a single \":\"";
	if (memmem(s, len, ":::", 3) != NULL)
		return "three colons in a row";
	if (s[0] == ':') {
		gs->gap = true;
		i = 2;
	}
	while (i < len) {
		size_t start = i;
		unsigned v = 0;
		uint32_t quad;

		while (i < len && hex_value(s[i]) >= 0)
			v = (v << 4 | (unsigned)hex_value(s[i++])) & 0xfffff;
		if (i < len && s[i] == '.') {
			/* the last 32 bits as a dotted quad, as RFC 4291 allows */
			if (!rules_quad_read(s + start, len - start, &quad))
				return "malformed dotted-quad tail";
			if (!put(gs, (uint16_t)(quad >> 16)) || !put(gs, (uint16_t)quad))
				return "more than 8 groups";
			gs->dotted = true;
			break;
		}
		if (i == start)
			return bad_char(s, i, why);
		if (i - start > 4)
			return "a group has more than 4 hex digits";
		if (!put(gs, (uint16_t)v))
			return "more than 8 groups";
		if (i == len)
			break;
		if (s[i] != ':')
			return bad_char(s, i, why);
		if (++i < len && s[i] == ':') {
			if (gs->gap)
				return "\"::\" may appear only once";
			gs->gap = true;
			i++;
		}
	}
	if (!gs->gap && gs->n[0] < GROUPS)
		return "8 groups are needed unless \"::\" stands for the missing ones";
	/* "::" stands for one group of zeros at least */
	if (gs->gap && gs->n[0] + gs->n[1] == GROUPS)
		return "more than 8 groups";
	return NULL;
}

static void
to_bytes(const struct groups *gs, uint8_t ret[16])
{
	unsigned i, at;

	memset(ret, 0, 16);
	for (i = 0; i < gs->n[0]; i++) {
		ret[2 * i] = (uint8_t)(gs->g[0][i] >> 8);
		ret[2 * i + 1] = (uint8_t)gs->g[0][i];
	}
	at = GROUPS - gs->n[1];
	for (i = 0; i < gs->n[1]; i++) {
		ret[2 * (at + i)] = (uint8_t)(gs->g[1][i] >> 8);
		ret[2 * (at + i) + 1] = (uint8_t)gs->g[1][i];
	}
}

/* Clear the bits of a past the first plen. */
static void
mask6(uint8_t a[16], unsigned plen)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		a[i] &= plen <= 8 * i ? 0 : (uint8_t)(0xff << (8 - (plen - 8 * i)));
	}
}

/* ::ffff:0:0/96, where IPv4 addresses sit in IPv6 sockets. */
static bool
is_mapped(const uint8_t a[16])
{
	static const uint8_t head[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(a, head, sizeof(head)) == 0;
}

int
rules_addr6_parse(const char *s, const struct rules_addr_use *u, struct rules_rule *ret,
		  struct rules_error *reterr)
{
	char q[RULES_QUOTE_SIZE], why[WHY_SIZE], canon[RULES_DEST_STRLEN];
	const char *slash = strchr(s, '/'), *w;
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	uint8_t addr[16], net[16];
	unsigned plen = 128;
	struct groups gs;

	rules_quote(s, q);
	if (memchr(s, '%', alen) != NULL)
		return rules_error_set(reterr, u->code, u->field,
				       "%s %s: zone ids (\"%%...\") are not accepted%s", u->label,
				       q, u->zone);
	if (alen == 0)
		return rules_addr_refuse(u, reterr, q, "missing address before \"/\"");
	w = read_groups(s, alen, &gs, why);
	if (w != NULL)
		return rules_addr_refuse(u, reterr, q, w);
	if (slash != NULL) {
		w = rules_prefix_read(slash + 1, 128, &plen);
		if (w != NULL)
			return rules_addr_refuse(u, reterr, q, w);
	}
	to_bytes(&gs, addr);
	if (is_mapped(addr) && plen >= 96) {
		uint32_t v4 = (uint32_t)addr[12] << 24 | (uint32_t)addr[13] << 16 |
			      (uint32_t)addr[14] << 8 | addr[15];
		unsigned p4 = plen - 96;
		uint32_t m4 = p4 == 0 ? 0 : UINT32_MAX << (32 - p4);

		rules_cidr_format(v4 & m4, (uint8_t)p4, canon);
		return rules_error_set(reterr, u->code, u->field,
				       "%s %s: IPv4-mapped addresses are not accepted%s; write "
				       "\"%s\"",
				       u->label, q, u->mapped, rules_addr_suggest(u, canon));
	}
	if (gs.dotted) {
		rules_cidr6_format(addr, (uint8_t)plen, canon);
		return rules_error_set(reterr, u->code, u->field,
				       "%s %s: dotted-quad tails are not accepted; write the last "
				       "32 bits as hex groups: \"%s\"",
				       u->label, q, rules_addr_suggest(u, canon));
	}
	memcpy(net, addr, sizeof(net));
	mask6(net, plen);
	if (memcmp(net, addr, sizeof(net)) != 0)
		return rules_error_set(reterr, u->code, u->field,
				       "%s %s: host bits set; did you mean \"%s\"?", u->label, q,
				       rules_cidr6_format(net, (uint8_t)plen, canon));
	ret->family = RULES_FAMILY_IPV6;
	ret->daddr = 0;
	memcpy(ret->daddr6, addr, sizeof(ret->daddr6));
	ret->plen = (uint8_t)plen;
	return 0;
}

char *
rules_cidr6_format(const uint8_t a[16], uint8_t plen, char buf[RULES_DEST_STRLEN])
{
	unsigned g[GROUPS], i, run = 0, best = GROUPS, best_len = 1;
	size_t o = 0;

	for (i = 0; i < GROUPS; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	/* the longest run of two zero groups or more, the first of equals */
	for (i = 0; i <= GROUPS; i++) {
		if (i < GROUPS && g[i] == 0) {
			run++;
			continue;
		}
		if (run > best_len) {
			best = i - run;
			best_len = run;
		}
		run = 0;
	}
	for (i = 0; i < GROUPS; i++) {
		if (i == best) {
			o += (size_t)snprintf(buf + o, RULES_DEST_STRLEN - o, "::");
			i += best_len - 1;
			continue;
		}
		o += (size_t)snprintf(buf + o, RULES_DEST_STRLEN - o, "%s%x",
				      i > 0 && i != best + best_len ? ":" : "", g[i]);
	}
	snprintf(buf + o, RULES_DEST_STRLEN - o, "/%u", plen <= 128 ? plen : 128);
	return buf;
}
