/*
 * pmap: the tracker protocol's parameters as enrich reads them (tracker-protocol.md §3.2;
 * upstream: Snowplow enrich's Transform.scala): for each parameter, the column it fills and how
 * its text is converted, and the lookup by name.
 */
#ifndef ENRICH_PMAP_H
#define ENRICH_PMAP_H

enum conv_kind { CV_S, CV_I, CV_D, CV_B, CV_TS, CV_UUID, CV_SPECIAL };

enum pkey {
	PK_E, PK_IP, PK_AID, PK_P, PK_TID, PK_UID, PK_DUID, PK_NUID, PK_UA, PK_FP, PK_VID, PK_SID,
	PK_DTM, PK_TTM, PK_STM, PK_TNA, PK_TV, PK_CV, PK_LANG, PK_F_PDF, PK_F_FLA, PK_F_JAVA,
	PK_F_DIR, PK_F_QT, PK_F_REALP, PK_F_WMA, PK_F_GEARS, PK_F_AG, PK_COOKIE, PK_RES, PK_CD,
	PK_TZ, PK_REFR, PK_URL, PK_PAGE, PK_CS, PK_DS, PK_VP, PK_EID, PK_CO, PK_CX, PK_SE_CA,
	PK_SE_AC, PK_SE_LA, PK_SE_PR, PK_SE_VA, PK_EV_CA, PK_EV_AC, PK_EV_LA, PK_EV_PR, PK_EV_VA,
	PK_UE_PR, PK_UE_PX, PK_TR_ID, PK_TR_AF, PK_TR_TT, PK_TR_TX, PK_TR_SH, PK_TR_CI, PK_TR_ST,
	PK_TR_CO, PK_TI_ID, PK_TI_SK, PK_TI_NM, PK_TI_NA, PK_TI_CA, PK_TI_PR, PK_TI_QU, PK_PP_MIX,
	PK_PP_MAX, PK_PP_MIY, PK_PP_MAY, PK_TR_CU, PK_TI_CU, PK_TNUID, PK_N
};

struct pmap {
	const char *name;
	enum conv_kind kind;
	int col;          /* target column; -1 for special handling */
	int pref;         /* a slot that wins over this one (plain form over legacy), or -1 */
};

extern const struct pmap PMAP[PK_N];

/* Build the sorted index once (idempotent). */
void pmap_init(void);
/* The parameter named name (enum pkey), or -1. */
int pmap_find(const char *name);

#endif
