/*
 * What the kernel holds, as JSON: the decoded table (agentd --dump, the
 * audit) and whether an interface exists. Written as it goes (rules_jw).
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agentd/kernel_json.h"
#include "agentd/links.h"

static void
write_counters(struct rules_jw *w, const struct nft_counter *c)
{
	rules_jw_key(w, "packets");
	rules_jw_u64(w, c->packets);
	rules_jw_key(w, "bytes");
	rules_jw_u64(w, c->bytes);
}

static void
write_counter(struct rules_jw *w, const char *name, const struct nft_counter *c)
{
	rules_jw_key(w, name);
	rules_jw_open(w, '{');
	write_counters(w, c);
	rules_jw_close(w, '}');
}

struct rule_extra {
	const struct nft_state *st;
	const struct nft_container *ct;
};

/* What a rule by name holds open: each address and the seconds it has left. */
static void
write_learned(struct rules_jw *w, const struct nft_state *st, uint32_t name_id)
{
	char buf[RULES_DEST_STRLEN];
	uint8_t f;
	size_t i, n;

	rules_jw_key(w, "learned");
	rules_jw_open(w, '[');
	for (f = 0; f < RULES_FAMILY_MAX; f++) {
		const struct nft_learned *l = nft_state_learned(st, name_id, f, &n);

		for (i = 0; i < n; i++) {
			struct rules_address a = {.family = l[i].family};

			memcpy(a.addr, l[i].addr, sizeof(a.addr));
			rules_jw_open(w, '{');
			rules_jw_key(w, "address");
			rules_jw_str(w, rules_address_format(&a, buf));
			rules_jw_key(w, "expires_in");
			rules_jw_u64(w, (l[i].ms_left + 999) / 1000);
			rules_jw_close(w, '}');
		}
	}
	rules_jw_close(w, ']');
}

static void
rule_extra(struct rules_jw *w, size_t i, const void *data)
{
	const struct rule_extra *x = data;

	write_counters(w, &x->ct->counters[i]);
	if (x->ct->name_ids != NULL && x->ct->name_ids[i] != 0)
		write_learned(w, x->st, x->ct->name_ids[i]);
}

void
kernel_json_write_container(struct rules_jw *w, const struct nft_state *st,
			    const struct nft_container *ct)
{
	const struct rule_extra x = {st, ct};
	static const struct nft_counter zero;

	if (ct->damage[0] != '\0') {
		rules_jw_key(w, "interface");
		rules_jw_str(w, ct->fw.ifname[0] ? ct->fw.ifname : NULL);
		rules_jw_key(w, "damage");
		rules_jw_str(w, ct->damage);
		return;
	}
	rules_container_write(w, &ct->fw, rule_extra, &x);
	/* the default action's hits: drops when it is deny */
	write_counter(w, "dropped", ct->fw.policy == RULES_ACTION_DENY ? &ct->dflt : &zero);
	if (ct->fw.policy == RULES_ACTION_ALLOW)
		write_counter(w, "accepted_by_default", &ct->dflt);
}

/* Out to f, so that the text of every container never sits in memory at once. */
static int
flush(FILE *f, struct rules_jw *w)
{
	if (w->failed)
		return -ENOMEM;
	if (w->len > 0 && fwrite(w->buf, 1, w->len, f) != w->len)
		return -EIO;
	w->len = 0;
	return 0;
}

int
kernel_json_write_state(FILE *f, const char *table, const struct nft_state *st)
{
	struct rules_jw w;
	size_t i, n = nft_state_count(st);
	int r = 0;

	rules_jw_init(&w);
	rules_jw_open(&w, '{');
	rules_jw_key(&w, "table");
	rules_jw_str(&w, table);
	rules_jw_key(&w, "exists");
	rules_jw_bool(&w, nft_state_table_exists(st));
	rules_jw_key(&w, "owned");
	rules_jw_bool(&w, nft_state_table_owned(st));
	rules_jw_key(&w, "persist");
	rules_jw_bool(&w, nft_state_table_persist(st));
	if (nft_state_base_damage(st)[0] != '\0') {
		rules_jw_key(&w, "damage");
		rules_jw_str(&w, nft_state_base_damage(st));
	}
	rules_jw_key(&w, "containers");
	rules_jw_open(&w, '{');
	for (i = 0; i < n && r == 0; i++) {
		const struct nft_container *ct = nft_state_get(st, i);

		rules_jw_key(&w, ct->fw.id);
		rules_jw_open(&w, '{');
		kernel_json_write_container(&w, st, ct);
		rules_jw_close(&w, '}');
		if (w.len >= 65536)
			r = flush(f, &w);
	}
	rules_jw_close(&w, '}');
	rules_jw_close(&w, '}');
	if (r == 0)
		r = flush(f, &w);
	if (r == 0 && (fputc('\n', f) == EOF || fflush(f) != 0 || ferror(f)))
		r = -EIO;
	rules_jw_free(&w);
	return r;
}

bool
kernel_json_presence(cJSON *o, int presence)
{
	return (presence < 0 ? cJSON_AddNullToObject(o, "interface_present")
			     : cJSON_AddBoolToObject(o, "interface_present", presence)) != NULL;
}

void
kernel_json_write_presence(struct rules_jw *w, int presence)
{
	rules_jw_key(w, "interface_present");
	if (presence < 0)
		rules_jw_str(w, NULL);
	else
		rules_jw_bool(w, presence);
}
