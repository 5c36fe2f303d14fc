/*
 * ins_params: tracker parameter ↔ enriched column table (see ins_params.h).
 */
#include "ins_params.h"

#include <string.h>

#include "event.h"

const struct ins_param ins_params[] = {
	{ "e", COL_EVENT, 0, INS_PC_EVENT },
	{ "aid", COL_APP_ID, 0, INS_PC_STR },
	{ "p", COL_PLATFORM, 0, INS_PC_STR },
	{ "tv", COL_V_TRACKER, 0, INS_PC_STR },
	{ "tna", COL_NAME_TRACKER, 0, INS_PC_STR },
	{ "eid", COL_EVENT_ID, 0, INS_PC_STR },
	{ "tid", COL_TXN_ID, 0, INS_PC_STR },
	{ "dtm", COL_DVCE_CREATED_TSTAMP, 0, INS_PC_MS },
	{ "stm", COL_DVCE_SENT_TSTAMP, 0, INS_PC_MS },
	{ "ttm", COL_TRUE_TSTAMP, 0, INS_PC_MS },
	{ "tz", COL_OS_TIMEZONE, 0, INS_PC_STR },
	{ "uid", COL_USER_ID, 0, INS_PC_STR },
	{ "duid", COL_DOMAIN_USERID, 0, INS_PC_STR },
	{ "nuid", COL_NETWORK_USERID, 0, INS_PC_STR },
	{ "vid", COL_DOMAIN_SESSIONIDX, 0, INS_PC_STR },
	{ "sid", COL_DOMAIN_SESSIONID, 0, INS_PC_STR },
	{ "ip", COL_USER_IPADDRESS, 0, INS_PC_STR },
	{ "ua", COL_USERAGENT, 0, INS_PC_STR },
	{ "fp", COL_USER_FINGERPRINT, 0, INS_PC_STR },
	{ "url", COL_PAGE_URL, 0, INS_PC_STR },
	{ "refr", COL_PAGE_REFERRER, 0, INS_PC_STR },
	{ "page", COL_PAGE_TITLE, 0, INS_PC_STR },
	{ "res", COL_DVCE_SCREENWIDTH, COL_DVCE_SCREENHEIGHT, INS_PC_WXH },
	{ "vp", COL_BR_VIEWWIDTH, COL_BR_VIEWHEIGHT, INS_PC_WXH },
	{ "ds", COL_DOC_WIDTH, COL_DOC_HEIGHT, INS_PC_WXH },
	{ "cd", COL_BR_COLORDEPTH, 0, INS_PC_STR },
	{ "cs", COL_DOC_CHARSET, 0, INS_PC_STR },
	{ "lang", COL_BR_LANG, 0, INS_PC_STR },
	{ "cookie", COL_BR_COOKIES, 0, INS_PC_STR },
	{ "f_pdf", COL_BR_FEATURES_PDF, 0, INS_PC_STR },
	{ "f_fla", COL_BR_FEATURES_FLASH, 0, INS_PC_STR },
	{ "f_java", COL_BR_FEATURES_JAVA, 0, INS_PC_STR },
	{ "f_dir", COL_BR_FEATURES_DIRECTOR, 0, INS_PC_STR },
	{ "f_qt", COL_BR_FEATURES_QUICKTIME, 0, INS_PC_STR },
	{ "f_realp", COL_BR_FEATURES_REALPLAYER, 0, INS_PC_STR },
	{ "f_wma", COL_BR_FEATURES_WINDOWSMEDIA, 0, INS_PC_STR },
	{ "f_gears", COL_BR_FEATURES_GEARS, 0, INS_PC_STR },
	{ "f_ag", COL_BR_FEATURES_SILVERLIGHT, 0, INS_PC_STR },
	{ "co", COL_CONTEXTS, 0, INS_PC_STR },
	{ "cx", COL_CONTEXTS, 0, INS_PC_B64JSON },
	{ "ue_pr", COL_UNSTRUCT_EVENT, 0, INS_PC_STR },
	{ "ue_px", COL_UNSTRUCT_EVENT, 0, INS_PC_B64JSON },
	{ "se_ca", COL_SE_CATEGORY, 0, INS_PC_STR },
	{ "se_ac", COL_SE_ACTION, 0, INS_PC_STR },
	{ "se_la", COL_SE_LABEL, 0, INS_PC_STR },
	{ "se_pr", COL_SE_PROPERTY, 0, INS_PC_STR },
	{ "se_va", COL_SE_VALUE, 0, INS_PC_STR },
	{ "tr_id", COL_TR_ORDERID, 0, INS_PC_STR },
	{ "tr_af", COL_TR_AFFILIATION, 0, INS_PC_STR },
	{ "tr_tt", COL_TR_TOTAL, 0, INS_PC_STR },
	{ "tr_tx", COL_TR_TAX, 0, INS_PC_STR },
	{ "tr_sh", COL_TR_SHIPPING, 0, INS_PC_STR },
	{ "tr_ci", COL_TR_CITY, 0, INS_PC_STR },
	{ "tr_st", COL_TR_STATE, 0, INS_PC_STR },
	{ "tr_co", COL_TR_COUNTRY, 0, INS_PC_STR },
	{ "tr_cu", COL_TR_CURRENCY, 0, INS_PC_STR },
	{ "ti_id", COL_TI_ORDERID, 0, INS_PC_STR },
	{ "ti_sk", COL_TI_SKU, 0, INS_PC_STR },
	{ "ti_nm", COL_TI_NAME, 0, INS_PC_STR },
	{ "ti_ca", COL_TI_CATEGORY, 0, INS_PC_STR },
	{ "ti_pr", COL_TI_PRICE, 0, INS_PC_STR },
	{ "ti_qu", COL_TI_QUANTITY, 0, INS_PC_STR },
	{ "ti_cu", COL_TI_CURRENCY, 0, INS_PC_STR },
	{ "pp_mix", COL_PP_XOFFSET_MIN, 0, INS_PC_STR },
	{ "pp_max", COL_PP_XOFFSET_MAX, 0, INS_PC_STR },
	{ "pp_miy", COL_PP_YOFFSET_MIN, 0, INS_PC_STR },
	{ "pp_may", COL_PP_YOFFSET_MAX, 0, INS_PC_STR },
};

const size_t ins_nparams = sizeof(ins_params) / sizeof(ins_params[0]);

static const char *const event_codes[][2] = {
	{ "pv", "page_view" }, { "pp", "page_ping" }, { "se", "struct" }, { "ev", "struct" },
	{ "ue", "unstruct" }, { "tr", "transaction" }, { "ti", "transaction_item" },
	{ "ad", "ad_impression" },
};

const char *
ins_event_name_of_code(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(event_codes) / sizeof(event_codes[0]); i++)
		if (strcmp(code, event_codes[i][0]) == 0)
			return event_codes[i][1];
	return code;
}

const char *
ins_event_code_of_name(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(event_codes) / sizeof(event_codes[0]); i++)
		if (strlen(event_codes[i][1]) == n && memcmp(name, event_codes[i][1], n) == 0)
			return event_codes[i][0];
	return NULL;
}
