/*
 * Filling struct api_result: the daemon's calls answer through these,
 * so that every failure has the same shape.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api/api.h"
#include "rules/rules.h"

void
api_result_fail(struct api_result *res, enum api_status status, const char *code, const char *field,
		const char *fmt, ...)
{
	va_list ap;

	res->status = status;
	res->code = code;
	snprintf(res->field, sizeof(res->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

void
api_result_nomem(struct api_result *res)
{
	api_result_fail(res, API_STATUS_NO_MEMORY, "out_of_memory", "", "out of memory");
}

void
api_result_rules_error(struct api_result *res, const struct rules_error *re)
{
	if (strcmp(re->code, "out_of_memory") == 0)
		api_result_nomem(res);
	else
		api_result_fail(res, API_STATUS_BAD_INPUT, re->code, re->field, "%s", re->message);
}

void
api_result_answer(struct api_result *res, enum api_status status, cJSON *data)
{
	if (data == NULL) {
		api_result_nomem(res);
		return;
	}
	res->status = status;
	res->data = data;
}

void
api_result_clear(struct api_result *res)
{
	cJSON_Delete(res->data);
	free(res->text);
	memset(res, 0, sizeof(*res));
}
