/*
 * The API's calls on one container's firewall: create or reset it,
 * replace it, add and delete rules, attach it to an interface, delete
 * it, read it back, and read its recent drops.
 */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "agentd/bridges.h"
#include "agentd/calls.h"
#include "agentd/drops.h"
#include "agentd/engine_int.h"
#include "agentd/firewall.h"
#include "agentd/links.h"
#include "agentd/log.h"
#include "api/api.h"
#include "rules/rules.h"

/*
 * {"container_id", "interface", "default_action", "addresses", "rules",
 *  "interface_present", "enforcement", "revision"}
 */
static cJSON *
firewall_json(const struct calls *calls, const struct engine_ct *c)
{
	cJSON *o = cJSON_CreateObject(), *fw = rules_container_to_json(&c->fw), *item;

	if (o == NULL || fw == NULL || !cJSON_AddStringToObject(o, "container_id", c->fw.id))
		goto fail;
	while ((item = fw->child) != NULL) {
		cJSON_DetachItemViaPointer(fw, item);
		if (!cJSON_AddItemToObject(o, item->string, item)) {
			cJSON_Delete(item);
			goto fail;
		}
	}
	if (!calls_add_presence(o, calls, c, true) ||
	    !cJSON_AddNumberToObject(o, "revision", (double)c->revision))
		goto fail;
	cJSON_Delete(fw);
	return o;
fail:
	cJSON_Delete(fw);
	cJSON_Delete(o);
	return NULL;
}

/*
 * Add "warnings" to o, the answer to a change of c: why c is not
 * enforced (unless the caller asked for that: warn_enforcement false),
 * and what now happens on released (when not ""), the interface c had
 * before. Deletes o and returns NULL when out of memory.
 */
static cJSON *
add_warnings(const struct calls *calls, cJSON *o, const struct engine_ct *c, bool warn_enforcement,
	     const char *released)
{
	cJSON *w = o != NULL ? calls_warnings(o) : NULL;

	if (w == NULL || (warn_enforcement && !calls_warn_enforcement(calls, w, c)) ||
	    !calls_warn_names(calls, w, c) ||
	    (released[0] != '\0' && !calls_warn_released(calls, w, released, c->fw.id))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Say in the log what befalls ifname ("": nothing), which has no container now. */
static void
log_released(const struct engine *e, const char *ifname)
{
	if (ifname[0] != '\0')
		log_info("interface %s: no container now; %s", ifname,
			 engine_ifprefix(e, ifname) != NULL ? "dropped (--container-ifprefix)"
							    : "not filtered");
}

/* Answer a change with the firewall it left, and its warnings (see add_warnings()). */
static void
answer_firewall(const struct calls *calls, struct api_result *res, enum api_status status,
		const struct engine_ct *c, bool warn_enforcement, const char *released)
{
	api_result_answer(
		res, status,
		add_warnings(calls, firewall_json(calls, c), c, warn_enforcement, released));
}

static struct engine_ct *
ct_new(const char *id, const struct engine_ct *src, struct api_result *res)
{
	struct engine_ct *c = calloc(1, sizeof(*c));

	if (c != NULL && src != NULL && rules_container_copy(&c->fw, &src->fw) < 0) {
		free(c);
		c = NULL;
	}
	if (c == NULL) {
		api_result_nomem(res);
		return NULL;
	}
	if (src == NULL) {
		snprintf(c->fw.id, sizeof(c->fw.id), "%s", id);
		c->fw.policy = RULES_ACTION_DENY;
	}
	c->revision = src ? src->revision + 1 : 1;
	return c;
}

/* engine_commit(), failing res as the API words it; true when it is done. */
static bool
commit(struct engine *e, const char *id, struct engine_ct *old, struct engine_ct *next,
       struct api_result *res)
{
	struct engine_error err;
	int r = engine_commit(e, id, old, next, &err);

	if (r == 0)
		return true;
	if (err.storage)
		calls_fail_storage(e, res, r);
	else
		calls_fail_kernel(res, r, &err.kernel);
	return false;
}

void
firewall_reset(void *ctx, const char *id, struct api_result *res)
{
	const struct calls *calls = ctx;
	struct engine *e = calls->engine;
	struct engine_ct *old, *next;
	size_t i;

	if (!calls_id_ok(id, res))
		return;
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	if (old != NULL && old->fw.policy == RULES_ACTION_DENY && old->fw.nrules == 0) {
		answer_firewall(calls, res, API_STATUS_OK, old, true, "");
		goto out;
	}
	next = ct_new(id, old, res);
	if (next == NULL)
		goto out;
	for (i = 0; i < next->fw.nrules; i++)
		rules_rule_clear(&next->fw.rules[i]);
	next->fw.nrules = 0;
	next->fw.policy = RULES_ACTION_DENY;
	if (commit(e, id, old, next, res)) {
		log_info("container %s: reset to deny-all (revision %llu)", id,
			 (unsigned long long)next->revision);
		answer_firewall(calls, res, old ? API_STATUS_OK : API_STATUS_CREATED, next, true,
				"");
	}
out:
	pthread_rwlock_unlock(&e->lock);
}

/* The rule r of c, with c's revision, enforcement and warnings. */
static cJSON *
rule_json(const struct calls *calls, const struct rules_rule *r, const struct engine_ct *c)
{
	cJSON *o = rules_rule_to_json(r);

	if (o != NULL && (!cJSON_AddNumberToObject(o, "revision", (double)c->revision) ||
			  !calls_add_enforcement(o, calls, c))) {
		cJSON_Delete(o);
		o = NULL;
	}
	return add_warnings(calls, o, c, true, "");
}

static bool
desc_equal(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Where a new rule goes in canonical order: after the rules of its kind. */
static size_t
rule_slot(const struct rules_container *fw, uint8_t action)
{
	size_t i = 0;

	if (action == RULES_ACTION_ALLOW)
		return fw->nrules;
	while (i < fw->nrules && fw->rules[i].action == RULES_ACTION_DENY)
		i++;
	return i;
}

/*
 * The same rule again with another expiry (or none): its time is
 * changed, so that a rule is kept open by posting it again.
 */
static void
renew(const struct calls *calls, struct engine_ct *old, size_t i, int64_t expires_at,
      struct api_result *res)
{
	struct engine_ct *next = ct_new(old->fw.id, old, res);

	if (next == NULL)
		return;
	next->fw.rules[i].expires_at = expires_at;
	if (commit(calls->engine, old->fw.id, old, next, res)) {
		log_info("container %s: rule %s now %s (revision %llu)", next->fw.id,
			 next->fw.rules[i].id, expires_at ? "expires" : "never expires",
			 (unsigned long long)next->revision);
		api_result_answer(res, API_STATUS_OK, rule_json(calls, &next->fw.rules[i], next));
	}
}

void
firewall_rule_add(void *ctx, const char *id, const struct cJSON *body, struct api_result *res)
{
	const struct calls *calls = ctx;
	struct engine *e = calls->engine;
	struct rules_rule rule = {0};
	struct rules_error re = {0};
	struct engine_ct *old, *next;
	struct rules_rule *v;
	size_t i, slot;

	if (!calls_id_ok(id, res))
		return;
	if (rules_rule_parse(body, 0, &rule, &re) < 0 ||
	    rules_rule_expiry_resolve(&rule, time(NULL), &re) < 0) {
		api_result_rules_error(res, &re);
		rules_rule_clear(&rule);
		return;
	}
	if (!calls_rules_supported(calls, NULL, &rule, res)) {
		rules_rule_clear(&rule);
		return;
	}
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	if (old == NULL) {
		calls_fail_not_found(res, id);
		goto out;
	}
	for (i = 0; i < old->fw.nrules; i++) {
		const struct rules_rule *h = &old->fw.rules[i];
		bool same = rules_rule_same_match(h, &rule);

		if (same && desc_equal(h->desc, rule.desc) &&
		    (rule.id[0] == '\0' || strcmp(h->id, rule.id) == 0)) {
			if (h->expires_at != rule.expires_at) {
				renew(calls, old, i, rule.expires_at, res);
				goto out;
			}
			api_result_answer(res, API_STATUS_OK, rule_json(calls, h, old));
			goto out;
		}
		if (same) {
			api_result_fail(
				res, API_STATUS_CONFLICT, "rule_conflict", "",
				"rule %s already matches the same packets with the same action; "
				"delete it first to change its description or id",
				h->id);
			goto out;
		}
		if (rule.id[0] != '\0' && strcmp(h->id, rule.id) == 0) {
			api_result_fail(res, API_STATUS_CONFLICT, "rule_conflict", "id",
					"rule id %s is taken by another rule of container %s",
					rule.id, id);
			goto out;
		}
	}
	if (old->fw.nrules >= RULES_PER_CONTAINER_MAX) {
		api_result_fail(res, API_STATUS_CONFLICT, "too_many_rules", "",
				"container %s has %d rules, the most a container can have", id,
				RULES_PER_CONTAINER_MAX);
		goto out;
	}
	if (rule.id[0] == '\0')
		rules_rule_id_assign(&rule, old->fw.rules, old->fw.nrules);
	next = ct_new(id, old, res);
	if (next == NULL)
		goto out;
	v = reallocarray(next->fw.rules, next->fw.nrules + 1, sizeof(*v));
	if (v == NULL) {
		engine_ct_free(next);
		api_result_nomem(res);
		goto out;
	}
	next->fw.rules = v;
	slot = rule_slot(&next->fw, rule.action);
	memmove(&v[slot + 1], &v[slot], (next->fw.nrules - slot) * sizeof(*v));
	v[slot] = rule; /* next owns the description now */
	memset(&rule, 0, sizeof(rule));
	next->fw.nrules++;
	if (commit(e, id, old, next, res)) {
		log_info("container %s: added rule %s (revision %llu)", id, v[slot].id,
			 (unsigned long long)next->revision);
		api_result_answer(res, API_STATUS_CREATED, rule_json(calls, &v[slot], next));
	}
out:
	pthread_rwlock_unlock(&e->lock);
	rules_rule_clear(&rule);
}

void
firewall_rule_delete(void *ctx, const char *id, const char *rule_id, struct api_result *res)
{
	const struct calls *calls = ctx;
	struct engine *e = calls->engine;
	struct engine_ct *old, *next;
	size_t i;

	if (!calls_id_ok(id, res))
		return;
	/* never echoed: the path may hold any bytes */
	if (!rules_id_valid(rule_id)) {
		api_result_fail(res, API_STATUS_BAD_INPUT, "invalid_rule_id", "rule_id",
				"rule id: expected 1-64 characters of A-Z a-z 0-9 _ . - (not \".\" "
				"or \"..\")");
		return;
	}
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	if (old == NULL) {
		calls_fail_not_found(res, id);
		goto out;
	}
	for (i = 0; i < old->fw.nrules; i++)
		if (strcmp(old->fw.rules[i].id, rule_id) == 0)
			break;
	if (i == old->fw.nrules) {
		api_result_fail(res, API_STATUS_NOT_FOUND, "rule_not_found", "",
				"container %s has no rule with id \"%.64s\" (list them with GET "
				"/api/v1/containers/%s/firewall/egress)",
				id, rule_id, id);
		goto out;
	}
	next = ct_new(id, old, res);
	if (next == NULL)
		goto out;
	rules_rule_clear(&next->fw.rules[i]);
	memmove(&next->fw.rules[i], &next->fw.rules[i + 1],
		(next->fw.nrules - i - 1) * sizeof(next->fw.rules[0]));
	next->fw.nrules--;
	if (commit(e, id, old, next, res)) {
		cJSON *o = cJSON_CreateObject();

		log_info("container %s: deleted rule %s (revision %llu)", id, rule_id,
			 (unsigned long long)next->revision);
		if (o != NULL && (!cJSON_AddStringToObject(o, "container_id", id) ||
				  !cJSON_AddStringToObject(o, "deleted", rule_id) ||
				  !cJSON_AddNumberToObject(o, "revision", (double)next->revision) ||
				  !calls_add_enforcement(o, calls, next))) {
			cJSON_Delete(o);
			o = NULL;
		}
		api_result_answer(res, API_STATUS_OK, add_warnings(calls, o, next, true, ""));
	}
out:
	pthread_rwlock_unlock(&e->lock);
}

/* The firewall object; rules_only: less what is not about rules. */
static void
show(const struct calls *calls, const char *id, bool rules_only, struct api_result *res)
{
	struct engine *e = calls->engine;
	const struct engine_ct *c;
	cJSON *o;

	if (!calls_id_ok(id, res))
		return;
	pthread_rwlock_rdlock(&e->lock);
	c = engine_ct_find(e, id);
	if (c == NULL) {
		calls_fail_not_found(res, id);
		goto out;
	}
	o = firewall_json(calls, c);
	if (o != NULL && rules_only) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, "interface");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "addresses");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "default_action");
	}
	api_result_answer(res, API_STATUS_OK, o);
out:
	pthread_rwlock_unlock(&e->lock);
}

void
firewall_rules_get(void *ctx, const char *id, struct api_result *res)
{
	show(ctx, id, true, res);
}

void
firewall_get(void *ctx, const char *id, struct api_result *res)
{
	show(ctx, id, false, res);
}

/* Refuse a member that belongs to another call, naming the right one. */
static bool
refuse_member(const struct cJSON *body, const char *name, const char *hint, struct api_result *res)
{
	if (!cJSON_IsObject(body) || cJSON_GetObjectItemCaseSensitive(body, name) == NULL)
		return false;
	api_result_fail(res, API_STATUS_BAD_INPUT, "unknown_field", name,
			"%s: not accepted here; %s", name, hint);
	return true;
}

void
firewall_put(void *ctx, const char *id, const struct cJSON *body, struct api_result *res)
{
	const struct calls *calls = ctx;
	struct engine *e = calls->engine;
	struct rules_error re = {0};
	struct engine_ct *old, *next;

	if (!calls_id_ok(id, res) ||
	    refuse_member(body, "interface", "attach with PUT /api/v1/containers/{id}", res) ||
	    refuse_member(body, "addresses",
			  "pin them when attaching, with PUT /api/v1/containers/{id}", res))
		return;
	next = calloc(1, sizeof(*next));
	if (next == NULL) {
		api_result_nomem(res);
		return;
	}
	if (rules_container_parse(body, id, &next->fw, &re) < 0 ||
	    rules_container_expiry_resolve(&next->fw, time(NULL), &re) < 0) {
		api_result_rules_error(res, &re);
		engine_ct_free(next);
		return;
	}
	if (!calls_rules_supported(calls, &next->fw, NULL, res)) {
		engine_ct_free(next);
		return;
	}
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	if (old != NULL) {
		/* the attachment is the attach call's to change */
		memcpy(next->fw.ifname, old->fw.ifname, sizeof(next->fw.ifname));
		if (rules_container_set_addresses(&next->fw, old->fw.addresses,
						  old->fw.naddresses) < 0) {
			engine_ct_free(next);
			api_result_nomem(res);
			goto out;
		}
		if (rules_container_equal(&old->fw, &next->fw)) {
			engine_ct_free(next);
			answer_firewall(calls, res, API_STATUS_OK, old, true, "");
			goto out;
		}
	}
	next->revision = old ? old->revision + 1 : 1;
	if (commit(e, id, old, next, res)) {
		log_info("container %s: firewall replaced: default %s, %zu rules (revision %llu)",
			 id, rules_action_name(next->fw.policy), next->fw.nrules,
			 (unsigned long long)next->revision);
		answer_firewall(calls, res, old ? API_STATUS_OK : API_STATUS_CREATED, next, true,
				"");
	}
out:
	pthread_rwlock_unlock(&e->lock);
}

/* {"netns": PATH} or {"pid": N} to the host end of the container's veth. */
static bool
resolve_peer(const cJSON *m, char *ifname, struct api_result *res)
{
	bool by_path = strcmp(m->string, "netns") == 0;
	char why[256];
	int r;

	if (by_path && (!cJSON_IsString(m) || m->valuestring[0] != '/' ||
			strlen(m->valuestring) >= PATH_MAX)) {
		api_result_fail(res, API_STATUS_BAD_INPUT, "invalid_netns", "netns",
				"netns: expected the absolute path of a network namespace, e.g. "
				"\"/run/netns/NAME\" or \"/proc/PID/ns/net\"");
		return false;
	}
	if (!by_path &&
	    (!cJSON_IsNumber(m) || m->valuedouble < 1 || m->valuedouble > LINKS_PID_MAX ||
	     m->valuedouble != (double)(pid_t)m->valuedouble)) {
		api_result_fail(res, API_STATUS_BAD_INPUT, "invalid_pid", "pid",
				"pid: expected the id of a process in the container, 1 to %d",
				LINKS_PID_MAX);
		return false;
	}
	r = links_host_peer(by_path ? m->valuestring : NULL, by_path ? 0 : (pid_t)m->valuedouble,
			    ifname, why, sizeof(why));
	if (r == -ENOENT || r == -ENODEV || r == -ENOTUNIQ) {
		api_result_fail(res, API_STATUS_BAD_INPUT,
				r == -ENOENT   ? "netns_not_found"
				: r == -ENODEV ? "no_veth_peer"
					       : "ambiguous_veth_peer",
				m->string, "%s", why);
		return false;
	}
	if (r < 0) {
		api_result_fail(res, r == -ENOMEM ? API_STATUS_NO_MEMORY : API_STATUS_KERNEL_FAILED,
				"links_failed", m->string, "%s", why);
		return false;
	}
	return true;
}

/* The member of an attach body that says where: "interface", "netns" or "pid". */
static const cJSON *
attach_target(const char *id, const struct cJSON *body, struct api_result *res)
{
	const struct cJSON *m, *target = NULL, *addresses = NULL;
	int n = 0;

	cJSON_ArrayForEach(m, body)
	{
		if (strcmp(m->string, "addresses") == 0 && addresses != NULL) {
			api_result_fail(res, API_STATUS_BAD_INPUT, "duplicate_field", "addresses",
					"\"addresses\" is given twice; it may appear once");
			return NULL;
		}
		if (strcmp(m->string, "addresses") == 0) {
			addresses = m;
			continue;
		}
		if (strcmp(m->string, "interface") != 0 && strcmp(m->string, "netns") != 0 &&
		    strcmp(m->string, "pid") != 0) {
			api_result_fail(
				res, API_STATUS_BAD_INPUT, "unknown_field", m->string,
				"%.64s: unknown field; this call takes one of \"interface\", "
				"\"netns\" or \"pid\", and \"addresses\" (set rules with PUT "
				"/api/v1/containers/%s/firewall)",
				m->string, id);
			return NULL;
		}
		target = m;
		n++;
	}
	if (n != 1) {
		api_result_fail(
			res, API_STATUS_BAD_INPUT, "missing_field", "interface",
			"give exactly one of: {\"interface\": \"hc1\"} (null detaches), "
			"{\"netns\": \"/run/netns/NAME\"} or {\"pid\": N}: the agent then finds "
			"the host end of the container's veth; \"addresses\" may go with it");
		return NULL;
	}
	return target;
}

/*
 * Where to attach, and the addresses to pin there, into *ret (which the
 * caller clears); false when res says why not.
 */
static bool
attach_parse(const struct calls *calls, const char *id, const struct cJSON *body,
	     struct rules_container *ret, struct api_result *res)
{
	const struct cJSON *target = attach_target(id, body, res);
	struct rules_error re = {0};
	int r;

	if (target == NULL)
		return false;
	if (strcmp(target->string, "interface") == 0) {
		r = rules_container_parse(body, id, ret, &re);
		if (r == 0)
			r = rules_container_expiry_resolve(ret, time(NULL), &re);
	} else
		r = rules_addresses_parse(cJSON_GetObjectItemCaseSensitive(body, "addresses"), ret,
					  &re);
	if (r < 0) {
		api_result_rules_error(res, &re);
		return false;
	}
	if (!calls_rules_supported(calls, ret, NULL, res))
		return false;
	if (strcmp(target->string, "interface") != 0 && !resolve_peer(target, ret->ifname, res))
		return false;
	if (ret->ifname[0] == '\0' && ret->naddresses > 0) {
		api_result_fail(res, API_STATUS_BAD_INPUT, "invalid_address", "addresses",
				"addresses: a detach ({\"interface\": null}) pins nothing; leave "
				"\"addresses\" out");
		return false;
	}
	return calls_interface_ok(calls, id, ret->ifname, res);
}

void
firewall_container_put(void *ctx, const char *id, const struct cJSON *body, struct api_result *res)
{
	const struct calls *calls = ctx;
	struct engine *e = calls->engine;
	struct rules_container parsed = {0};
	struct engine_ct *old, *next, *other;
	char released[sizeof(parsed.ifname)] = "";
	char pinned[48] = "";
	bool attach, moved;

	if (!calls_id_ok(id, res))
		return;
	if (!attach_parse(calls, id, body, &parsed, res)) {
		rules_container_clear(&parsed);
		return;
	}
	/* a detach asks for "not attached": only an attach is warned of it */
	attach = parsed.ifname[0] != '\0';
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	other = parsed.ifname[0] ? engine_ct_find_ifname(e, parsed.ifname) : NULL;
	if (other != NULL && other != old) {
		api_result_fail(res, API_STATUS_CONFLICT, "interface_in_use", "interface",
				"interface %s is attached to container %s; detach it there first",
				parsed.ifname, other->fw.id);
		goto out;
	}
	next = ct_new(id, old, res);
	if (next == NULL)
		goto out;
	memcpy(next->fw.ifname, parsed.ifname, sizeof(next->fw.ifname));
	/* PUT replaces the attachment: no "addresses", nothing pinned */
	if (rules_container_set_addresses(&next->fw, parsed.addresses, parsed.naddresses) < 0) {
		engine_ct_free(next);
		api_result_nomem(res);
		goto out;
	}
	if (old != NULL && rules_container_equal(&old->fw, &next->fw)) {
		engine_ct_free(next);
		answer_firewall(calls, res, API_STATUS_OK, old, attach, "");
		goto out;
	}
	moved = old == NULL || strcmp(old->fw.ifname, next->fw.ifname) != 0;
	/* the interface it leaves (a detach, or a move) has no container after this */
	if (old != NULL && moved)
		memcpy(released, old->fw.ifname, sizeof(released));
	if (next->fw.naddresses > 0)
		snprintf(pinned, sizeof(pinned), ", %zu addresses pinned", next->fw.naddresses);
	if (commit(e, id, old, next, res)) {
		if (next->fw.ifname[0] != '\0') {
			log_info("container %s: attached to interface %s%s (revision %llu)%s", id,
				 next->fw.ifname, pinned, (unsigned long long)next->revision,
				 links_presence_now(calls->links, next->fw.ifname) == 0
					 ? "; no interface of that name exists now"
					 : "");
			if (moved)
				bridges_attached(calls->bridges, calls->links, next->fw.ifname, id);
		} else
			log_info("container %s: detached (revision %llu)", id,
				 (unsigned long long)next->revision);
		log_released(e, released);
		answer_firewall(calls, res, old ? API_STATUS_OK : API_STATUS_CREATED, next, attach,
				released);
	}
out:
	pthread_rwlock_unlock(&e->lock);
	rules_container_clear(&parsed);
}

void
firewall_container_delete(void *ctx, const char *id, struct api_result *res)
{
	const struct calls *calls = ctx;
	struct engine *e = calls->engine;
	struct engine_ct *old;
	char released[sizeof(old->fw.ifname)];

	if (!calls_id_ok(id, res))
		return;
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	if (old == NULL) {
		api_result_fail(res, API_STATUS_NOT_FOUND, "container_not_found", "",
				"container %s is not known", id);
		goto out;
	}
	memcpy(released, old->fw.ifname, sizeof(released));
	if (commit(e, id, old, NULL, res)) {
		cJSON *o = cJSON_CreateObject(), *w = NULL;

		log_info("container %s: deleted", id);
		log_released(e, released);
		if (o != NULL &&
		    (!cJSON_AddStringToObject(o, "container_id", id) ||
		     !cJSON_AddTrueToObject(o, "deleted") || (w = calls_warnings(o)) == NULL ||
		     (released[0] != '\0' && !calls_warn_released(calls, w, released, id)))) {
			cJSON_Delete(o);
			o = NULL;
		}
		api_result_answer(res, API_STATUS_OK, o);
	}
out:
	pthread_rwlock_unlock(&e->lock);
}

#define DROPS_LIMIT_DEFAULT 50

void
firewall_drops(void *ctx, const char *id, const char *limit, struct api_result *res)
{
	const struct calls *calls = ctx;
	struct engine *e = calls->engine;
	unsigned long n = DROPS_LIMIT_DEFAULT;
	bool known;
	cJSON *o;
	char *end;

	if (!calls_id_ok(id, res))
		return;
	if (limit != NULL) {
		errno = 0;
		n = strtoul(limit, &end, 10);
		if (errno != 0 || end == limit || *end != '\0' || limit[0] == '-' || n == 0 ||
		    n > DROPS_RING) {
			api_result_fail(
				res, API_STATUS_BAD_INPUT, "invalid_limit", "limit",
				"limit \"%.32s\": expected a number of drops, 1 to %d (default %d)",
				limit, DROPS_RING, DROPS_LIMIT_DEFAULT);
			return;
		}
	}
	pthread_rwlock_rdlock(&e->lock);
	known = engine_ct_find(e, id) != NULL;
	pthread_rwlock_unlock(&e->lock);
	if (!known) {
		calls_fail_not_found(res, id);
		return;
	}
	if (calls->drops == NULL) {
		api_result_fail(res, API_STATUS_CONFLICT, "drop_log_off", "",
				"the drop log is off (agentd --drop-log-rate 0)");
		return;
	}
	o = drops_json(calls->drops, id, (unsigned int)n);
	if (o != NULL && cJSON_AddStringToObject(o, "container_id", id) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	api_result_answer(res, API_STATUS_OK, o);
}
