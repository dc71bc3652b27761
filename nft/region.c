/* Regions of large blocks that a dump fills and frees whole (region.h). */

#include <stdint.h>

#include <sys/mman.h>

#include "nft/region.h"

void *
region_grow(struct region *r, size_t size)
{
	size_t total = sizeof(struct region_block) + (size > REGION_BLOCK ? size : REGION_BLOCK);
	struct region_block *b;

	b = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		 -1, 0);
	if (b == MAP_FAILED)
		return NULL;
	b->next = r->head;
	b->used = size;
	b->size = total - sizeof(*b);
	r->head = b;
	return b->data;
}

void
region_take(struct region *to, struct region *from)
{
	struct region_block *b;

	while ((b = from->head) != NULL) {
		from->head = b->next;
		b->next = to->head;
		to->head = b;
	}
}

void
region_free(struct region *r)
{
	while (r->head != NULL) {
		struct region_block *b = r->head;

		r->head = b->next;
		munmap(b, sizeof(*b) + b->size);
	}
}

/* A page faulted in on its own costs more than the work done in it. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

void
region_prefault(void *p, size_t len)
{
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t b = ((uintptr_t)p + len) & ~(uintptr_t)4095;

	if (b > a)
		(void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
}
