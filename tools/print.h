#ifndef HOODY_CLI_PRINT_H
#define HOODY_CLI_PRINT_H

/*
 * print: agentd's answers (the "data" member) as text for people.
 * Columns are aligned by counting characters. Control characters in
 * strings from the wire are printed as '?', so no answer can drive the
 * terminal. Members that are missing print as "-"; nothing here fails,
 * the caller checks the stream.
 */

#include <stdio.h>

struct cJSON;

/*
 * Every view of one container says whether its firewall is enforced
 * ("enforced: yes", or why not: NOT ATTACHED, INTERFACE MISSING, ...),
 * and tables have an ENFORCED column, when the agent's answer says so.
 */

/* A firewall: container, interface, default action, revision, enforced, rules. */
void cli_print_firewall(FILE *f, const struct cJSON *fw);

/* An egress list {"container_id", "rules", "enforcement", "revision"}: enforced, the rules table.
 */
void cli_print_egress(FILE *f, const struct cJSON *list);

/* The rule that create stored (status 201) or found (200), as a table. */
void cli_print_rule_created(FILE *f, const struct cJSON *rule, long status);

/* {"container_id", "deleted": "RULE_ID", "revision"} */
void cli_print_rule_deleted(FILE *f, const struct cJSON *d);

/* The firewall that reset left (status 201 when it created the container). */
void cli_print_reset(FILE *f, const struct cJSON *fw, long status);

/* The firewall after attach or detach (201 when it created the container). */
void cli_print_attach(FILE *f, const struct cJSON *fw, long status);

/* {"container_id", "deleted": true} */
void cli_print_container_deleted(FILE *f, const struct cJSON *d);

/* {"containers": [...]}: one row per container. */
void cli_print_containers(FILE *f, const struct cJSON *list);

/* agentd's health, with the containers not enforced and what befalls unattached interfaces. */
void cli_print_health(FILE *f, const struct cJSON *h);

/* GET /firewall/audit: a header line, a table, then every difference. */
void cli_print_audit(FILE *f, const struct cJSON *audit);
/* The drop log of one container (GET .../firewall/drops). */
void cli_print_drops(FILE *f, const struct cJSON *drops);

/*
 * v as indented JSON and a newline: what scripts read with -o json.
 * Returns 0, or -ENOMEM.
 */
int cli_print_json(FILE *f, const struct cJSON *v);

/* Write s with what a terminal would act on (controls, bidi overrides) as '?'. */
void cli_print_clean(FILE *f, const char *s);

/* The answer's "warnings" (data's), one "hoody: warning: MESSAGE (CODE)" line each. */
void cli_print_warnings(FILE *f, const struct cJSON *data);

#endif
