/*
 * JSON plumbing shared by the parsers: the raw-text check that guards
 * cJSON, object member sorting, and type names for messages.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rules/rules_int.h"

int
rules_json_check_raw(const char *buf, size_t len, struct rules_error *reterr)
{
	bool in_string = false, escaped = false;
	size_t i, values = 1;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		/* cJSON stops at a NUL: whatever follows would go unseen */
		if (c == '\0')
			return rules_error_set(
				reterr, "invalid_json", "",
				"invalid JSON at offset %zu: NUL bytes are not allowed; "
				"send UTF-8 JSON text without them",
				i);
		if (!in_string) {
			in_string = c == '"';
			/* each value costs cJSON a node of some 64 bytes */
			values += c == ',' || c == '[' || c == '{';
			continue;
		}
		if (escaped) {
			escaped = false;
			/* cJSON would silently cut the string short here */
			if (c == 'u' && len - i > 4 && memcmp(buf + i + 1, "0000", 4) == 0)
				return rules_error_set(
					reterr, "invalid_json", "",
					"invalid JSON at offset %zu: strings may not "
					"contain \\u0000; remove the NUL character",
					i - 1);
			continue;
		}
		if (c == '\\')
			escaped = true;
		else if (c == '"')
			in_string = false;
		else if (c < 0x20)
			return rules_error_set(
				reterr, "invalid_json", "",
				"invalid JSON at offset %zu: control character 0x%02x "
				"in a string; escape it (\\n, \\t, \\u00XX)",
				i, c);
	}
	if (values > RULES_JSON_VALUES_MIN + len / RULES_JSON_BYTES_PER_VALUE)
		return rules_error_set(reterr, "invalid_json", "",
				       "invalid JSON: %zu values in %zu bytes; a body may hold at "
				       "most %u values and one more per %u bytes (rules, "
				       "containers and their fields fit well within that)",
				       values, len, RULES_JSON_VALUES_MIN,
				       RULES_JSON_BYTES_PER_VALUE);
	return 0;
}

const char *
rules_json_type(const struct cJSON *item)
{
	if (item == NULL)
		return "nothing";
	if (cJSON_IsNull(item))
		return "null";
	if (cJSON_IsBool(item))
		return "a boolean";
	if (cJSON_IsNumber(item))
		return "a number";
	if (cJSON_IsString(item))
		return "a string";
	if (cJSON_IsArray(item))
		return "an array";
	return "an object";
}

static void
join_names(const struct rules_field *fields, size_t n, char *buf, size_t size)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i > 0 ? ", " : "", fields[i].name);
}

int
rules_json_fields(const struct cJSON *obj, struct rules_field *fields, size_t n,
		  struct rules_error *reterr)
{
	const struct cJSON *it;
	char q[RULES_QUOTE_SIZE], names[128];
	size_t i;

	for (it = obj->child; it != NULL; it = it->next) {
		for (i = 0; i < n; i++)
			if (strcmp(fields[i].name, it->string) == 0)
				break;
		if (i == n) {
			join_names(fields, n, names, sizeof(names));
			return rules_error_set(reterr, "unknown_field", it->string,
					       "unknown field %s; accepted fields are %s",
					       rules_quote(it->string, q), names);
		}
		/* cJSON keeps both copies; silently taking one would hide a mistake */
		if (fields[i].item != NULL)
			return rules_error_set(reterr, "duplicate_field", fields[i].name,
					       "field \"%s\" is given twice; each field may appear "
					       "once",
					       fields[i].name);
		fields[i].item = it;
	}
	return 0;
}
