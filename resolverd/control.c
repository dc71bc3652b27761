/*
 * The link to agentd: JSON objects, one per line, over a Unix stream
 * socket. agentd is trusted here (it started us); what we send it is
 * checked there. From agentd:
 *
 *   {"t":"reset","port":P,"upstreams":[{"addr":A,"port":P}],
 *    "min_ttl":S,"max_ttl":S,"rate":N}        forget every policy
 *   {"t":"policy","ifname":I,"id":C,"default":"allow"|"deny",
 *    "mark":M,"mask":K,                      its queries on a bridge
 *    "names":[{"rule":R,"action":"allow"|"deny","name":N}]}
 *   {"t":"gone","ifname":I}
 *   {"t":"ready"}                             the whole policy is here
 *   {"t":"opened","req":N,"ok":B}
 *   {"t":"peer","req":N,"mark":M}             whose port, 0: unknown
 *
 * To agentd:
 *
 *   {"t":"open","req":N,"id":C,"name":N,"rules":[R],
 *    "addrs":[{"addr":A,"ttl":S}]}
 *   {"t":"refused","id":C,"name":N,"qtype":T}
 *   {"t":"peer","req":N,"ifname":I,"addr":A,"port":P}
 *                      who opened this TCP connection that came in on a bridge?
 *
 * A new connection replaces the one before: a restarted agentd.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cJSON.h>

#include "resolverd/resolverd.h"

#define CTL_IN_MAX (16u << 20)	/* a policy line for a container with many names */
#define CTL_OUT_MAX (16u << 20) /* past it agentd is not reading: drop the link */

struct rd_ct *
rd_ct_find(struct rd *rd, const char *ifname)
{
	size_t i;

	for (i = 0; i < rd->ncts; i++)
		if (strcmp(rd->cts[i].ifname, ifname) == 0)
			return &rd->cts[i];
	return NULL;
}

struct rd_ct *
rd_ct_find_mark(struct rd *rd, uint32_t mark)
{
	size_t i;

	for (i = 0; i < rd->ncts && mark != 0; i++)
		if (rd->cts[i].mark != 0 && (mark & rd->cts[i].mask) == rd->cts[i].mark)
			return &rd->cts[i];
	return NULL;
}

static void
ct_forget(struct rd *rd, const char *ifname)
{
	struct rd_ct *ct = rd_ct_find(rd, ifname);

	if (ct == NULL)
		return;
	rules_container_clear(&ct->fw);
	*ct = rd->cts[--rd->ncts];
}

static void
ctl_close(struct rd *rd)
{
	if (rd->ctl < 0)
		return;
	close(rd->ctl);
	rd->ctl = -1;
	rd->agent_ready = false;
	rd->inlen = rd->outlen = 0;
}

void
rd_ctl_accept(struct rd *rd)
{
	int fd = accept4(rd->ctl_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	ctl_close(rd);
	rd->ctl = fd;
	if (rd_watch(rd, fd, RD_TAG_CTL, 0) < 0)
		ctl_close(rd);
}

static bool
grow(char **buf, size_t *cap, size_t need, size_t max)
{
	size_t n = *cap ? *cap : 4096;
	char *p;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	if (n > max)
		return false;
	p = realloc(*buf, n);
	if (p == NULL)
		return false;
	*buf = p;
	*cap = n;
	return true;
}

static void
ctl_write(struct rd *rd, char *line)
{
	size_t len;

	if (line == NULL || rd->ctl < 0) {
		free(line);
		return;
	}
	len = strlen(line);
	if (!grow(&rd->out, &rd->outcap, rd->outlen + len + 1, CTL_OUT_MAX)) {
		free(line);
		fprintf(stderr, "resolverd: agentd is not reading; dropping the link\n");
		ctl_close(rd);
		return;
	}
	memcpy(rd->out + rd->outlen, line, len);
	rd->out[rd->outlen + len] = '\n';
	rd->outlen += len + 1;
	free(line);
	rd_ctl_flush(rd);
}

void
rd_ctl_flush(struct rd *rd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = rd_tag(RD_TAG_CTL, 0)};
	ssize_t n;

	while (rd->ctl >= 0 && rd->outlen > 0) {
		n = send(rd->ctl, rd->out, rd->outlen, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			ctl_close(rd);
			return;
		}
		memmove(rd->out, rd->out + n, rd->outlen - n);
		rd->outlen -= n;
	}
	if (rd->ctl < 0)
		return;
	if (rd->outlen > 0)
		ev.events |= EPOLLOUT;
	epoll_ctl(rd->ep, EPOLL_CTL_MOD, rd->ctl, &ev);
}

void
rd_send_open(struct rd *rd, const struct rd_query *q)
{
	struct rules_jw w;
	char addr[INET6_ADDRSTRLEN];
	size_t i;

	if (!rd->agent_ready)
		return; /* sent when agentd is back */
	rules_jw_init(&w);
	rules_jw_open(&w, '{');
	rules_jw_key(&w, "t");
	rules_jw_str(&w, "open");
	rules_jw_key(&w, "req");
	rules_jw_u64(&w, q->req);
	rules_jw_key(&w, "id");
	rules_jw_str(&w, q->ct);
	rules_jw_key(&w, "name");
	rules_jw_str(&w, q->q.name);
	rules_jw_key(&w, "rules");
	rules_jw_open(&w, '[');
	for (i = 0; i < q->nrules; i++)
		rules_jw_str(&w, q->rules[i]);
	rules_jw_close(&w, ']');
	rules_jw_key(&w, "addrs");
	rules_jw_open(&w, '[');
	for (i = 0; i < q->naddrs; i++) {
		const struct resolver_addr *a = &q->addrs[i];

		inet_ntop(a->family == RULES_FAMILY_IPV6 ? AF_INET6 : AF_INET, a->addr, addr,
			  sizeof(addr));
		rules_jw_open(&w, '{');
		rules_jw_key(&w, "addr");
		rules_jw_str(&w, addr);
		rules_jw_key(&w, "ttl");
		rules_jw_u64(&w, a->ttl);
		rules_jw_close(&w, '}');
	}
	rules_jw_close(&w, ']');
	rules_jw_close(&w, '}');
	ctl_write(rd, rules_jw_take(&w));
}

void
rd_send_peer(struct rd *rd, uint64_t req, const char *ifname, const struct sockaddr_storage *peer)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)peer;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)peer;
	char addr[INET6_ADDRSTRLEN];
	struct rules_jw w;

	if (peer->ss_family == AF_INET)
		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
	else
		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
	rules_jw_init(&w);
	rules_jw_open(&w, '{');
	rules_jw_key(&w, "t");
	rules_jw_str(&w, "peer");
	rules_jw_key(&w, "req");
	rules_jw_u64(&w, req);
	rules_jw_key(&w, "ifname");
	rules_jw_str(&w, ifname);
	rules_jw_key(&w, "addr");
	rules_jw_str(&w, addr);
	rules_jw_key(&w, "port");
	rules_jw_u64(&w, ntohs(peer->ss_family == AF_INET ? s4->sin_port : s6->sin6_port));
	rules_jw_close(&w, '}');
	ctl_write(rd, rules_jw_take(&w));
}

void
rd_send_refused(struct rd *rd, const struct rd_ct *ct, const char *name, uint16_t qtype)
{
	struct rules_jw w;

	if (!rd->agent_ready)
		return;
	rules_jw_init(&w);
	rules_jw_open(&w, '{');
	rules_jw_key(&w, "t");
	rules_jw_str(&w, "refused");
	rules_jw_key(&w, "id");
	rules_jw_str(&w, ct->fw.id);
	rules_jw_key(&w, "name");
	rules_jw_str(&w, name);
	rules_jw_key(&w, "qtype");
	rules_jw_u64(&w, qtype);
	rules_jw_close(&w, '}');
	ctl_write(rd, rules_jw_take(&w));
}

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
num_of(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int
on_reset(struct rd *rd, const cJSON *m)
{
	const cJSON *ups = cJSON_GetObjectItemCaseSensitive(m, "upstreams"), *u;

	if (num_of(m, "port", 0) != rd->port) {
		/* agentd wants another port: a resolver of its own */
		fprintf(stderr, "resolverd: agentd wants port %.0f, this one has %u; exiting\n",
			num_of(m, "port", 0), rd->port);
		exit(0);
	}
	while (rd->ncts > 0)
		ct_forget(rd, rd->cts[0].ifname);
	rd->nup = 0;
	cJSON_ArrayForEach(u, ups)
	{
		const char *a = str_of(u, "addr");
		uint16_t port = (uint16_t)num_of(u, "port", 53);
		struct sockaddr_in *s4 = (struct sockaddr_in *)&rd->up[rd->nup];
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&rd->up[rd->nup];

		if (a == NULL || rd->nup == RD_UPSTREAM_MAX)
			continue;
		memset(&rd->up[rd->nup], 0, sizeof(rd->up[0]));
		if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(port);
			rd->uplen[rd->nup++] = sizeof(*s4);
		} else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(port);
			rd->uplen[rd->nup++] = sizeof(*s6);
		}
	}
	rd->ttl.min = (uint32_t)num_of(m, "min_ttl", 30);
	rd->ttl.max = (uint32_t)num_of(m, "max_ttl", 3600);
	rd->rate = (unsigned int)num_of(m, "rate", 100);
	rd->agent_ready = false;
	return 0;
}

static int
on_policy(struct rd *rd, const cJSON *m)
{
	const char *ifname = str_of(m, "ifname"), *id = str_of(m, "id");
	const char *dflt = str_of(m, "default");
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(m, "names"), *n;
	struct rd_ct *ct, *v;
	size_t k = 0;

	if (ifname == NULL || id == NULL || dflt == NULL || strlen(ifname) >= IFNAMSIZ ||
	    strlen(id) > RULES_ID_MAX || !cJSON_IsArray(names))
		return -EINVAL;
	ct = rd_ct_find(rd, ifname);
	if (ct == NULL) {
		v = reallocarray(rd->cts, rd->ncts + 1, sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		rd->cts = v;
		ct = &rd->cts[rd->ncts++];
		memset(ct, 0, sizeof(*ct));
		snprintf(ct->ifname, sizeof(ct->ifname), "%s", ifname);
		ct->tokens = 2.0 * rd->rate;
		ct->refill_ms = rd_now_ms();
	}
	rules_container_clear(&ct->fw);
	snprintf(ct->fw.id, sizeof(ct->fw.id), "%s", id);
	ct->fw.policy = strcmp(dflt, "allow") == 0 ? RULES_ACTION_ALLOW : RULES_ACTION_DENY;
	ct->mask = (uint32_t)num_of(m, "mask", 0);
	ct->mark = (uint32_t)num_of(m, "mark", 0) & ct->mask;
	ct->fw.rules = calloc(cJSON_GetArraySize(names) + 1, sizeof(*ct->fw.rules));
	if (ct->fw.rules == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(n, names)
	{
		const char *rule = str_of(n, "rule"), *action = str_of(n, "action");
		const char *name = str_of(n, "name");
		struct rules_rule *r = &ct->fw.rules[k];

		if (rule == NULL || action == NULL || name == NULL || strlen(rule) > RULES_ID_MAX)
			continue;
		snprintf(r->id, sizeof(r->id), "%s", rule);
		r->action = strcmp(action, "allow") == 0 ? RULES_ACTION_ALLOW : RULES_ACTION_DENY;
		r->dname = strdup(name);
		if (r->dname == NULL)
			return -ENOMEM;
		ct->fw.nrules = ++k;
	}
	return 0;
}

static void
on_line(struct rd *rd, const char *line)
{
	cJSON *m = cJSON_Parse(line);
	const char *t = m ? str_of(m, "t") : NULL;
	int r = 0;

	if (t == NULL)
		r = -EINVAL;
	else if (strcmp(t, "reset") == 0)
		r = on_reset(rd, m);
	else if (strcmp(t, "policy") == 0)
		r = on_policy(rd, m);
	else if (strcmp(t, "gone") == 0 && str_of(m, "ifname") != NULL)
		ct_forget(rd, str_of(m, "ifname"));
	else if (strcmp(t, "ready") == 0) {
		rd->agent_ready = true;
		rd_resend_opens(rd);
	} else if (strcmp(t, "opened") == 0)
		rd_opened(rd, (uint64_t)num_of(m, "req", 0),
			  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "ok")));
	else if (strcmp(t, "peer") == 0)
		rd_peer(rd, (uint64_t)num_of(m, "req", 0), (uint32_t)num_of(m, "mark", 0));
	else
		r = -EINVAL;
	if (r < 0)
		fprintf(stderr, "resolverd: from agentd: %s: %s\n", strerror(-r), line);
	cJSON_Delete(m);
}

void
rd_ctl_ready(struct rd *rd)
{
	char *nl;
	ssize_t n;

	for (;;) {
		if (!grow(&rd->in, &rd->incap, rd->inlen + 65536, CTL_IN_MAX)) {
			fprintf(stderr, "resolverd: a line from agentd is too long\n");
			ctl_close(rd);
			return;
		}
		n = recv(rd->ctl, rd->in + rd->inlen, rd->incap - rd->inlen - 1, 0);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			ctl_close(rd);
			return;
		}
		rd->inlen += n;
		rd->in[rd->inlen] = '\0';
		while (rd->ctl >= 0 && (nl = memchr(rd->in, '\n', rd->inlen)) != NULL) {
			size_t used = nl - rd->in + 1;

			*nl = '\0';
			on_line(rd, rd->in);
			memmove(rd->in, rd->in + used, rd->inlen - used);
			rd->inlen -= used;
			rd->in[rd->inlen] = '\0';
		}
		if (rd->ctl < 0)
			return;
	}
}
