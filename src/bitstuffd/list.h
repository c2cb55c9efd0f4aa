/*
 * list.h - an intrusive doubly linked list, for objects that are in a few
 * lists at once without allocating for it (a connection is in its
 * worker's list and maybe in the ready queue).
 *
 * A link is unlinked when it points to itself (bs_link_init) or is still
 * all zero (never initialised): bs_link_remove accepts both.
 */
#ifndef BS_LIST_H
#define BS_LIST_H

#include <stddef.h>

struct bs_link {
    struct bs_link *prev, *next;
};

/* The object of type that holds member at ptr. */
#define BS_CONTAINER(ptr, type, member)                                        \
    ((type *) (void *) ((char *) (ptr) -offsetof(type, member)))

static inline void bs_link_init(struct bs_link *l)
{
    l->prev = l->next = l;
}

/* Nonzero if l is in a list (for a head: if the list is not empty). */
static inline int bs_link_linked(const struct bs_link *l)
{
    return l->next != l && l->next != NULL;
}

static inline void bs_link_remove(struct bs_link *l)
{
    if (l->next == NULL) {
        return;
    }
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = l;
}

/* Put l at the tail of the list head. */
static inline void bs_link_append(struct bs_link *head, struct bs_link *l)
{
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}

/* Move every link of from, which must not be empty, to the list to (its
 * old contents are overwritten); from is left empty. */
static inline void bs_link_take(struct bs_link *to, struct bs_link *from)
{
    *to = *from;
    to->next->prev = to;
    to->prev->next = to;
    bs_link_init(from);
}

#endif /* BS_LIST_H */
