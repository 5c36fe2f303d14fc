/* Helpers for the inspect suites: enriched lines built column by column. */
#ifndef INS_TEST_H
#define INS_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"

/*
 * An enriched line with the columns the Analytics SDK requires set (collector_tstamp, event_id
 * from n, v_collector, v_etl) and then pairs of (column index, value), ended by -1. The caller
 * frees the result.
 */
static inline char *
ins_test_line(int n, ...)
{
	const char *v[EVENT_NCOLS];
	char id[40];
	struct buf b;
	va_list ap;
	int i, col;

	memset(v, 0, sizeof(v));
	snprintf(id, sizeof(id), "9f2b6a3e-1c4d-4e5f-8a7b-%012d", n);
	v[COL_COLLECTOR_TSTAMP] = "2023-11-14 22:13:20.000";
	v[COL_EVENT_ID] = id;
	v[COL_V_COLLECTOR] = "furrow-collector-0.1.0-stdout";
	v[COL_V_ETL] = "furrow-enrich-0.1.0";
	va_start(ap, n);
	while ((col = va_arg(ap, int)) >= 0)
		v[col] = va_arg(ap, const char *);
	va_end(ap);
	buf_init(&b, 0);
	for (i = 0; i < EVENT_NCOLS; i++) {
		if (i)
			buf_append_byte(&b, '\t');
		if (v[i])
			buf_append_str(&b, v[i]);
	}
	return b.data;
}

#endif
