/*
 * audit: what the kernel really enforces, decoded from a dump, set
 * against the desired state. Per container: the kernel's interface,
 * default action and rules with their counters, whether the two sides
 * agree and each way they differ, and a digest of each side (sha256 of
 * a canonical rendering) so that two hosts or two moments compare
 * without diffing JSON.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "agentd/audit.h"
#include "agentd/render.h"

#define DIGEST_HEX (2 * 32 + sizeof("sha256:"))

static bool
sha256_hex(const void *data, size_t len, char out[DIGEST_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return false;
	strcpy(out, "sha256:");
	for (i = 0; i < n; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return true;
}

/* The canonical rendering: the id, then the firewall as the API shows
 * it, rules in canonical order, without counters or revisions. */
static bool
digest_of(const char *id, const struct rules_container *fw, char out[DIGEST_HEX])
{
	cJSON *o = rules_container_to_json(fw);
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	size_t idlen = strlen(id), tlen = text ? strlen(text) : 0;
	char *buf = text ? malloc(idlen + 1 + tlen) : NULL;
	bool ok = false;

	if (buf != NULL) {
		memcpy(buf, id, idlen);
		buf[idlen] = '\n';
		memcpy(buf + idlen + 1, text, tlen);
		ok = sha256_hex(buf, idlen + 1 + tlen, out);
	}
	free(buf);
	cJSON_free(text);
	cJSON_Delete(o);
	return ok;
}

static void
add_difference(const char *difference, void *data)
{
	cJSON *list = data;

	cJSON_AddItemToArray(list, cJSON_CreateString(difference));
}

/* Both sides' digests, folded into the host's. */
struct host_digest {
	EVP_MD_CTX *kernel;
	EVP_MD_CTX *desired;
};

static bool
add_digest(cJSON *o, const char *name, const char *id, const struct rules_container *fw,
	   EVP_MD_CTX *host)
{
	char hex[DIGEST_HEX];

	if (fw == NULL)
		return cJSON_AddNullToObject(o, name) != NULL;
	if (!digest_of(id, fw, hex))
		return false;
	if (host != NULL &&
	    (EVP_DigestUpdate(host, hex, strlen(hex)) != 1 || EVP_DigestUpdate(host, "\n", 1) != 1))
		return false;
	return cJSON_AddStringToObject(o, name, hex) != NULL;
}

/* The options the kernel's table was built with. */
static bool
add_options(cJSON *o, const struct nft_options *opts)
{
	cJSON *p = cJSON_AddArrayToObject(o, "container_ifprefixes"), *log;
	unsigned int i;

	for (i = 0; p != NULL && i < opts->nifprefix; i++)
		if (!cJSON_AddItemToArray(p, cJSON_CreateString(opts->ifprefix[i])))
			return false;
	if (p == NULL)
		return false;
	if (opts->log_rate == 0)
		return cJSON_AddNullToObject(o, "drop_log") != NULL;
	log = cJSON_AddObjectToObject(o, "drop_log");
	return log != NULL && cJSON_AddNumberToObject(log, "rate", opts->log_rate) &&
	       cJSON_AddNumberToObject(log, "group", opts->log_group);
}

static cJSON *
container_audit(const char *id, const struct nft_container *kc, const struct rules_container *wc,
		struct links *links, struct host_digest *hd, bool *in_sync)
{
	bool enforced = wc != NULL && wc->ifname[0] != '\0';
	const struct rules_container *kfw = kc && kc->damage[0] == '\0' ? &kc->fw : NULL;
	cJSON *o = cJSON_CreateObject(), *kern = kc ? agentd_render_container(kc) : NULL, *item;
	cJSON *diff, *dg;

	if (o == NULL || (kc != NULL && kern == NULL) ||
	    !cJSON_AddStringToObject(o, "container_id", id) ||
	    !cJSON_AddBoolToObject(o, "enforced", kc != NULL))
		goto fail;
	/* the kernel's side first, as the dump shows it */
	while (kern != NULL && (item = kern->child) != NULL) {
		cJSON_DetachItemViaPointer(kern, item);
		if (!cJSON_AddItemToObject(o, item->string, item)) {
			cJSON_Delete(item);
			goto fail;
		}
	}
	diff = cJSON_CreateArray();
	/* the interface the kernel names, else the desired one */
	if (!agentd_render_presence(o, links,
				    kc	 ? kc->fw.ifname
				    : wc ? wc->ifname
					 : "") ||
	    diff == NULL || !cJSON_AddItemToObject(o, "differences", diff))
		goto fail;
	if (enforced && kc == NULL)
		add_difference("desired, not in the kernel", diff);
	else if (!enforced && kc != NULL)
		add_difference(wc ? "not attached to an interface, yet in the kernel"
				  : "in the kernel, not desired",
			       diff);
	else if (kc != NULL && kfw == NULL)
		add_difference("the kernel's objects are damaged", diff);
	else if (kc != NULL)
		rules_container_diff(wc, kfw, add_difference, diff);
	*in_sync = cJSON_GetArraySize(diff) == 0;
	dg = cJSON_AddObjectToObject(o, "digest");
	if (!cJSON_AddBoolToObject(o, "in_sync", *in_sync) || dg == NULL ||
	    !add_digest(dg, "kernel", id, kfw, hd->kernel) ||
	    !add_digest(dg, "desired", id, enforced ? wc : NULL, hd->desired))
		goto fail;
	cJSON_Delete(kern);
	return o;
fail:
	cJSON_Delete(kern);
	cJSON_Delete(o);
	return NULL;
}

static bool
add_host_digest(cJSON *dg, const char *name, EVP_MD_CTX *ctx)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[DIGEST_HEX];
	unsigned int n = 0, i;

	if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 32)
		return false;
	strcpy(hex, "sha256:");
	for (i = 0; i < n; i++)
		snprintf(hex + 7 + 2 * i, 3, "%02x", md[i]);
	return cJSON_AddStringToObject(dg, name, hex) != NULL;
}

cJSON *
audit_json(const char *table, const struct nft_state *have, const struct rules_set *want,
	   struct links *links, const char *only)
{
	struct host_digest hd = {EVP_MD_CTX_new(), EVP_MD_CTX_new()};
	size_t i = 0, j = 0, nk = nft_state_count(have), nsync = 0, n = 0;
	cJSON *o = cJSON_CreateObject(), *list = NULL, *dg;
	bool all = true, ok = false;
	char when[32];
	time_t now = time(NULL);

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	if (o == NULL || hd.kernel == NULL || hd.desired == NULL ||
	    EVP_DigestInit_ex(hd.kernel, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(hd.desired, EVP_sha256(), NULL) != 1 ||
	    !cJSON_AddStringToObject(o, "table", table) ||
	    !cJSON_AddBoolToObject(o, "owned", nft_state_table_owned(have)) ||
	    !cJSON_AddBoolToObject(o, "persist", nft_state_table_persist(have)) ||
	    !cJSON_AddNumberToObject(o, "generation", nft_state_genid(have)) ||
	    !cJSON_AddStringToObject(o, "time", when) || !add_options(o, nft_state_options(have)))
		goto out;
	if (nft_state_base_damage(have)[0] != '\0') {
		all = false;
		if (!cJSON_AddStringToObject(o, "damage", nft_state_base_damage(have)))
			goto out;
	}
	list = cJSON_CreateArray();
	if (list == NULL)
		goto out;
	/* both sides sorted by id: walk them together */
	while (i < nk || j < want->ncontainers) {
		const struct nft_container *kc = i < nk ? nft_state_get(have, i) : NULL;
		const struct rules_container *wc =
			j < want->ncontainers ? &want->containers[j] : NULL;
		int c = kc == NULL ? 1 : wc == NULL ? -1 : strcmp(kc->fw.id, wc->id);
		const char *id = c <= 0 ? kc->fw.id : wc->id;
		bool in_sync;
		cJSON *ct;

		i += c <= 0;
		j += c >= 0;
		if (only != NULL && strcmp(id, only) != 0)
			continue;
		ct = container_audit(id, c <= 0 ? kc : NULL, c >= 0 ? wc : NULL, links, &hd,
				     &in_sync);
		if (ct == NULL || !cJSON_AddItemToArray(list, ct)) {
			cJSON_Delete(ct);
			goto out;
		}
		n++;
		nsync += in_sync;
		all = all && in_sync;
	}
	dg = cJSON_AddObjectToObject(o, "digest");
	if (!cJSON_AddBoolToObject(o, "in_sync", all) ||
	    !cJSON_AddNumberToObject(o, "containers_in_sync", (double)nsync) ||
	    !cJSON_AddNumberToObject(o, "containers_total", (double)n) || dg == NULL ||
	    !add_host_digest(dg, "kernel", hd.kernel) ||
	    !add_host_digest(dg, "desired", hd.desired) ||
	    !cJSON_AddItemToObject(o, "containers", list))
		goto out;
	list = NULL;
	ok = true;
out:
	cJSON_Delete(list);
	EVP_MD_CTX_free(hd.kernel);
	EVP_MD_CTX_free(hd.desired);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
