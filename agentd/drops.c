/*
 * The drop log's reader and its ring of recent drops. Names come from
 * the engine at the time of reading: a drop reported after its rule was
 * deleted is still shown with the tag's container, as rule "unknown".
 */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>

#include "agentd/drops.h"
#include "agentd/engine_int.h"
#include "agentd/log.h"
#include "agentd/watch.h"
#include "nft/nft.h"
#include "rules/rules.h"

struct drop {
	struct nft_drop d;
	char container[RULES_ID_MAX + 1];
	char rule[RULES_ID_MAX + 1];
	/* a query the resolver refused: the name asked (cut at 255 bytes), its type */
	bool dns;
	uint16_t qtype;
	char name[256];
};

struct drops {
	struct engine *e;
	struct nft_droplog *log;
	struct watch *w;
	pthread_mutex_t lock; /* the ring and the counters */
	struct drop *ring;    /* DROPS_RING entries */
	uint64_t n;	      /* drops ever seen; the newest is ring[(n - 1) % DROPS_RING] */
	uint64_t lost;	      /* reported lost by the kernel (socket overrun) */
};

static const char *
proto_name(uint8_t p, char buf[8])
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		snprintf(buf, 8, "%u", p);
		return buf;
	}
}

static void
addr_text(const struct nft_drop *d, const uint8_t *a, char buf[INET6_ADDRSTRLEN])
{
	if (d->family == 0 || inet_ntop(d->family, a, buf, INET6_ADDRSTRLEN) == NULL)
		strcpy(buf, "?");
}

/*
 * Name the container and rule (or "default") whose tag dropped a packet
 * that came in on ifname. Returns 0, or -ENOENT when no container has
 * the interface and tag.
 */
static int
drop_names(struct engine *e, const char *ifname, uint32_t tag, char *ret_container, char *ret_rule)
{
	const char *id;
	struct engine_ct *c;
	size_t i;
	int r;

	pthread_rwlock_rdlock(&e->lock);
	r = nft_model_tag(e->model, ifname, tag, &id, &i);
	c = r == 0 ? engine_ct_find(e, id) : NULL;
	if (c == NULL)
		r = -ENOENT;
	else {
		strcpy(ret_container, c->fw.id);
		strcpy(ret_rule, i < c->fw.nrules    ? c->fw.rules[i].id
				 : i == c->fw.nrules ? "default"
						     : "unknown");
	}
	pthread_rwlock_unlock(&e->lock);
	return r;
}

static void
ring_add(struct drops *d, const struct drop *x)
{
	pthread_mutex_lock(&d->lock);
	d->ring[d->n % DROPS_RING] = *x;
	d->n++;
	pthread_mutex_unlock(&d->lock);
}

static int
on_drop(const struct nft_drop *nd, void *data)
{
	struct drops *d = data;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pb[8];
	struct drop x = {.d = *nd};

	/* not a container's: an interface gone, or a packet nothing tagged */
	if (drop_names(d->e, nd->ifname, nd->tag, x.container, x.rule) < 0)
		return 0;
	addr_text(nd, nd->saddr, src);
	addr_text(nd, nd->daddr, dst);
	log_info("drop: container %s rule %s: %s %s:%u -> %s:%u on %s", x.container, x.rule,
		 proto_name(nd->proto, pb), src, nd->sport, dst, nd->dport, nd->ifname);
	ring_add(d, &x);
	return 0;
}

void
drops_dns(struct drops *d, const char *container, const char *ifname, const char *name,
	  uint16_t qtype)
{
	struct drop x = {.dns = true, .qtype = qtype};

	clock_gettime(CLOCK_REALTIME, &x.d.when);
	snprintf(x.container, sizeof(x.container), "%s", container);
	snprintf(x.d.ifname, sizeof(x.d.ifname), "%s", ifname);
	snprintf(x.name, sizeof(x.name), "%s", name);
	log_info("drop: container %s dns: query for %s (type %u) refused on %s", container, x.name,
		 qtype, ifname);
	ring_add(d, &x);
}

static void
on_ready(void *data)
{
	struct drops *d = data;
	int r = nft_droplog_read(d->log, on_drop, d);

	if (r == -ENOBUFS) {
		pthread_mutex_lock(&d->lock);
		d->lost++;
		pthread_mutex_unlock(&d->lock);
		log_warnx("drop log: the kernel dropped reports (socket full)");
	} else if (r < 0)
		log_warn(r, "drop log: read");
}

static const struct watch_ops drops_ops = {.name = "drop log", .ready = on_ready};

int
drops_start(struct engine *e, uint16_t group, struct drops **ret)
{
	struct drops *d = calloc(1, sizeof(*d));
	int r;

	if (d == NULL)
		return -ENOMEM;
	d->e = e;
	pthread_mutex_init(&d->lock, NULL);
	d->ring = calloc(DROPS_RING, sizeof(*d->ring));
	if (d->ring == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	r = nft_droplog_open(group, &d->log);
	if (r < 0) {
		log_warn(r, "drop log: binding NFLOG group %u%s", group,
			 r == -EBUSY || r == -EPERM ? " (another socket has it: choose another "
						      "--drop-log-group)"
						    : "");
		goto fail;
	}
	r = watch_start(nft_droplog_fd(d->log), &drops_ops, d, &d->w);
	if (r < 0)
		goto fail;
	*ret = d;
	return 0;
fail:
	drops_stop(d);
	return r;
}

void
drops_stop(struct drops *d)
{
	if (d == NULL)
		return;
	watch_stop(d->w);
	nft_droplog_close(d->log);
	free(d->ring);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static cJSON *
drop_json(const struct drop *x)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], when[40], pb[8];
	cJSON *o = cJSON_CreateObject();
	struct tm tm;

	if (o == NULL)
		return NULL;
	gmtime_r(&x->d.when.tv_sec, &tm);
	strftime(when, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03dZ",
		 (int)(x->d.when.tv_nsec / 1000000) % 1000);
	if (x->dns) {
		if (!cJSON_AddStringToObject(o, "time", when) ||
		    !cJSON_AddStringToObject(o, "kind", "dns") ||
		    !cJSON_AddStringToObject(o, "name", x->name) ||
		    !cJSON_AddNumberToObject(o, "query_type", x->qtype) ||
		    !cJSON_AddStringToObject(o, "interface", x->d.ifname)) {
			cJSON_Delete(o);
			return NULL;
		}
		return o;
	}
	addr_text(&x->d, x->d.saddr, src);
	addr_text(&x->d, x->d.daddr, dst);
	if (!cJSON_AddStringToObject(o, "time", when) ||
	    !cJSON_AddStringToObject(o, "kind", "packet") ||
	    !cJSON_AddStringToObject(o, "rule_id", x->rule) ||
	    !cJSON_AddStringToObject(o, "protocol", proto_name(x->d.proto, pb)) ||
	    !cJSON_AddStringToObject(o, "source", src) ||
	    !cJSON_AddStringToObject(o, "destination", dst) ||
	    !cJSON_AddStringToObject(o, "interface", x->d.ifname) ||
	    ((x->d.proto == IPPROTO_TCP || x->d.proto == IPPROTO_UDP) &&
	     (!cJSON_AddNumberToObject(o, "source_port", x->d.sport) ||
	      !cJSON_AddNumberToObject(o, "destination_port", x->d.dport)))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *
drops_json(struct drops *d, const char *id, unsigned int limit)
{
	cJSON *o = cJSON_CreateObject(), *v = o ? cJSON_AddArrayToObject(o, "drops") : NULL;
	uint64_t i, oldest;
	unsigned int n = 0;
	bool ok = v != NULL;

	pthread_mutex_lock(&d->lock);
	oldest = d->n > DROPS_RING ? d->n - DROPS_RING : 0;
	for (i = d->n; ok && i > oldest && n < limit; i--) {
		const struct drop *x = &d->ring[(i - 1) % DROPS_RING];
		cJSON *e;

		if (strcmp(x->container, id) != 0)
			continue;
		e = drop_json(x);
		ok = e != NULL && cJSON_AddItemToArray(v, e);
		n++;
	}
	ok = ok && cJSON_AddNumberToObject(o, "lost", (double)d->lost);
	pthread_mutex_unlock(&d->lock);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
