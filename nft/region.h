#ifndef AGENTD_NFT_REGION_H
#define AGENTD_NFT_REGION_H

/*
 * Memory a dump fills (region.c). Claims and decoded containers live
 * in regions of large blocks, one per dumping thread, given back to the
 * system whole: 130,000 small allocations at 10,000 containers would
 * cost time, and their thread's arena would keep the pages after the
 * dump. Blocks come populated: one call instead of a page fault per
 * page.
 */

#include <stddef.h>

#define REGION_BLOCK (1u << 20)

struct region_block {
	struct region_block *next;
	size_t used;
	size_t size;
	max_align_t data[];
};

/* Zero-initialised, a region is empty. */
struct region {
	struct region_block *head;
};

/*
 * A new block of at least size bytes (a multiple of max_align_t) at
 * the head of r, and the first size bytes of it; NULL when the system
 * has no memory for it. Only for region_alloc().
 */
void *region_grow(struct region *r, size_t size);

/*
 * size bytes aligned for any type, owned by r until region_free(); NULL
 * when out of memory. Called per claim and per rule: inline.
 */
static inline void *
region_alloc(struct region *r, size_t size)
{
	struct region_block *b = r->head;
	void *p;

	size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (b == NULL || b->size - b->used < size)
		return region_grow(r, size);
	p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

/* Move every block of from to to, which frees them from then on. */
void region_take(struct region *to, struct region *from);
/* Give every block back to the system; r is empty again. */
void region_free(struct region *r);
/* Populate the pages of a fresh allocation of len bytes at p: only a hint. */
void region_prefault(void *p, size_t len);

#endif
