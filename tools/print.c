/* agentd's answers as aligned text: header lines, tables, confirmations. */

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tools/print.h"

#define COLUMN_GAP 2
#define TABLE_COLUMNS_MAX 8
#define JSON_INDENT 2
#define NUMBER_SIZE 32 /* a number as text */
/* a cell: a number, or a list such as 16 addresses; strings are printed in place */
#define CELL_SIZE 768

/* One column of a table, or one line of a header block. */
struct column {
	const char *title;
	const char *key;       /* the member of each row object */
	const char *null_text; /* for null or missing; NULL means "-" */
	const char *true_text; /* for booleans; NULL means "true" and "false" */
	const char *false_text;
	/* for strings: what to show for the value (NULL: the value) */
	const char *(*map)(const char *v);
};

/* The length of the UTF-8 sequence at u, or 0 when it is not one. */
static size_t
utf8_len(const unsigned char *u)
{
	size_t n, k;

	if (u[0] < 0x80)
		return 1;
	n = u[0] >= 0xc2 && u[0] <= 0xdf   ? 2
	    : u[0] >= 0xe0 && u[0] <= 0xef ? 3
	    : u[0] >= 0xf0 && u[0] <= 0xf4 ? 4
					   : 0;
	for (k = 1; k < n; k++)
		if ((u[k] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Characters a terminal acts on rather than shows: C0 and C1 controls,
 * and the bidirectional marks, embeddings, overrides and isolates, which
 * can make a line read in another order than it is (U+061C, U+200E-F,
 * U+202A-E, U+2066-9).
 */
static bool
acts_on_terminal(const unsigned char *u, size_t n)
{
	switch (n) {
	case 1:
		return u[0] < 0x20 || u[0] == 0x7f;
	case 2:
		return (u[0] == 0xc2 && u[1] < 0xa0) || (u[0] == 0xd8 && u[1] == 0x9c);
	case 3:
		return u[0] == 0xe2 && ((u[1] == 0x80 && (u[2] == 0x8e || u[2] == 0x8f ||
							  (u[2] >= 0xaa && u[2] <= 0xae))) ||
					(u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9));
	default:
		return false;
	}
}

void
cli_print_clean(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u != '\0') {
		size_t n = utf8_len(u);

		if (n == 0 || acts_on_terminal(u, n))
			fputc('?', f);
		else
			fwrite(u, 1, n, f);
		u += n > 0 ? n : 1;
	}
}

void
cli_print_warnings(FILE *f, const cJSON *data)
{
	const cJSON *w;

	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(data, "warnings"))
	{
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(w, "message");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(w, "code");

		if (!cJSON_IsString(msg))
			continue;
		fputs("hoody: warning: ", f);
		cli_print_clean(f, msg->valuestring);
		if (cJSON_IsString(code)) {
			fputs(" (", f);
			cli_print_clean(f, code->valuestring);
			fputc(')', f);
		}
		fputc('\n', f);
	}
}

/* Characters, not bytes: UTF-8 continuation bytes take no column. */
static size_t
text_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void
pad(FILE *f, size_t n)
{
	while (n-- > 0)
		fputc(' ', f);
}

static void
format_number(double v, char *buf, size_t size)
{
	/* revisions and counts are integers; anything else in %g */
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%g", v);
}

/* The text for c in obj; buf holds it when it is not a string already. */
/* A list of strings, such as "addresses", as one word: "10.0.3.7,fd42::7". */
static const char *
join(const cJSON *a, char *buf, size_t size)
{
	const cJSON *it;
	size_t o = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(it, a)
	{
		o += (size_t)snprintf(buf + o, size - o, "%s%s", o > 0 ? "," : "",
				      cJSON_IsString(it) ? it->valuestring : "?");
		if (o >= size)
			break; /* cut short: snprintf kept it terminated */
	}
	return buf;
}

static const char *
cell(const cJSON *obj, const struct column *c, char *buf, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, c->key);

	if (cJSON_IsString(v))
		return c->map != NULL ? c->map(v->valuestring) : v->valuestring;
	if (cJSON_IsNumber(v)) {
		format_number(v->valuedouble, buf, size);
		return buf;
	}
	if (cJSON_IsTrue(v))
		return c->true_text != NULL ? c->true_text : "true";
	if (cJSON_IsFalse(v))
		return c->false_text != NULL ? c->false_text : "false";
	if (cJSON_IsArray(v) && v->child != NULL)
		return join(v, buf, size);
	if (v == NULL || cJSON_IsNull(v) || cJSON_IsArray(v))
		return c->null_text != NULL ? c->null_text : "-";
	return "?"; /* an object where a scalar belongs */
}

/* The string member key of obj, or "-". */
static const char *
str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : "-";
}

/* The number member key of obj as text in buf, or NULL when there is none. */
static const char *
num(const cJSON *obj, const char *key, char *buf, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(v))
		return NULL;
	format_number(v->valuedouble, buf, size);
	return buf;
}

/*
 * fprintf() for messages made of wire strings: only %s, and every
 * argument is cleaned.
 */
static void say(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt != '\0'; fmt++) {
		if (fmt[0] == '%' && fmt[1] == 's') {
			cli_print_clean(f, va_arg(ap, const char *));
			fmt++;
		} else {
			fputc(*fmt, f);
		}
	}
	va_end(ap);
}

/* " (revision N)" when obj has one. */
static void
say_revision(FILE *f, const cJSON *obj)
{
	char buf[CELL_SIZE];
	const char *rev = num(obj, "revision", buf, sizeof(buf));

	if (rev != NULL)
		fprintf(f, " (revision %s)", rev);
	fputc('\n', f);
}

/*
 * Print n rows (objects linked from first) under the titles of cols.
 * Two passes over the JSON: widths first, then the text, so nothing is
 * copied. Cells are padded only when a later cell follows, so lines
 * carry no trailing blanks.
 */
static void
table_print(FILE *f, const struct column *cols, size_t ncols, const cJSON *first, size_t n)
{
	size_t width[TABLE_COLUMNS_MAX] = {0}, i, k, pending;
	char buf[CELL_SIZE];
	const cJSON *row;

	assert(ncols <= TABLE_COLUMNS_MAX);
	for (k = 0; k < ncols; k++)
		width[k] = text_width(cols[k].title);
	for (row = first, i = 0; row != NULL && i < n; row = row->next, i++)
		for (k = 0; k < ncols; k++) {
			size_t w = text_width(cell(row, &cols[k], buf, sizeof(buf)));

			if (w > width[k])
				width[k] = w;
		}
	for (k = 0; k < ncols; k++) {
		fputs(cols[k].title, f);
		if (k + 1 < ncols)
			pad(f, width[k] - text_width(cols[k].title) + COLUMN_GAP);
	}
	fputc('\n', f);
	for (row = first, i = 0; row != NULL && i < n; row = row->next, i++) {
		pending = 0;
		for (k = 0; k < ncols; k++) {
			const char *t = cell(row, &cols[k], buf, sizeof(buf));

			if (t[0] != '\0') {
				pad(f, pending);
				cli_print_clean(f, t);
				pending = 0;
			}
			pending += width[k] - text_width(t) + COLUMN_GAP;
		}
		fputc('\n', f);
	}
}

/* "label:  value" lines for the members of one object, values aligned. */
static void
fields_print(FILE *f, const struct column *fields, size_t n, const cJSON *obj)
{
	size_t width = 0, i;
	char buf[CELL_SIZE];

	for (i = 0; i < n; i++)
		if (strlen(fields[i].title) > width)
			width = strlen(fields[i].title);
	for (i = 0; i < n; i++) {
		fprintf(f, "%s:", fields[i].title);
		pad(f, width - strlen(fields[i].title) + COLUMN_GAP);
		cli_print_clean(f, cell(obj, &fields[i], buf, sizeof(buf)));
		fputc('\n', f);
	}
}

static const struct column rule_columns[] = {
	{"ID", "id", NULL, NULL, NULL, NULL},
	{"ACTION", "action", NULL, NULL, NULL, NULL},
	{"PROTOCOL", "protocol", NULL, NULL, NULL, NULL},
	{"DESTINATION", "destination", NULL, NULL, NULL, NULL},
	{"PORTS", "destination_port", "*", NULL, NULL, NULL}, /* null: every port */
	{"EXPIRES", "expires_at", "never", NULL, NULL, NULL},
	{"DESCRIPTION", "description", "", NULL, NULL, NULL},
};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

/* Each "enforcement" the agent names: as tables show it, and what it means. */
static const struct {
	const char *code, *word, *means;
} enforcements[] = {
	{"enforced", "yes", NULL},
	{"not_attached", "NOT ATTACHED",
	 "the container is not attached to an interface: its firewall is stored, "
	 "and nothing enforces it"},
	{"interface_missing", "INTERFACE MISSING",
	 "no interface of that name exists on the host now: the firewall filters "
	 "nothing until one appears"},
	{"bridge_port", "BRIDGE PORT",
	 "the interface is a port of a Linux bridge that the kernel does not "
	 "enforce on the bridged path yet: everything it sends is dropped"},
	{"kernel_out_of_sync", "KERNEL OUT OF SYNC",
	 "the kernel does not hold this firewall as stored; hoody firewall audit "
	 "shows how it differs"},
	{"interface_unknown", "INTERFACE UNKNOWN",
	 "the agent cannot tell whether the interface exists (it does not follow "
	 "the host's interfaces; see its log)"},
};

/* The word for an enforcement code; a code this hoody does not know is not "yes". */
static const char *
enforcement_word(const char *code)
{
	size_t i;

	for (i = 0; i < NCOLS(enforcements); i++)
		if (strcmp(code, enforcements[i].code) == 0)
			return enforcements[i].word;
	return "NOT ENFORCED";
}

/* When obj's "enforcement" is not "enforced", what that means, indented. */
static void
say_meaning(FILE *f, const cJSON *obj)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "enforcement");
	size_t i;

	if (!cJSON_IsString(v))
		return;
	for (i = 0; i < NCOLS(enforcements); i++)
		if (strcmp(v->valuestring, enforcements[i].code) == 0 &&
		    enforcements[i].means != NULL)
			say(f, "  (%s)\n", enforcements[i].means);
}

/*
 * "enforced: WORD" for an answer that carries "enforcement" (nothing
 * for an older agent), and what it means when it is not enforced.
 */
static void
say_enforcement(FILE *f, const cJSON *obj)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "enforcement");

	if (!cJSON_IsString(v))
		return;
	say(f, "enforced: %s\n", enforcement_word(v->valuestring));
	say_meaning(f, obj);
}

/* A table of the array's objects, or what to say when there are none. */
static void
list_print(FILE *f, const struct column *cols, size_t ncols, const cJSON *a, const char *none)
{
	int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;

	if (n == 0) {
		fprintf(f, "%s\n", none);
		return;
	}
	table_print(f, cols, ncols, a->child, (size_t)n);
}

static void
rules_print(FILE *f, const cJSON *rules)
{
	list_print(f, rule_columns, NCOLS(rule_columns), rules, "no rules");
}

void
cli_print_firewall(FILE *f, const cJSON *fw)
{
	static const struct column head[] = {
		{"container", "container_id", NULL, NULL, NULL, NULL},
		{"interface", "interface", NULL, NULL, NULL, NULL}, /* null: not attached */
		{"addresses", "addresses", "none pinned", NULL, NULL, NULL},
		{"default action", "default_action", NULL, NULL, NULL, NULL},
		{"revision", "revision", NULL, NULL, NULL, NULL},
		{"enforced", "enforcement", NULL, NULL, NULL, enforcement_word},
	};
	/* an older agent says nothing of enforcement: no line for it */
	bool known = cJSON_GetObjectItemCaseSensitive(fw, "enforcement") != NULL;

	fields_print(f, head, NCOLS(head) - !known, fw);
	say_meaning(f, fw);
	fputc('\n', f);
	rules_print(f, cJSON_GetObjectItemCaseSensitive(fw, "rules"));
}

void
cli_print_egress(FILE *f, const cJSON *list)
{
	if (cJSON_GetObjectItemCaseSensitive(list, "enforcement") != NULL) {
		say_enforcement(f, list);
		fputc('\n', f);
	}
	rules_print(f, cJSON_GetObjectItemCaseSensitive(list, "rules"));
}

void
cli_print_rule_created(FILE *f, const cJSON *rule, long status)
{
	say(f, status == 201 ? "created rule %s" : "rule %s exists", str(rule, "id"));
	say_revision(f, rule);
	say_enforcement(f, rule);
	fputc('\n', f);
	table_print(f, rule_columns, NCOLS(rule_columns), rule, 1);
}

void
cli_print_rule_deleted(FILE *f, const cJSON *d)
{
	say(f, "deleted rule %s from %s", str(d, "deleted"), str(d, "container_id"));
	say_revision(f, d);
	say_enforcement(f, d);
}

void
cli_print_reset(FILE *f, const cJSON *fw, long status)
{
	say(f, "%s %s: default %s, no rules", status == 201 ? "created" : "reset",
	    str(fw, "container_id"), str(fw, "default_action"));
	say_revision(f, fw);
	say_enforcement(f, fw);
}

void
cli_print_attach(FILE *f, const cJSON *fw, long status)
{
	const cJSON *ifname = cJSON_GetObjectItemCaseSensitive(fw, "interface");
	const char *id = str(fw, "container_id");

	if (status == 201 && cJSON_IsString(ifname))
		say(f, "created %s, attached to %s", id, ifname->valuestring);
	else if (status == 201)
		say(f, "created %s, not attached", id);
	else if (cJSON_IsString(ifname))
		say(f, "attached %s to %s", id, ifname->valuestring);
	else
		say(f, "detached %s", id);
	say_revision(f, fw);
	say_enforcement(f, fw);
}

void
cli_print_container_deleted(FILE *f, const cJSON *d)
{
	say(f, "deleted container %s\n", str(d, "container_id"));
}

void
cli_print_containers(FILE *f, const cJSON *list)
{
	static const struct column cols[] = {
		{"CONTAINER", "container_id", NULL, NULL, NULL, NULL},
		{"INTERFACE", "interface", NULL, NULL, NULL, NULL},
		{"ENFORCED", "enforcement", NULL, NULL, NULL, enforcement_word},
		{"DEFAULT", "default_action", NULL, NULL, NULL, NULL},
		{"RULES", "rule_count", NULL, NULL, NULL, NULL},
		{"REVISION", "revision", NULL, NULL, NULL, NULL},
		{"ADDRESSES", "addresses", NULL, NULL, NULL, NULL},
	};

	list_print(f, cols, NCOLS(cols), cJSON_GetObjectItemCaseSensitive(list, "containers"),
		   "no containers");
}

/* "0", or "2 (1 not attached, 1 interface missing)" from health's counts. */
static void
not_enforced_text(const cJSON *h, char *buf, size_t size)
{
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(h, "enforcement"), *c;
	char n[NUMBER_SIZE];
	size_t len;
	bool first = true;

	snprintf(buf, size, "%s", num(h, "not_enforced", n, sizeof(n)) ?: "-");
	if (strcmp(buf, "0") == 0 || strcmp(buf, "-") == 0)
		return;
	cJSON_ArrayForEach(c, by)
	{
		if (!cJSON_IsNumber(c) || c->valuedouble == 0 || c->string == NULL ||
		    strcmp(c->string, "enforced") == 0)
			continue;
		len = strlen(buf);
		format_number(c->valuedouble, n, sizeof(n));
		snprintf(buf + len, size - len, "%s%s %s", first ? " (" : ", ", n, c->string);
		first = false;
	}
	len = strlen(buf);
	if (!first)
		snprintf(buf + len, size - len, ")");
	/* not_attached: not attached */
	for (len = 0; buf[len] != '\0'; len++)
		if (buf[len] == '_')
			buf[len] = ' ';
}

/* What happens to an interface no container is attached to. */
static void
unattached_text(const cJSON *h, char *buf, size_t size)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(h, "container_ifprefixes"), *c;
	size_t len;

	if (!cJSON_IsArray(p)) {
		snprintf(buf, size, "-");
		return;
	}
	if (cJSON_GetArraySize(p) == 0) {
		snprintf(buf, size, "NOT FILTERED (no --container-ifprefix)");
		return;
	}
	snprintf(buf, size, "dropped when named");
	cJSON_ArrayForEach(c, p)
	{
		len = strlen(buf);
		if (cJSON_IsString(c))
			snprintf(buf + len, size - len, "%s %s*", c == p->child ? "" : ",",
				 c->valuestring);
	}
	len = strlen(buf);
	snprintf(buf + len, size - len, ", else not filtered");
}

void
cli_print_health(FILE *f, const cJSON *h)
{
	static const struct column fields[] = {
		{"status", "status", NULL, NULL, NULL, NULL},
		{"kernel in sync", "kernel_in_sync", NULL, "yes", "no", NULL},
		{"table", "table", NULL, NULL, NULL, NULL},
		{"tamper protection", "tamper_protection", NULL, "on", "off", NULL},
		{"containers", "containers", NULL, NULL, NULL, NULL},
		{"not enforced", "not_enforced_text", NULL, NULL, NULL, NULL},
		{"interfaces followed", "interfaces_followed", NULL, "yes", "NO", NULL},
		{"unattached interfaces", "unattached_text", NULL, NULL, NULL, NULL},
	};
	/* a copy, to add the lines derived from its members */
	cJSON *c = cJSON_Duplicate(h, 1);
	char buf[256];

	/* the lines an older agent has: those before "not enforced" */
	size_t n = cJSON_GetObjectItemCaseSensitive(h, "not_enforced") != NULL ? NCOLS(fields)
									       : NCOLS(fields) - 3;

	if (c == NULL) {
		fields_print(f, fields, NCOLS(fields) - 3, h);
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(h, "not_enforced") != NULL) {
		not_enforced_text(h, buf, sizeof(buf));
		cJSON_AddStringToObject(c, "not_enforced_text", buf);
	}
	if (cJSON_GetObjectItemCaseSensitive(h, "container_ifprefixes") != NULL) {
		unattached_text(h, buf, sizeof(buf));
		cJSON_AddStringToObject(c, "unattached_text", buf);
	}
	fields_print(f, fields, n, c);
	cJSON_Delete(c);
}

static double
sum_packets(const cJSON *rules)
{
	const cJSON *r;
	double n = 0;

	cJSON_ArrayForEach(r, rules)
	{
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "packets");

		n += cJSON_IsNumber(p) ? p->valuedouble : 0;
	}
	return n;
}

/* "ID: rule R (NAME): ADDR (N s), ..." for each rule by name of container c. */
static void
learned_print(FILE *f, const cJSON *c)
{
	const cJSON *r, *l;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(c, "rules"))
	{
		const cJSON *learned = cJSON_GetObjectItemCaseSensitive(r, "learned");
		char n[NUMBER_SIZE];
		bool first = true;

		if (!cJSON_IsArray(learned))
			continue;
		fprintf(f, "%s: rule ", str(c, "container_id"));
		cli_print_clean(f, str(r, "id"));
		fputs(" (", f);
		cli_print_clean(f, str(r, "destination"));
		fputs("):", f);
		cJSON_ArrayForEach(l, learned)
		{
			fprintf(f, "%s ", first ? "" : ",");
			cli_print_clean(f, str(l, "address"));
			fprintf(f, " (%s s)", num(l, "expires_in", n, sizeof(n)) ?: "?");
			first = false;
		}
		fputs(first ? " nothing open\n" : "\n", f);
	}
}

void
cli_print_audit(FILE *f, const cJSON *audit)
{
	static const struct column cols[] = {
		{"CONTAINER", "container_id", NULL, NULL, NULL, NULL},
		{"INTERFACE", "interface", NULL, NULL, NULL, NULL},
		{"POLICY", "default_action", NULL, NULL, NULL, NULL},
		{"RULES", "rule_count", NULL, NULL, NULL, NULL},
		{"HITS", "hits", NULL, NULL, NULL, NULL},
		{"DROPS", "drops", NULL, NULL, NULL, NULL},
		{"IN SYNC", "in_sync", NULL, "yes", "no", NULL},
		{"ENFORCED", "enforcement", NULL, NULL, NULL, enforcement_word},
	};
	/* a copy, to add the table's derived columns to its rows */
	cJSON *list = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(audit, "containers"), 1), *c;
	const cJSON *d;
	char gen[NUMBER_SIZE], nsync[NUMBER_SIZE], total[NUMBER_SIZE], nenf[NUMBER_SIZE];
	const char *not_enforced;

	cJSON_ArrayForEach(c, list)
	{
		const cJSON *rules = cJSON_GetObjectItemCaseSensitive(c, "rules");
		const cJSON *dropped = cJSON_GetObjectItemCaseSensitive(c, "dropped");

		if (!cJSON_IsArray(rules))
			continue;
		cJSON_AddNumberToObject(c, "rule_count", cJSON_GetArraySize(rules));
		cJSON_AddNumberToObject(c, "hits", sum_packets(rules));
		d = cJSON_GetObjectItemCaseSensitive(dropped, "packets");
		if (cJSON_IsNumber(d))
			cJSON_AddNumberToObject(c, "drops", d->valuedouble);
	}
	say(f, "table %s (%s), generation %s, %s: %s of %s containers in sync", str(audit, "table"),
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(audit, "owned")) ? "owned" : "not owned",
	    num(audit, "generation", gen, sizeof(gen)) ?: "-", str(audit, "time"),
	    num(audit, "containers_in_sync", nsync, sizeof(nsync)) ?: "-",
	    num(audit, "containers_total", total, sizeof(total)) ?: "-");
	/* in sync is not protected: a container nothing enforces agrees too */
	not_enforced = num(audit, "containers_not_enforced", nenf, sizeof(nenf));
	if (not_enforced != NULL && strcmp(not_enforced, "0") == 0)
		say(f, ", all enforced");
	else if (not_enforced != NULL)
		say(f, ", %s NOT ENFORCED", not_enforced);
	fputc('\n', f);
	list_print(f, cols, NCOLS(cols), list, "no containers");
	cJSON_ArrayForEach(c, list)
	{
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(c, "differences"))
		{
			if (!cJSON_IsString(d))
				continue;
			fprintf(f, "%s: ", str(c, "container_id"));
			cli_print_clean(f, d->valuestring);
			fputc('\n', f);
		}
		learned_print(f, c);
	}
	cJSON_Delete(list);
}

/* A JSON string with the escapes cJSON uses; UTF-8 passes through. */
/* "addr:port", or the address alone when the protocol has no ports */
static void
add_endpoint(cJSON *row, const char *key, const char *addr_key, const char *port_key)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(row, addr_key);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(row, port_key);
	const char *addr = cJSON_IsString(a) ? a->valuestring : "?";
	char buf[80];

	if (cJSON_IsNumber(p))
		snprintf(buf, sizeof(buf), strchr(addr, ':') ? "[%s]:%d" : "%s:%d", addr,
			 p->valueint);
	else
		snprintf(buf, sizeof(buf), "%s", addr);
	cJSON_AddStringToObject(row, key, buf);
}

void
cli_print_drops(FILE *f, const cJSON *drops)
{
	static const struct column cols[] = {
		{"TIME", "time", NULL, NULL, NULL, NULL},
		{"RULE", "rule_id", NULL, NULL, NULL, NULL},
		{"PROTO", "protocol", NULL, NULL, NULL, NULL},
		{"SOURCE", "src", NULL, NULL, NULL, NULL},
		{"DESTINATION", "dst", NULL, NULL, NULL, NULL},
	};
	/* a copy, to add the derived columns to its rows */
	cJSON *list = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(drops, "drops"), 1), *d;
	char lost[NUMBER_SIZE];

	cJSON_ArrayForEach(d, list)
	{
		/* a query the resolver refused: the name it asked for */
		if (strcmp(str(d, "kind"), "dns") == 0) {
			cJSON_AddStringToObject(d, "rule_id", "(dns)");
			cJSON_AddStringToObject(d, "protocol", "dns");
			cJSON_AddStringToObject(d, "src", "");
			cJSON_AddStringToObject(d, "dst", str(d, "name"));
			continue;
		}
		add_endpoint(d, "src", "source", "source_port");
		add_endpoint(d, "dst", "destination", "destination_port");
	}
	say(f, "container %s: newest drops first\n", str(drops, "container_id"));
	list_print(f, cols, NCOLS(cols), list, "no drops reported");
	if (num(drops, "lost", lost, sizeof(lost)) != NULL && strcmp(lost, "0") != 0)
		say(f, "(%s reports lost: the agent could not keep up)\n", lost);
	cJSON_Delete(list);
}

static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static int
json_value(FILE *f, const cJSON *v, int depth)
{
	bool obj = cJSON_IsObject(v);
	const cJSON *c;
	char *text;
	int r;

	if (cJSON_IsString(v)) {
		json_string(f, v->valuestring);
		return 0;
	}
	if (!obj && !cJSON_IsArray(v)) {
		/* numbers, booleans and null exactly as cJSON writes them */
		text = cJSON_PrintUnformatted(v);
		if (text == NULL)
			return -ENOMEM;
		fputs(text, f);
		cJSON_free(text);
		return 0;
	}
	if (v->child == NULL) {
		fputs(obj ? "{}" : "[]", f);
		return 0;
	}
	fputc(obj ? '{' : '[', f);
	for (c = v->child; c != NULL; c = c->next) {
		fprintf(f, "%s\n%*s", c != v->child ? "," : "", JSON_INDENT * (depth + 1), "");
		if (obj) {
			json_string(f, c->string != NULL ? c->string : "");
			fputs(": ", f);
		}
		r = json_value(f, c, depth + 1);
		if (r < 0)
			return r;
	}
	fprintf(f, "\n%*s%c", JSON_INDENT * depth, "", obj ? '}' : ']');
	return 0;
}

int
cli_print_json(FILE *f, const cJSON *v)
{
	int r = json_value(f, v, 0);

	if (r == 0)
		fputc('\n', f);
	return r;
}
