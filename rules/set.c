/*
 * The complete desired state: {"containers": {"<id>": {container}}},
 * from raw JSON text, with the invariants that span containers.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rules/rules_int.h"

#define DOC_HINT "expected an object such as {\"containers\": {\"web\": {\"rules\": []}}}"

static int
cmp_container(const void *a, const void *b)
{
	const struct rules_container *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static int
cmp_key(const void *key, const void *elem)
{
	const struct rules_container *c = elem;

	return strcmp(key, c->id);
}

/* By interface, then id, so that equal interfaces end up adjacent. */
static int
cmp_ifname(const void *a, const void *b)
{
	const struct rules_container *const *x = a, *const *y = b;
	int r = strcmp((*x)->ifname, (*y)->ifname);

	return r != 0 ? r : strcmp((*x)->id, (*y)->id);
}

/* Two containers on one interface would each rewrite the other's chain. */
static int
check_ifnames(const struct rules_set *s, struct rules_error *reterr)
{
	const struct rules_container **v;
	size_t i;
	int r = 0;

	if (s->ncontainers < 2)
		return 0;
	v = malloc(s->ncontainers * sizeof(*v));
	if (v == NULL)
		return rules_error_nomem(reterr);
	for (i = 0; i < s->ncontainers; i++)
		v[i] = &s->containers[i];
	if (s->ncontainers > 1) /* qsort() takes no NULL, even for nothing */
		qsort(v, s->ncontainers, sizeof(*v), cmp_ifname);
	for (i = 1; i < s->ncontainers; i++) {
		if (v[i]->ifname[0] == '\0' || strcmp(v[i - 1]->ifname, v[i]->ifname) != 0)
			continue;
		r = rules_error_set(reterr, "duplicate_interface", "interface",
				    "interface \"%s\" is used by containers \"%s\" and \"%s\"; an "
				    "interface may belong to one container only",
				    v[i]->ifname, v[i - 1]->id, v[i]->id);
		memcpy(reterr->container, v[i]->id, sizeof(reterr->container));
		break;
	}
	free(v);
	return r;
}

static int
parse_containers(const struct cJSON *obj, struct rules_set *s, struct rules_error *reterr)
{
	char q[RULES_QUOTE_SIZE];
	const struct cJSON *it;
	size_t i, n;
	int r;

	if (!cJSON_IsObject(obj))
		return rules_error_set(reterr, "invalid_containers", "containers",
				       "containers: expected an object mapping container ids to "
				       "containers, got %s",
				       rules_json_type(obj));
	n = (size_t)cJSON_GetArraySize(obj);
	if (n == 0)
		return 0;
	s->containers = calloc(n, sizeof(*s->containers));
	if (s->containers == NULL)
		return rules_error_nomem(reterr);
	for (it = obj->child; it != NULL; it = it->next) {
		if (!rules_id_valid(it->string))
			return rules_error_set(reterr, "invalid_container_id", "containers",
					       "container id %s: " RULES_ID_HINT,
					       rules_quote(it->string, q));
		r = rules_container_parse(it, it->string, &s->containers[s->ncontainers], reterr);
		if (r < 0)
			return r;
		s->ncontainers++;
	}
	if (s->ncontainers > 1) /* qsort() takes no NULL, even for nothing */
		qsort(s->containers, s->ncontainers, sizeof(*s->containers), cmp_container);
	/* cJSON keeps every copy of a repeated key; sorting made them adjacent */
	for (i = 1; i < s->ncontainers; i++) {
		if (strcmp(s->containers[i - 1].id, s->containers[i].id) != 0)
			continue;
		r = rules_error_set(reterr, "duplicate_field", "containers",
				    "container \"%s\" is given twice; each container id may appear "
				    "once",
				    s->containers[i].id);
		memcpy(reterr->container, s->containers[i].id, sizeof(reterr->container));
		return r;
	}
	return check_ifnames(s, reterr);
}

int
rules_set_from_json(const struct cJSON *doc, struct rules_set **ret_set, struct rules_error *reterr)
{
	struct rules_field f[] = {{"containers", NULL}};
	struct rules_set *s = NULL;
	int r;

	if (!cJSON_IsObject(doc))
		return rules_error_set(reterr, "invalid_document", "",
				       "document: got %s; " DOC_HINT, rules_json_type(doc));
	r = rules_json_fields(doc, f, 1, reterr);
	if (r < 0)
		return r;
	if (f[0].item == NULL)
		return rules_error_set(reterr, "missing_field", "containers",
				       "missing field \"containers\"; " DOC_HINT);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return rules_error_nomem(reterr);
	r = parse_containers(f[0].item, s, reterr);
	if (r < 0) {
		rules_set_free(s);
		return r;
	}
	*ret_set = s;
	return 0;
}

int
rules_set_parse(const char *buf, size_t len, struct rules_set **ret_set, struct rules_error *reterr)
{
	const char *end;
	cJSON *doc = NULL;
	char *text;
	int r;

	r = rules_json_check_raw(buf, len, reterr);
	if (r < 0)
		return r;
	/*
	 * cJSON's require_null_terminated wants the NUL inside the length it
	 * is given, and buf need not have one: parse a terminated copy.
	 */
	text = malloc(len + 1);
	if (text == NULL)
		return rules_error_nomem(reterr);
	if (len > 0)
		memcpy(text, buf, len);
	text[len] = '\0';
	end = text; /* cJSON sets it on failure; 0 if it ever does not */
	doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
	if (doc == NULL)
		r = rules_error_set(reterr, "invalid_json", "",
				    "invalid JSON at offset %zu; " DOC_HINT, (size_t)(end - text));
	else
		r = rules_set_from_json(doc, ret_set, reterr);
	cJSON_Delete(doc);
	free(text);
	return r;
}

void
rules_set_free(struct rules_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ncontainers; i++)
		rules_container_clear(&s->containers[i]);
	free(s->containers);
	free(s);
}

const struct rules_container *
rules_set_find(const struct rules_set *s, const char *id)
{
	if (s == NULL || s->ncontainers == 0)
		return NULL;
	return bsearch(id, s->containers, s->ncontainers, sizeof(*s->containers), cmp_key);
}
