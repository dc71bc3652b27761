/*
 * audit: what the kernel really enforces, decoded from a dump, set
 * against the desired state. Per container: the kernel's interface,
 * default action and rules with their counters, whether the two sides
 * agree and each way they differ, and a digest of each side (sha256 of
 * a canonical rendering) so that two hosts or two moments compare
 * without diffing JSON.
 *
 * Written as it goes (rules_jw), not built as a cJSON tree: on a large
 * host a tree of the answer, a node per value, was most of the audit's
 * time.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "agentd/audit.h"
#include "agentd/bridges.h"
#include "agentd/enforcement.h"
#include "agentd/kernel_json.h"
#include "agentd/links.h"

#define DIGEST_HEX (2 * 32 + sizeof("sha256:"))

static void
hex_of(const unsigned char md[32], char out[DIGEST_HEX])
{
	static const char x[] = "0123456789abcdef";
	int i;

	strcpy(out, "sha256:");
	for (i = 0; i < 32; i++) {
		out[7 + 2 * i] = x[md[i] >> 4];
		out[8 + 2 * i] = x[md[i] & 15];
	}
	out[7 + 64] = '\0';
}

/*
 * The canonical rendering: the id, a newline, then the firewall as the
 * API shows it (compact JSON, rules in canonical order), without
 * counters or revisions. scratch is reused from one container to the next.
 */
static bool
digest_of(const char *id, const struct rules_container *fw, struct rules_jw *scratch,
	  EVP_MD_CTX *ctx, char out[DIGEST_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	bool ok;

	rules_jw_reset(scratch);
	rules_jw_open(scratch, '{');
	rules_container_write(scratch, fw, NULL, NULL);
	rules_jw_close(scratch, '}');
	ok = !scratch->failed && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, id, strlen(id)) == 1 && EVP_DigestUpdate(ctx, "\n", 1) == 1 &&
	     EVP_DigestUpdate(ctx, scratch->buf, scratch->len) == 1 &&
	     EVP_DigestFinal_ex(ctx, md, &n) == 1 && n == 32;
	if (ok)
		hex_of(md, out);
	return ok;
}

/* One container of the audit: which sides hold it, and what they say. */
struct entry {
	const char *id;
	const struct nft_container *kc;	  /* NULL: not in the kernel */
	const struct rules_container *wc; /* NULL: not desired */
	bool in_sync;
	int presence; /* of the interface shown: the kernel's, else the desired one */
	enum enforcement enforcement;
	char kernel[DIGEST_HEX]; /* "" for null */
	char desired[DIGEST_HEX];
};

/* The kernel's side when it decoded soundly. */
static const struct rules_container *
kernel_fw(const struct entry *en)
{
	return en->kc != NULL && en->kc->damage[0] == '\0' ? &en->kc->fw : NULL;
}

/* Desired in the kernel: attached. */
static bool
enforced(const struct entry *en)
{
	return en->wc != NULL && en->wc->ifname[0] != '\0';
}

/*
 * Whether the container is protected as desired: attached, held by the
 * kernel exactly (base_ok: the table's own objects too), on an interface
 * that exists. A container the kernel holds and nobody desires is the
 * kernel out of sync.
 */
static enum enforcement
enforcement(const struct entry *en, bool base_ok, struct links *links)
{
	const char *shown = en->kc != NULL ? en->kc->fw.ifname : en->wc ? en->wc->ifname : "";

	if (en->wc == NULL)
		return ENFORCEMENT_KERNEL_OUT_OF_SYNC;
	return enforcement_of(enforced(en), base_ok && en->in_sync,
			      strcmp(shown, en->wc->ifname) == 0
				      ? en->presence
				      : links_presence(links, en->wc->ifname),
			      en->kc != NULL && en->kc->fw.bridged);
}

/* Each way the sides differ, to cb; their number. */
static size_t
differences(const struct entry *en, rules_diff_cb cb, void *data)
{
	const char *one = NULL;

	if (enforced(en) && en->kc == NULL)
		one = "desired, not in the kernel";
	else if (!enforced(en) && en->kc != NULL)
		one = en->wc ? "not attached to an interface, yet in the kernel"
			     : "in the kernel, not desired";
	else if (en->kc != NULL && kernel_fw(en) == NULL)
		one = "the kernel's objects are damaged";
	else if (en->kc != NULL)
		return rules_container_diff(en->wc, kernel_fw(en), cb, data);
	if (one == NULL)
		return 0;
	cb(one, data);
	return 1;
}

static void
ignore(const char *difference, void *data)
{
	(void)difference;
	(void)data;
}

static void
write_difference(const char *difference, void *data)
{
	rules_jw_str(data, difference);
}

static void
write_entry(struct rules_jw *w, const struct nft_state *have, const struct entry *en)
{
	rules_jw_open(w, '{');
	rules_jw_key(w, "container_id");
	rules_jw_str(w, en->id);
	rules_jw_key(w, "enforced");
	rules_jw_bool(w, en->kc != NULL);
	rules_jw_key(w, "enforcement");
	rules_jw_str(w, enforcement_name(en->enforcement));
	/* the kernel's side first, as the dump shows it */
	if (en->kc != NULL)
		kernel_json_write_container(w, have, en->kc);
	/* the interface the kernel names, else the desired one */
	kernel_json_write_presence(w, en->presence);
	rules_jw_key(w, "differences");
	rules_jw_open(w, '[');
	differences(en, write_difference, w);
	rules_jw_close(w, ']');
	rules_jw_key(w, "in_sync");
	rules_jw_bool(w, en->in_sync);
	rules_jw_key(w, "digest");
	rules_jw_open(w, '{');
	rules_jw_key(w, "kernel");
	rules_jw_str(w, en->kernel[0] ? en->kernel : NULL);
	rules_jw_key(w, "desired");
	rules_jw_str(w, en->desired[0] ? en->desired : NULL);
	rules_jw_close(w, '}');
	rules_jw_close(w, '}');
}

/* Both sides sorted by id: walk them together into entries. */
static struct entry *
entries(const struct nft_state *have, const struct rules_set *want, const char *only, size_t *ret_n)
{
	size_t i = 0, j = 0, n = 0, nk = nft_state_count(have);
	struct entry *v = calloc(nk + want->ncontainers + 1, sizeof(*v));

	while (v != NULL && (i < nk || j < want->ncontainers)) {
		const struct nft_container *kc = i < nk ? nft_state_get(have, i) : NULL;
		const struct rules_container *wc =
			j < want->ncontainers ? &want->containers[j] : NULL;
		int c = kc == NULL ? 1 : wc == NULL ? -1 : strcmp(kc->fw.id, wc->id);
		const char *id = c <= 0 ? kc->fw.id : wc->id;

		i += c <= 0;
		j += c >= 0;
		if (only != NULL && strcmp(id, only) != 0)
			continue;
		v[n++] = (struct entry){
			.id = id, .kc = c <= 0 ? kc : NULL, .wc = c >= 0 ? wc : NULL};
	}
	*ret_n = n;
	return v;
}

/* A container's digest into the host's: "" (null) folds nothing. */
static bool
fold(EVP_MD_CTX *host, const char *hex)
{
	return hex[0] == '\0' || (EVP_DigestUpdate(host, hex, strlen(hex)) == 1 &&
				  EVP_DigestUpdate(host, "\n", 1) == 1);
}

/* Digests and verdicts first: the header sums them up before the list. */
static bool
judge(struct entry *v, size_t n, bool base_ok, struct links *links, struct rules_jw *scratch,
      EVP_MD_CTX *host[2])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx != NULL;
	size_t i;

	for (i = 0; ok && i < n; i++) {
		struct entry *en = &v[i];

		en->in_sync = differences(en, ignore, NULL) == 0;
		en->presence = links_presence(links, en->kc   ? en->kc->fw.ifname
						     : en->wc ? en->wc->ifname
							      : "");
		en->enforcement = enforcement(en, base_ok, links);
		ok = (!kernel_fw(en) ||
		      digest_of(en->id, kernel_fw(en), scratch, ctx, en->kernel)) &&
		     (!enforced(en) || digest_of(en->id, en->wc, scratch, ctx, en->desired)) &&
		     fold(host[0], en->kernel) && fold(host[1], en->desired);
	}
	EVP_MD_CTX_free(ctx);
	return ok;
}

static bool
write_host_digest(struct rules_jw *w, const char *name, EVP_MD_CTX *ctx)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[DIGEST_HEX];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 32)
		return false;
	hex_of(md, hex);
	rules_jw_key(w, name);
	rules_jw_str(w, hex);
	return true;
}

static void
write_options(struct rules_jw *w, const struct nft_options *opts)
{
	unsigned int i;

	rules_jw_key(w, "container_ifprefixes");
	rules_jw_open(w, '[');
	for (i = 0; i < opts->nifprefix; i++)
		rules_jw_str(w, opts->ifprefix[i]);
	rules_jw_close(w, ']');
	rules_jw_key(w, "drop_log");
	if (opts->log_rate == 0) {
		rules_jw_str(w, NULL);
		return;
	}
	rules_jw_open(w, '{');
	rules_jw_key(w, "rate");
	rules_jw_u64(w, opts->log_rate);
	rules_jw_key(w, "group");
	rules_jw_u64(w, opts->log_group);
	rules_jw_close(w, '}');
}

char *
audit_text(const char *table, const struct nft_state *have, const struct rules_set *want,
	   struct links *links, struct bridges *bridges, const char *only)
{
	EVP_MD_CTX *host[2] = {EVP_MD_CTX_new(), EVP_MD_CTX_new()};
	struct rules_jw w, scratch;
	size_t i, n = 0, nsync = 0, nenforced = 0;
	struct entry *v = entries(have, want, only, &n);
	bool base_ok = nft_state_base_damage(have)[0] == '\0', all = base_ok, ok;
	char when[32];
	time_t now = time(NULL);

	rules_jw_init(&w);
	rules_jw_init(&scratch);
	ok = v != NULL && host[0] != NULL && host[1] != NULL &&
	     EVP_DigestInit_ex(host[0], EVP_sha256(), NULL) == 1 &&
	     EVP_DigestInit_ex(host[1], EVP_sha256(), NULL) == 1 &&
	     judge(v, n, base_ok, links, &scratch, host);
	for (i = 0; ok && i < n; i++) {
		nsync += v[i].in_sync;
		nenforced += v[i].enforcement == ENFORCEMENT_ENFORCED;
		all = all && v[i].in_sync;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	rules_jw_open(&w, '{');
	rules_jw_key(&w, "table");
	rules_jw_str(&w, table);
	rules_jw_key(&w, "owned");
	rules_jw_bool(&w, nft_state_table_owned(have));
	rules_jw_key(&w, "persist");
	rules_jw_bool(&w, nft_state_table_persist(have));
	rules_jw_key(&w, "generation");
	rules_jw_u64(&w, nft_state_genid(have));
	rules_jw_key(&w, "time");
	rules_jw_str(&w, when);
	write_options(&w, nft_state_options(have));
	bridges_write(bridges, links, &w);
	if (nft_state_base_damage(have)[0] != '\0') {
		rules_jw_key(&w, "damage");
		rules_jw_str(&w, nft_state_base_damage(have));
	}
	rules_jw_key(&w, "in_sync");
	rules_jw_bool(&w, all);
	rules_jw_key(&w, "containers_in_sync");
	rules_jw_u64(&w, nsync);
	rules_jw_key(&w, "containers_total");
	rules_jw_u64(&w, n);
	/* in sync is not protected: a container nothing enforces agrees too */
	rules_jw_key(&w, "containers_enforced");
	rules_jw_u64(&w, nenforced);
	rules_jw_key(&w, "containers_not_enforced");
	rules_jw_u64(&w, n - nenforced);
	rules_jw_key(&w, "digest");
	rules_jw_open(&w, '{');
	ok = ok && write_host_digest(&w, "kernel", host[0]) &&
	     write_host_digest(&w, "desired", host[1]);
	rules_jw_close(&w, '}');
	rules_jw_key(&w, "containers");
	rules_jw_open(&w, '[');
	for (i = 0; ok && i < n; i++)
		write_entry(&w, have, &v[i]);
	rules_jw_close(&w, ']');
	rules_jw_close(&w, '}');
	EVP_MD_CTX_free(host[0]);
	EVP_MD_CTX_free(host[1]);
	rules_jw_free(&scratch);
	free(v);
	if (!ok) {
		rules_jw_free(&w);
		return NULL;
	}
	return rules_jw_take(&w);
}
