/*
 * pmap: the parameter table and its lookup (see pmap.h).
 */
#include "pmap.h"

#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "fnv.h"

const struct pmap PMAP[PK_N] = {
	[PK_E]       = { "e", CV_SPECIAL, COL_EVENT, -1 },
	[PK_IP]      = { "ip", CV_SPECIAL, COL_USER_IPADDRESS, -1 },
	[PK_AID]     = { "aid", CV_S, COL_APP_ID, -1 },
	[PK_P]       = { "p", CV_SPECIAL, COL_PLATFORM, -1 },
	[PK_TID]     = { "tid", CV_I, COL_TXN_ID, -1 },
	[PK_UID]     = { "uid", CV_S, COL_USER_ID, -1 },
	[PK_DUID]    = { "duid", CV_S, COL_DOMAIN_USERID, -1 },
	[PK_NUID]    = { "nuid", CV_S, COL_NETWORK_USERID, -1 },
	[PK_UA]      = { "ua", CV_S, COL_USERAGENT, -1 },
	[PK_FP]      = { "fp", CV_S, COL_USER_FINGERPRINT, -1 },
	[PK_VID]     = { "vid", CV_I, COL_DOMAIN_SESSIONIDX, -1 },
	[PK_SID]     = { "sid", CV_UUID, COL_DOMAIN_SESSIONID, -1 },
	[PK_DTM]     = { "dtm", CV_TS, COL_DVCE_CREATED_TSTAMP, -1 },
	[PK_TTM]     = { "ttm", CV_TS, COL_TRUE_TSTAMP, -1 },
	[PK_STM]     = { "stm", CV_TS, COL_DVCE_SENT_TSTAMP, -1 },
	[PK_TNA]     = { "tna", CV_S, COL_NAME_TRACKER, -1 },
	[PK_TV]      = { "tv", CV_S, COL_V_TRACKER, -1 },
	[PK_CV]      = { "cv", CV_S, COL_V_COLLECTOR, -1 },
	[PK_LANG]    = { "lang", CV_S, COL_BR_LANG, -1 },
	[PK_F_PDF]   = { "f_pdf", CV_B, COL_BR_FEATURES_PDF, -1 },
	[PK_F_FLA]   = { "f_fla", CV_B, COL_BR_FEATURES_FLASH, -1 },
	[PK_F_JAVA]  = { "f_java", CV_B, COL_BR_FEATURES_JAVA, -1 },
	[PK_F_DIR]   = { "f_dir", CV_B, COL_BR_FEATURES_DIRECTOR, -1 },
	[PK_F_QT]    = { "f_qt", CV_B, COL_BR_FEATURES_QUICKTIME, -1 },
	[PK_F_REALP] = { "f_realp", CV_B, COL_BR_FEATURES_REALPLAYER, -1 },
	[PK_F_WMA]   = { "f_wma", CV_B, COL_BR_FEATURES_WINDOWSMEDIA, -1 },
	[PK_F_GEARS] = { "f_gears", CV_B, COL_BR_FEATURES_GEARS, -1 },
	[PK_F_AG]    = { "f_ag", CV_B, COL_BR_FEATURES_SILVERLIGHT, -1 },
	[PK_COOKIE]  = { "cookie", CV_B, COL_BR_COOKIES, -1 },
	[PK_RES]     = { "res", CV_SPECIAL, COL_DVCE_SCREENWIDTH, -1 },
	[PK_CD]      = { "cd", CV_S, COL_BR_COLORDEPTH, -1 },
	[PK_TZ]      = { "tz", CV_S, COL_OS_TIMEZONE, -1 },
	[PK_REFR]    = { "refr", CV_S, COL_PAGE_REFERRER, -1 },
	[PK_URL]     = { "url", CV_S, COL_PAGE_URL, -1 },
	[PK_PAGE]    = { "page", CV_S, COL_PAGE_TITLE, -1 },
	[PK_CS]      = { "cs", CV_S, COL_DOC_CHARSET, -1 },
	[PK_DS]      = { "ds", CV_SPECIAL, COL_DOC_WIDTH, -1 },
	[PK_VP]      = { "vp", CV_SPECIAL, COL_BR_VIEWWIDTH, -1 },
	[PK_EID]     = { "eid", CV_UUID, COL_EVENT_ID, -1 },
	[PK_CO]      = { "co", CV_SPECIAL, COL_CONTEXTS, -1 },
	[PK_CX]      = { "cx", CV_SPECIAL, COL_CONTEXTS, PK_CO },
	[PK_SE_CA]   = { "se_ca", CV_S, COL_SE_CATEGORY, -1 },
	[PK_SE_AC]   = { "se_ac", CV_S, COL_SE_ACTION, -1 },
	[PK_SE_LA]   = { "se_la", CV_S, COL_SE_LABEL, -1 },
	[PK_SE_PR]   = { "se_pr", CV_S, COL_SE_PROPERTY, -1 },
	[PK_SE_VA]   = { "se_va", CV_D, COL_SE_VALUE, -1 },
	[PK_EV_CA]   = { "ev_ca", CV_S, COL_SE_CATEGORY, PK_SE_CA },
	[PK_EV_AC]   = { "ev_ac", CV_S, COL_SE_ACTION, PK_SE_AC },
	[PK_EV_LA]   = { "ev_la", CV_S, COL_SE_LABEL, PK_SE_LA },
	[PK_EV_PR]   = { "ev_pr", CV_S, COL_SE_PROPERTY, PK_SE_PR },
	[PK_EV_VA]   = { "ev_va", CV_D, COL_SE_VALUE, PK_SE_VA },
	[PK_UE_PR]   = { "ue_pr", CV_SPECIAL, COL_UNSTRUCT_EVENT, -1 },
	[PK_UE_PX]   = { "ue_px", CV_SPECIAL, COL_UNSTRUCT_EVENT, PK_UE_PR },
	[PK_TR_ID]   = { "tr_id", CV_S, COL_TR_ORDERID, -1 },
	[PK_TR_AF]   = { "tr_af", CV_S, COL_TR_AFFILIATION, -1 },
	[PK_TR_TT]   = { "tr_tt", CV_D, COL_TR_TOTAL, -1 },
	[PK_TR_TX]   = { "tr_tx", CV_D, COL_TR_TAX, -1 },
	[PK_TR_SH]   = { "tr_sh", CV_D, COL_TR_SHIPPING, -1 },
	[PK_TR_CI]   = { "tr_ci", CV_S, COL_TR_CITY, -1 },
	[PK_TR_ST]   = { "tr_st", CV_S, COL_TR_STATE, -1 },
	[PK_TR_CO]   = { "tr_co", CV_S, COL_TR_COUNTRY, -1 },
	[PK_TI_ID]   = { "ti_id", CV_S, COL_TI_ORDERID, -1 },
	[PK_TI_SK]   = { "ti_sk", CV_S, COL_TI_SKU, -1 },
	[PK_TI_NM]   = { "ti_nm", CV_S, COL_TI_NAME, -1 },
	[PK_TI_NA]   = { "ti_na", CV_S, COL_TI_NAME, PK_TI_NM },
	[PK_TI_CA]   = { "ti_ca", CV_S, COL_TI_CATEGORY, -1 },
	[PK_TI_PR]   = { "ti_pr", CV_D, COL_TI_PRICE, -1 },
	[PK_TI_QU]   = { "ti_qu", CV_I, COL_TI_QUANTITY, -1 },
	[PK_PP_MIX]  = { "pp_mix", CV_I, COL_PP_XOFFSET_MIN, -1 },
	[PK_PP_MAX]  = { "pp_max", CV_I, COL_PP_XOFFSET_MAX, -1 },
	[PK_PP_MIY]  = { "pp_miy", CV_I, COL_PP_YOFFSET_MIN, -1 },
	[PK_PP_MAY]  = { "pp_may", CV_I, COL_PP_YOFFSET_MAX, -1 },
	[PK_TR_CU]   = { "tr_cu", CV_S, COL_TR_CURRENCY, -1 },
	[PK_TI_CU]   = { "ti_cu", CV_S, COL_TI_CURRENCY, -1 },
	[PK_TNUID]   = { "tnuid", CV_S, COL_NETWORK_USERID, -1 },
};

/* The names in an open-addressing table (index + 1, 0 = empty) by FNV-1a, built once: a
 * lookup is one hash of a short name and, nearly always, one strcmp. */
#define PMAP_SLOTS 256
static unsigned char pmap_slot[PMAP_SLOTS];
static int pmap_ready;

void
pmap_init(void)
{
	int i;
	size_t k;

	if (pmap_ready)
		return;
	for (i = 0; i < PK_N; i++) {
		for (k = (size_t)fnv_str(PMAP[i].name) & (PMAP_SLOTS - 1); pmap_slot[k];
		    k = (k + 1) & (PMAP_SLOTS - 1))
			;
		pmap_slot[k] = (unsigned char)(i + 1);
	}
	pmap_ready = 1;
}

int
pmap_find(const char *name)
{
	size_t k;

	for (k = (size_t)fnv_str(name) & (PMAP_SLOTS - 1); pmap_slot[k];
	    k = (k + 1) & (PMAP_SLOTS - 1))
		if (strcmp(name, PMAP[pmap_slot[k] - 1].name) == 0)
			return pmap_slot[k] - 1;
	return -1;
}
