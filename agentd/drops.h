#ifndef AGENTD_DROPS_H
#define AGENTD_DROPS_H

/*
 * drops: the drop log. A thread reads the packets the kernel reports
 * dropping (already rate-limited there, per container and for the
 * host), names the container and rule of each, writes it to the log
 * and keeps the most recent ones in a ring of bounded size.
 */

#include <stdint.h>

struct cJSON;
struct drops;
struct engine;

#define DROPS_RING 4096 /* entries kept, for the whole host */

/* Bind the NFLOG group and start reading. Returns 0 or a negative errno. */
int drops_start(struct engine *e, uint16_t group, struct drops **ret);
/* A DNS query for name (of type qtype) the resolver refused to container on ifname. */
void drops_dns(struct drops *d, const char *container, const char *ifname, const char *name,
	       uint16_t qtype);
/* Stop the thread and free d (which may be NULL). */
void drops_stop(struct drops *d);
/*
 * The most recent drops of container id, newest first, at most limit,
 * as {"drops": [...], "lost": N}. NULL when out of memory.
 */
struct cJSON *drops_json(struct drops *d, const char *id, unsigned int limit);

#endif
