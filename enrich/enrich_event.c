/*
 * enrich_event: column setters and derived contexts for one event (see enrich_event.h). The
 * core fills the struct; enrichments amend it through these functions.
 */
#include "enrich_event.h"

#include "arena.h"

#include <stdlib.h>
#include <string.h>

int
enrich_event_set(struct enrich_event *ev, int col, const char *s, size_t len)
{
	char *p = NULL;

	if (col < 0 || col >= EVENT_NCOLS)
		return -1;
	if (s != NULL && len > 0) {
		p = ev->colmem ? arena_alloc(ev->colmem, len + 1) : malloc(len + 1);
		if (p == NULL)
			return -1;
		memcpy(p, s, len);
		p[len] = '\0';
	}
	if (ev->colmem == NULL)
		free(ev->col[col]);
	ev->col[col] = p;
	if (col == COL_USERAGENT)
		ev->useragent_empty = 0;   /* set again (the ua parameter): "" becomes null */
	return 0;
}

int
enrich_event_set_str(struct enrich_event *ev, int col, const char *s)
{
	return enrich_event_set(ev, col, s, s ? strlen(s) : 0);
}

int
enrich_event_add_derived(struct enrich_event *ev, json_t *entity)
{
	if (entity == NULL)
		return -1;
	if (ev->derived == NULL && (ev->derived = json_array()) == NULL) {
		json_decref(entity);
		return -1;
	}
	return json_array_append_new(ev->derived, entity) == 0 ? 0 : -1;
}
