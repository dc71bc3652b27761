/*
 * libFuzzer target for the JSON the control plane and the state files
 * send: the first byte says what the rest is. 0: a rule, as POST egress
 * takes it; 1: a container's firewall, as PUT takes it; 2: a whole
 * host's desired state; 3: a container's state file. Each is checked
 * raw and parsed as the agent does; what parses is rendered, parsed
 * again and must come back equal, and both renderers (the cJSON tree
 * and the streaming writer) must write the same text.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rules/rules.h"

#define NOW 1796126400 /* the resolved "ttl"s count from a fixed clock */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* v rendered as text (NULL when out of memory); v freed. */
static char *
text_of(cJSON *v)
{
	char *t = v != NULL ? cJSON_PrintUnformatted(v) : NULL;

	cJSON_Delete(v);
	return t;
}

static cJSON *
parse_raw(const char *buf, size_t len)
{
	struct rules_error re;

	if (rules_json_check_raw(buf, len, &re) < 0)
		return NULL;
	return cJSON_ParseWithLength(buf, len);
}

static void
one_rule(const char *buf, size_t len)
{
	struct rules_rule r = {0}, again = {0};
	struct rules_error re;
	cJSON *doc = parse_raw(buf, len), *back;

	if (doc == NULL)
		return;
	if (rules_rule_parse(doc, 0, &r, &re) == 0 &&
	    rules_rule_expiry_resolve(&r, NOW, &re) == 0) {
		if (r.id[0] == '\0')
			rules_rule_id_assign(&r, NULL, 0);
		back = rules_rule_to_json(&r);
		if (back == NULL || rules_rule_parse(back, 0, &again, &re) != 0 ||
		    !rules_rule_equal(&r, &again))
			abort();
		cJSON_Delete(back);
		rules_rule_clear(&again);
	}
	rules_rule_clear(&r);
	cJSON_Delete(doc);
}

/* c rendered both ways must read the same, and parse back equal. */
static void
container_round_trip(const struct rules_container *c)
{
	struct rules_container again = {0};
	struct rules_error re;
	struct rules_jw w;
	cJSON *back = rules_container_to_json(c);
	char *tree, *stream;

	if (back == NULL || rules_container_parse(back, c->id, &again, &re) != 0 ||
	    !rules_container_equal(c, &again))
		abort();
	rules_container_clear(&again);
	tree = text_of(back);
	rules_jw_init(&w);
	rules_jw_open(&w, '{');
	rules_container_write(&w, c, NULL, NULL);
	rules_jw_close(&w, '}');
	stream = rules_jw_take(&w);
	if (tree == NULL || stream == NULL || strcmp(tree, stream) != 0)
		abort();
	free(tree);
	free(stream);
}

static void
one_container(const char *buf, size_t len)
{
	struct rules_container c = {0};
	struct rules_error re;
	cJSON *doc = parse_raw(buf, len);

	if (doc == NULL)
		return;
	if (rules_container_parse(doc, "c1", &c, &re) == 0 &&
	    rules_container_expiry_resolve(&c, NOW, &re) == 0)
		container_round_trip(&c);
	rules_container_clear(&c);
	cJSON_Delete(doc);
}

static void
one_set(const char *buf, size_t len)
{
	struct rules_set *s = NULL, *again = NULL;
	struct rules_error re;
	size_t i;
	char *t;

	if (rules_set_parse(buf, len, &s, &re) != 0)
		return;
	for (i = 0; i < s->ncontainers; i++)
		if (rules_container_expiry_resolve(&s->containers[i], NOW, &re) == 0)
			container_round_trip(&s->containers[i]);
	t = text_of(rules_set_to_json(s));
	if (t == NULL || rules_set_parse(t, strlen(t), &again, &re) != 0 ||
	    again->ncontainers != s->ncontainers)
		abort();
	for (i = 0; i < s->ncontainers; i++)
		if (!rules_container_equal(&s->containers[i], &again->containers[i]))
			abort();
	free(t);
	rules_set_free(again);
	rules_set_free(s);
}

static void
one_state_file(const char *buf, size_t len)
{
	struct rules_container c = {0}, again = {0};
	struct rules_error re;
	uint64_t rev = 0, rev2 = 0;
	char *t;

	if (rules_state_parse(buf, len, "c1", &c, &rev, &re) != 0)
		return;
	t = rules_state_render(&c, rev);
	if (t == NULL || rules_state_parse(t, strlen(t), "c1", &again, &rev2, &re) != 0 ||
	    rev2 != rev || !rules_container_equal(&c, &again))
		abort();
	free(t);
	rules_container_clear(&again);
	rules_container_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const kinds[])(const char *, size_t) = {one_rule, one_container, one_set,
							      one_state_file};

	if (size < 1)
		return 0;
	kinds[data[0] % 4]((const char *)data + 1, size - 1);
	return 0;
}
