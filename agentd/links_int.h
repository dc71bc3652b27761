#ifndef AGENTD_LINKS_INT_H
#define AGENTD_LINKS_INT_H

/* What links.c and links_peer.c share. */

/* libnl's error r (0 or a negative NLE_*) as 0 or a negative errno, for our callers. */
int links_nl_errno(int r);

#endif
