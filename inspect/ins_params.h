/*
 * ins_params: the tracker parameters and the enriched columns they fill
 * (tracker-protocol.md §2, §3.2), in both directions: a bad row's raw parameters become the
 * columns of its pseudo event (ins_badrow), and a good event's columns become the parameters
 * of the rawEvent Micro returns (ins_render), which inspect can only derive: it sees enriched
 * events, not what the tracker sent.
 */
#ifndef INS_PARAMS_H
#define INS_PARAMS_H

#include <stddef.h>

enum ins_pconv {
	INS_PC_STR,        /* the text as it is */
	INS_PC_EVENT,      /* e=pv ↔ event=page_view */
	INS_PC_MS,         /* milliseconds since the epoch ↔ a TSV timestamp */
	INS_PC_WXH,        /* "1024x768" ↔ two int columns */
	INS_PC_B64JSON,    /* base64url JSON (cx, ue_px): read only; co / ue_pr are written */
};

struct ins_param {
	const char     *name;
	int             col, col2;
	enum ins_pconv  conv;
};

extern const struct ins_param ins_params[];
extern const size_t ins_nparams;

/* "pv" → "page_view"; an unknown code comes back as it is. */
const char *ins_event_name_of_code(const char *code);
/* "page_view" → "pv", or NULL. */
const char *ins_event_code_of_name(const char *name, size_t n);

#endif
