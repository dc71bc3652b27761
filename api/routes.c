/*
 * The API's paths and methods, and the checks every body passes before
 * the daemon sees it: content type, well-formed JSON, an object.
 */

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "api/api.h"
#include "rules/rules.h"

enum body {
	BODY_NONE = 0, /* ignored when sent */
	BODY_OPTIONAL, /* absent, or an empty JSON object */
	BODY_REQUIRED,
};

enum call {
	CALL_HEALTH = 0,
	CALL_LIST,
	CALL_CONTAINER_PUT,
	CALL_CONTAINER_DELETE,
	CALL_FIREWALL_GET,
	CALL_FIREWALL_PUT,
	CALL_RESET,
	CALL_RULES_GET,
	CALL_RULE_ADD,
	CALL_RULE_DELETE,
	CALL_HOST_GET,
	CALL_HOST_PUT,
	CALL_AUDIT,
	CALL_CONTAINER_AUDIT,
	CALL_DROPS,
};

/* A path pattern: "{}" matches one segment (an id); NULL ends it. */
#define ROUTE_SEGMENTS_MAX 6

struct route {
	const char *path[ROUTE_SEGMENTS_MAX];
	const char *method;
	enum body body;
	enum call call;
};

static const struct route routes[] = {
	{{"health"}, "GET", BODY_NONE, CALL_HEALTH},
	{{"firewall"}, "GET", BODY_NONE, CALL_HOST_GET},
	{{"firewall"}, "PUT", BODY_REQUIRED, CALL_HOST_PUT},
	{{"firewall", "audit"}, "GET", BODY_NONE, CALL_AUDIT},
	{{"containers"}, "GET", BODY_NONE, CALL_LIST},
	{{"containers", "{}"}, "PUT", BODY_REQUIRED, CALL_CONTAINER_PUT},
	{{"containers", "{}"}, "DELETE", BODY_NONE, CALL_CONTAINER_DELETE},
	{{"containers", "{}", "firewall"}, "GET", BODY_NONE, CALL_FIREWALL_GET},
	{{"containers", "{}", "firewall"}, "PUT", BODY_REQUIRED, CALL_FIREWALL_PUT},
	{{"containers", "{}", "firewall", "reset"}, "POST", BODY_OPTIONAL, CALL_RESET},
	{{"containers", "{}", "firewall", "audit"}, "GET", BODY_NONE, CALL_CONTAINER_AUDIT},
	{{"containers", "{}", "firewall", "drops"}, "GET", BODY_NONE, CALL_DROPS},
	{{"containers", "{}", "firewall", "egress"}, "GET", BODY_NONE, CALL_RULES_GET},
	{{"containers", "{}", "firewall", "egress"}, "POST", BODY_REQUIRED, CALL_RULE_ADD},
	{{"containers", "{}", "firewall", "egress", "{}"}, "DELETE", BODY_NONE, CALL_RULE_DELETE},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static pthread_mutex_t large_parse = PTHREAD_MUTEX_INITIALIZER;

static char *
error_text(const char *code, const char *field_in, const char *message_in)
{
	cJSON *o = cJSON_CreateObject(), *e = o ? cJSON_AddObjectToObject(o, "error") : NULL;
	char message[API_MESSAGE_MAX], field[API_MESSAGE_MAX];
	char *text = NULL;

	/* they may quote what a client sent, or be cut in a character: UTF-8 out */
	snprintf(message, sizeof(message), "%s", message_in);
	snprintf(field, sizeof(field), "%s", field_in);
	rules_text_clean(message);
	rules_text_clean(field);
	if (e != NULL && cJSON_AddStringToObject(e, "code", code) &&
	    cJSON_AddStringToObject(e, "message", message) &&
	    cJSON_AddStringToObject(e, "field", field))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/*
 * {"data": text}, for an answer the daemon rendered itself (taken).
 * Grown in place: a large buffer moves by remapping, not copying.
 */
static char *
wrap_data(char *text)
{
	static const char head[] = "{\"data\":";
	size_t h = sizeof(head) - 1, n = strlen(text);
	char *s = realloc(text, h + n + 2);

	if (s == NULL) {
		free(text);
		return NULL;
	}
	memmove(s + h, s, n);
	memcpy(s, head, h);
	memcpy(s + h + n, "}", 2);
	return s;
}

void
api_reply_error(struct api_reply *rp, unsigned int status, const char *code, const char *field,
		const char *fmt, ...)
{
	char message[API_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	rp->status = status;
	rp->text = error_text(code, field, message);
}

static bool
matches(const struct route *r, const struct api_request *rq)
{
	unsigned int i;

	if (rq->nseg >= ROUTE_SEGMENTS_MAX)
		return false;
	for (i = 0; i < rq->nseg; i++)
		if (r->path[i] == NULL ||
		    (strcmp(r->path[i], "{}") != 0 && strcmp(r->path[i], rq->seg[i]) != 0))
			return false;
	return r->path[i] == NULL;
}

static bool
is_json(const char *content_type)
{
	size_t n = strlen("application/json");

	return content_type != NULL && strncasecmp(content_type, "application/json", n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

/* The body as a JSON object, or an answer saying why not. */
static bool
parse_body(const struct api_request *rq, enum body want, cJSON **ret, struct api_reply *rp)
{
	struct rules_error re = {0};
	const char *end = NULL;
	cJSON *o;

	*ret = NULL;
	if (want == BODY_NONE || (want == BODY_OPTIONAL && rq->body_len == 0))
		return true;
	if (rq->body_len == 0) {
		api_reply_error(rp, 400, "missing_body", "",
				"this call needs a JSON object as its body "
				"(Content-Type: application/json)");
		return false;
	}
	if (!is_json(rq->content_type)) {
		api_reply_error(rp, 415, "unsupported_media_type", "",
				"the body must be JSON, sent with Content-Type: application/json "
				"(got %.64s)",
				rq->content_type ? rq->content_type : "no Content-Type");
		return false;
	}
	if (rules_json_check_raw(rq->body, rq->body_len, &re) < 0) {
		api_reply_error(rp, 400, re.code, "", "%s", re.message);
		return false;
	}
	/* a body past the usual size (a whole host's state) is parsed one at
	 * a time: two at once would double the peak */
	if (rq->body_len > API_BODY_MAX)
		pthread_mutex_lock(&large_parse);
	o = cJSON_ParseWithLengthOpts(rq->body, rq->body_len, &end, false);
	if (rq->body_len > API_BODY_MAX)
		pthread_mutex_unlock(&large_parse);
	if (o == NULL) {
		size_t at = end != NULL && end >= rq->body ? (size_t)(end - rq->body) : 0;

		api_reply_error(rp, 400, "invalid_json", "",
				"the body is not valid JSON (near byte %zu of %zu)", at,
				rq->body_len);
		return false;
	}
	/* only white space may follow the value */
	end += strspn(end, " \t\r\n");
	if ((size_t)(end - rq->body) != rq->body_len || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		api_reply_error(rp, 400, "invalid_json", "",
				"the body must be one JSON object, e.g. {\"destination\": "
				"\"203.0.113.10\", \"action\": \"allow\"}");
		return false;
	}
	if (want == BODY_OPTIONAL && o->child != NULL) {
		api_reply_error(rp, 400, "unknown_field", o->child->string,
				"%.64s: unknown field; this call takes no parameters",
				o->child->string);
		cJSON_Delete(o);
		return false;
	}
	*ret = o;
	return true;
}

static unsigned int
http_status(enum api_status s)
{
	switch (s) {
	case API_STATUS_OK:
		return 200;
	case API_STATUS_CREATED:
		return 201;
	case API_STATUS_BAD_INPUT:
		return 400;
	case API_STATUS_NOT_FOUND:
		return 404;
	case API_STATUS_CONFLICT:
		return 409;
	case API_STATUS_STORAGE_FULL:
		return 507;
	case API_STATUS_NO_MEMORY:
		return 503;
	default:
		return 500;
	}
}

static void
call(const struct api_ops *ops, void *ctx, const struct route *r, const struct api_request *rq,
     const cJSON *body, struct api_result *res)
{
	const char *id = rq->nseg > 1 ? rq->seg[1] : NULL;

	switch (r->call) {
	case CALL_HEALTH:
		ops->health(ctx, res);
		break;
	case CALL_LIST:
		ops->containers_list(ctx, res);
		break;
	case CALL_CONTAINER_PUT:
		ops->container_put(ctx, id, body, res);
		break;
	case CALL_CONTAINER_DELETE:
		ops->container_delete(ctx, id, res);
		break;
	case CALL_FIREWALL_GET:
		ops->firewall_get(ctx, id, res);
		break;
	case CALL_FIREWALL_PUT:
		ops->firewall_put(ctx, id, body, res);
		break;
	case CALL_RESET:
		ops->reset(ctx, id, res);
		break;
	case CALL_RULES_GET:
		ops->rules_get(ctx, id, res);
		break;
	case CALL_RULE_ADD:
		ops->rule_add(ctx, id, body, res);
		break;
	case CALL_RULE_DELETE:
		ops->rule_delete(ctx, id, rq->seg[4], res);
		break;
	case CALL_HOST_GET:
		ops->host_get(ctx, res);
		break;
	case CALL_HOST_PUT:
		ops->host_put(ctx, body, res);
		break;
	case CALL_AUDIT:
		ops->audit(ctx, NULL, res);
		break;
	case CALL_CONTAINER_AUDIT:
		ops->audit(ctx, id, res);
		break;
	case CALL_DROPS:
		ops->drops(ctx, id, rq->limit, res);
		break;
	}
}

/* What a change did, from its answer: container, rule, revision, as there are. */
static void
note_change(const cJSON *data, struct api_reply *rp)
{
	static const char *const keys[][2] = {
		{"container_id", "container"}, {"id", "rule"},	       {"deleted", "rule"},
		{"revision", "revision"},      {"changed", "changed"},
	};
	size_t i, o = 0;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && o < sizeof(rp->change); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, keys[i][0]);

		if (cJSON_IsString(v))
			o += (size_t)snprintf(rp->change + o, sizeof(rp->change) - o, "%s%s=%.64s",
					      o ? " " : "", keys[i][1], v->valuestring);
		else if (cJSON_IsNumber(v))
			o += (size_t)snprintf(rp->change + o, sizeof(rp->change) - o, "%s%s=%.0f",
					      o ? " " : "", keys[i][1], v->valuedouble);
	}
	if (o == 0)
		snprintf(rp->change, sizeof(rp->change), "done");
}

void
api_route(const struct api_ops *ops, void *ctx, const struct api_request *rq, struct api_reply *rp)
{
	struct api_result res = {0};
	const struct route *r = NULL;
	bool path_known = false;
	size_t i, first = 0;
	cJSON *body = NULL, *o;

	memset(rp, 0, sizeof(*rp));
	for (i = 0; i < NROUTES; i++) {
		if (!matches(&routes[i], rq))
			continue;
		if (!path_known)
			first = i;
		path_known = true;
		if (strcmp(routes[i].method, rq->method) == 0)
			r = &routes[i];
	}
	if (!path_known) {
		api_reply_error(rp, 404, "not_found", "",
				"no such path; the API lives under /api/v1/ "
				"(health, containers, containers/{id}[/firewall[/reset|/egress]])");
		return;
	}
	if (r == NULL) {
		/* the methods of one path are neighbours in the table */
		for (i = first; i < NROUTES && matches(&routes[i], rq); i++)
			snprintf(rp->allow + strlen(rp->allow),
				 sizeof(rp->allow) - strlen(rp->allow), "%s%s",
				 i > first ? ", " : "", routes[i].method);
		api_reply_error(rp, 405, "method_not_allowed", "",
				"%.16s is not allowed here; use %s", rq->method, rp->allow);
		return;
	}
	if (!parse_body(rq, r->body, &body, rp))
		return;
	call(ops, ctx, r, rq, body, &res);
	cJSON_Delete(body);
	rp->status = http_status(res.status);
	if (strcmp(rq->method, "GET") != 0 &&
	    (res.status == API_STATUS_OK || res.status == API_STATUS_CREATED))
		note_change(res.data, rp);
	if (res.status != API_STATUS_OK && res.status != API_STATUS_CREATED) {
		rp->text = error_text(res.code, res.field, res.message);
		api_result_clear(&res);
		return;
	}
	if (res.text != NULL) {
		rp->text = wrap_data(res.text);
		res.text = NULL;
		api_result_clear(&res);
		return;
	}
	o = cJSON_CreateObject();
	if (o != NULL && cJSON_AddItemToObject(o, "data", res.data))
		res.data = NULL;
	rp->text = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	api_result_clear(&res);
}
