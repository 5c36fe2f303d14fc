/*
 * adapt_email: the e-mail vendors' webhooks (snowplow/enrich 6.10.0 adapters/registry/
 * {Mailchimp,Mailgun,Mandrill,Sendgrid,Vero}Adapter.scala):
 *   /com.mailchimp/v1   form body, one event; nested keys "data[merges][EMAIL]" become objects
 *   /com.mailgun/v1     JSON body {"signature":{…},"event-data":{…}}, one event, camelCased
 *   /com.mandrill/v1    form body mandrill_events=<JSON array>, one event per element
 *   /com.sendgrid/v3    JSON array body, one event per distinct sg_event_id
 *   /com.getvero/v1     JSON body, one event
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"

#define CT_FORM "application/x-www-form-urlencoded"
#define CT_JSON "application/json"
#define NO_EVENTS "empty body: no events to process"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Mailchimp ---- */

static const struct adapt_type mailchimp_types[] = {
	{ "subscribe", "iglu:com.mailchimp/subscribe/jsonschema/1-0-0" },
	{ "unsubscribe", "iglu:com.mailchimp/unsubscribe/jsonschema/1-0-0" },
	{ "campaign", "iglu:com.mailchimp/campaign_sending_status/jsonschema/1-0-0" },
	{ "cleaned", "iglu:com.mailchimp/cleaned_email/jsonschema/1-0-0" },
	{ "upemail", "iglu:com.mailchimp/email_address_change/jsonschema/1-0-0" },
	{ "profile", "iglu:com.mailchimp/profile_update/jsonschema/1-0-0" },
};

/* Json.deepMerge: lhs's members folded into rhs (rhs's order first; a member of both merges,
 * a member only in lhs goes last); anything but two objects gives rhs. Takes both. */
static struct ajson *
deep_merge(struct ajson *lhs, struct ajson *rhs)
{
	size_t i;

	if (lhs == NULL || rhs == NULL || lhs->type != AJ_OBJ || rhs->type != AJ_OBJ) {
		ajson_free(lhs);
		return rhs;
	}
	for (i = 0; i < lhs->n; i++) {
		struct ajson *r = ajson_get(rhs, lhs->m[i].key), *v = ajson_take(lhs, i);
		if (r) {
			/* take r out of rhs without freeing it, merge, put the result back in place */
			size_t k;
			for (k = 0; k < rhs->n; k++)
				if (rhs->m[k].val == r)
					break;
			rhs->m[k].val = deep_merge(v, r);
			if (rhs->m[k].val == NULL)
				goto fail;
		} else if (ajson_set(rhs, lhs->m[i].key, lhs->m[i].klen, v) == -1) {
			goto fail;
		}
	}
	ajson_free(lhs);
	return rhs;
fail:
	ajson_free(lhs);
	ajson_free(rhs);
	return NULL;
}

/* MailchimpAdapter.toKeys: split on the regex "\]?(\[|\])" (Java's split: trailing empty
 * pieces dropped). A key made only of brackets, where upstream's NonEmptyList throws, is one
 * empty key here. */
static size_t
mailchimp_keys(const char *k, size_t klen, const char **piece, size_t *plen, size_t max)
{
	size_t n = 0, st = 0, i = 0;

	while (i < klen && n < max) {
		size_t m = 0;
		if (k[i] == ']' && i + 1 < klen && (k[i + 1] == '[' || k[i + 1] == ']'))
			m = 2;
		else if (k[i] == '[' || k[i] == ']')
			m = 1;
		if (m == 0) {
			i++;
			continue;
		}
		piece[n] = k + st;
		plen[n++] = i - st;
		i += m;
		st = i;
	}
	if (n < max) {
		piece[n] = k + st;
		plen[n++] = klen - st;
	}
	while (n > 0 && plen[n - 1] == 0)
		n--;
	if (n == 0) {
		piece[0] = k;
		plen[0] = 0;
		n = 1;
	}
	return n;
}

#define MAILCHIMP_MAX_KEYS 64

/*
 * MailchimpAdapter.mergeJsons(toJsons(params)) folds one single-path object per parameter
 * with Json.deepMerge, whose result lists the newer object's key first: at every level a key
 * ends up where its last write puts it (most recent first), a later scalar replaces whatever
 * was there, and objects written after it merge again. The same result is built here by
 * sorting the parameters by key and position, so a form with 100,000 fields stays
 * linear-logarithmic instead of quadratic.
 */
struct mc_ent {
	const char *seg[MAILCHIMP_MAX_KEYS];
	size_t len[MAILCHIMP_MAX_KEYS];
	size_t nseg;
	const char *value;
	size_t idx;               /* the parameter's position in the fold */
};

static size_t mc_sort_depth;

static int
mc_cmp(const void *pa, const void *pb)
{
	const struct mc_ent *a = *(struct mc_ent *const *)pa, *b = *(struct mc_ent *const *)pb;
	size_t d = mc_sort_depth, n = a->len[d] < b->len[d] ? a->len[d] : b->len[d];
	int c = memcmp(a->seg[d], b->seg[d], n);

	if (c == 0 && a->len[d] != b->len[d])
		c = a->len[d] < b->len[d] ? -1 : 1;
	return c ? c : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

struct mc_mem {
	struct ajson *val;
	const char *key;
	size_t klen, stamp;
};

static int
mc_mem_cmp(const void *pa, const void *pb)
{
	const struct mc_mem *a = pa, *b = pb;

	return a->stamp > b->stamp ? -1 : a->stamp < b->stamp;   /* latest write first */
}

/* The object built from entries e[0..n), all deeper than level d. */
static struct ajson *
mc_build(struct mc_ent **e, size_t n, size_t d)
{
	struct ajson *o = ajson_new(AJ_OBJ);
	struct mc_mem *m = calloc(n + 1, sizeof(*m));
	size_t nm = 0, a, b, j, k;

	if (o == NULL || m == NULL)
		goto fail;
	mc_sort_depth = d;
	qsort(e, n, sizeof(*e), mc_cmp);
	for (a = 0; a < n; a = b) {
		size_t last_scalar = (size_t)-1;
		for (b = a; b < n && e[b]->len[d] == e[a]->len[d] &&
		    memcmp(e[b]->seg[d], e[a]->seg[d], e[a]->len[d]) == 0; b++)
			if (e[b]->nseg == d + 1)
				last_scalar = b;
		j = last_scalar == (size_t)-1 ? a : last_scalar + 1;
		m[nm].key = e[a]->seg[d];
		m[nm].klen = e[a]->len[d];
		m[nm].stamp = e[b - 1]->idx;
		if (j < b)
			m[nm].val = mc_build(e + j, b - j, d + 1);   /* objects after the last scalar */
		else
			m[nm].val = ajson_str(e[last_scalar]->value, strlen(e[last_scalar]->value));
		if (m[nm++].val == NULL)
			goto fail;
		mc_sort_depth = d;                  /* the recursion sorted at its own depth */
	}
	qsort(m, nm, sizeof(*m), mc_mem_cmp);
	for (k = 0; k < nm; k++) {
		if (ajson_append(o, m[k].key, m[k].klen, m[k].val) == -1) {
			m[k].val = NULL;
			goto fail;
		}
		m[k].val = NULL;
	}
	free(m);
	return o;
fail:
	for (k = 0; m && k < nm; k++)
		ajson_free(m[k].val);
	free(m);
	ajson_free(o);
	return NULL;
}

/* toNestedJson + mergeJsons over the parameters (except nuid, aid, cv, p), in map order. */
static struct ajson *
mailchimp_format(const struct smap *params)
{
	size_t *ix = smap_order(params), i, n = 0;
	struct mc_ent *ents = calloc(params->n + 1, sizeof(*ents));
	struct mc_ent **pe = calloc(params->n + 1, sizeof(*pe));
	struct ajson *o = NULL;

	if (ix == NULL || ents == NULL || pe == NULL)
		goto done;
	for (i = 0; i < params->n; i++) {
		const struct smap_ent *en = &params->e[ix[i]];
		if (en->v == NULL || strcmp(en->k, "nuid") == 0 || strcmp(en->k, "aid") == 0 ||
		    strcmp(en->k, "cv") == 0 || strcmp(en->k, "p") == 0)
			continue;
		ents[n].nseg = mailchimp_keys(en->k, en->klen, ents[n].seg, ents[n].len,
		    MAILCHIMP_MAX_KEYS);
		ents[n].value = en->v;
		ents[n].idx = n;
		pe[n] = &ents[n];
		n++;
	}
	o = n ? mc_build(pe, n, 0) : ajson_new(AJ_NULL);      /* no field: Json.Null */
done:
	free(ix);
	free(ents);
	free(pe);
	return o;
}

int
adapt_mailchimp_run(const struct adapt_req *req, struct adapt_out *out)
{
	struct smap form, all;
	struct smap_ent *type, *fired;
	struct ajson *data = NULL;
	const char *schema;
	char err[256];
	int rc;

	if ((rc = adapt_check_body(req, out, CT_FORM, 0, NO_EVENTS)) != 0)
		return rc < 0 ? -1 : 0;
	smap_init(&form);
	smap_init(&all);
	rc = adapt_form_parse(req->body, req->body_len, &form, err, sizeof(err));
	if (rc == -1) {
		rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len, err);
		goto done;
	}
	if (rc < 0)
		goto done;
	type = smap_get(&form, "type");
	if (type == NULL || type->v == NULL) {
		rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len,
		    "no `type` parameter provided: cannot determine event type");
		goto done;
	}
	if ((schema = adapt_lookup_schema(out, type->v, mailchimp_types, NELEM(mailchimp_types),
	    -1)) == NULL)
		goto done;
	if ((fired = smap_get(&form, "fired_at")) != NULL && fired->v != NULL) {
		struct buf b;
		buf_init(&b, 0);
		adapt_joda_datetime(fired->v, strlen(fired->v), &b);
		rc = smap_putn(&form, "fired_at", 8, b.data ? b.data : "", b.len);
		buf_free(&b);
		if (rc)
			goto done;
	}
	/* toMap(querystring) ++ the form */
	if ((rc = smap_add_all(&all, req->qs, NULL, NULL)) != 0 ||
	    (rc = smap_add_all(&all, &form, NULL, NULL)) != 0)
		goto done;
	rc = -1;
	if ((data = mailchimp_format(&all)) != NULL &&
	    adapt_unstruct(out, "com.mailchimp-v1", &all, schema, data, "srv") != NULL)
		rc = 0;
done:
	ajson_free(data);
	smap_free(&form);
	smap_free(&all);
	return rc < 0 ? -1 : 0;
}

/* ---- Mailgun ---- */

static const struct adapt_type mailgun_types[] = {
	{ "bounced", "iglu:com.mailgun/message_bounced/jsonschema/1-0-0" },
	{ "clicked", "iglu:com.mailgun/message_clicked/jsonschema/1-0-0" },
	{ "complained", "iglu:com.mailgun/message_complained/jsonschema/1-0-0" },
	{ "delivered", "iglu:com.mailgun/message_delivered/jsonschema/1-0-0" },
	{ "dropped", "iglu:com.mailgun/message_dropped/jsonschema/1-0-0" },
	{ "opened", "iglu:com.mailgun/message_opened/jsonschema/1-0-0" },
	{ "unsubscribed", "iglu:com.mailgun/recipient_unsubscribed/jsonschema/1-0-0" },
};

/* payloadBodyToEvent: event-data with its timestamp replaced by the signature's, the
 * signature's members merged in. NULL with a failure added (or on allocation failure). */
static struct ajson *
mailgun_event(struct adapt_out *out, const struct ajson *body)
{
	const struct ajson *sig = ajson_get(body, "signature"), *ed = ajson_get(body, "event-data");
	const struct ajson *ts = sig && sig->type == AJ_OBJ ? ajson_get(sig, "timestamp") : NULL;
	struct ajson *e;

	if (ts == NULL) {
		adapt_fail_input(out, "timestamp", NULL, "missing 'timestamp'");
		return NULL;
	}
	if (ajson_get(sig, "token") == NULL) {
		adapt_fail_input(out, "token", NULL, "missing 'token'");
		return NULL;
	}
	if (ajson_get(sig, "signature") == NULL) {
		adapt_fail_input(out, "signature", NULL, "missing 'signature'");
		return NULL;
	}
	if (ed == NULL || ed->type != AJ_OBJ || ajson_get(ed, "timestamp") == NULL) {
		adapt_fail_input(out, "event-data", NULL, "missing 'event-data'");
		return NULL;
	}
	if ((e = ajson_copy(ed)) == NULL || ajson_set(e, "timestamp", 9, ajson_copy(ts)) == -1) {
		ajson_free(e);
		return NULL;
	}
	return deep_merge(ajson_copy(sig), e);
}

int
adapt_mailgun_run(const struct adapt_req *req, struct adapt_out *out)
{
	static const char *const ts_keys[] = { "timestamp", NULL };
	struct ajson *body, *ev = NULL, *type;
	const char *schema, *tname;
	char err[512], msg[600];
	int32_t ac;
	int rc;

	if ((rc = adapt_check_body(req, out, CT_JSON, ADAPT_NONEMPTY, NO_EVENTS)) != 0)
		return rc < 0 ? -1 : 0;
	if ((body = ajson_parse(req->body, req->body_len, req->max_depth, err, sizeof(err))) ==
	    NULL) {
		char strip[512];
		adapt_strip_message(err, strip, sizeof(strip));
		snprintf(msg, sizeof(msg), "could not parse body: %s", strip);
		return adapt_fail_input_n(out, "body", 4, req->body, req->body_len, msg);
	}
	type = ajson_get(ajson_get(body, "event-data"), "event");
	if (type == NULL) {
		rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len,
		    "no `event` parameter provided: cannot determine event type");
		goto done;
	}
	tname = type->type == AJ_STR ? type->s : NULL;
	rc = 0;
	if ((schema = adapt_lookup_schema(out, tname, mailgun_types, NELEM(mailgun_types), -1))
	    == NULL || (ev = mailgun_event(out, body)) == NULL)
		goto done;
	/* mutateMailgunEvent: camelCase keys, no bodyPlain, attachmentCount last as an Int */
	rc = -1;
	if (adapt_camelize(ev) == -1)
		goto done;
	{
		int has_ac = adapt_json_int(ajson_get(ev, "attachmentCount"), &ac) == 0;
		ajson_del(ev, "bodyPlain");
		ajson_del(ev, "attachmentCount");
		if (has_ac && ajson_set(ev, "attachmentCount", 15, ajson_int(ac)) == -1)
			goto done;
	}
	if (adapt_cleanup(ev, "event", tname, ts_keys) == -1 ||
	    adapt_unstruct(out, "com.mailgun-v1", req->qs, schema, ev, "srv") == NULL)
		goto done;
	rc = 0;
done:
	ajson_free(ev);
	ajson_free(body);
	return rc < 0 ? -1 : 0;
}

/* ---- Mandrill ---- */

static const struct adapt_type mandrill_types[] = {
	{ "hard_bounce", "iglu:com.mandrill/message_bounced/jsonschema/1-0-2" },
	{ "click", "iglu:com.mandrill/message_clicked/jsonschema/1-0-2" },
	{ "deferral", "iglu:com.mandrill/message_delayed/jsonschema/1-0-2" },
	{ "spam", "iglu:com.mandrill/message_marked_as_spam/jsonschema/1-0-2" },
	{ "open", "iglu:com.mandrill/message_opened/jsonschema/1-0-3" },
	{ "reject", "iglu:com.mandrill/message_rejected/jsonschema/1-0-1" },
	{ "send", "iglu:com.mandrill/message_sent/jsonschema/1-0-1" },
	{ "soft_bounce", "iglu:com.mandrill/message_soft_bounced/jsonschema/1-0-2" },
	{ "unsub", "iglu:com.mandrill/recipient_unsubscribed/jsonschema/1-0-2" },
	{ "delivered", "iglu:com.mandrill/message_delivered/jsonschema/1-0-0" },
};

static int
keep_some(const struct smap_ent *en, void *arg)
{
	(void)arg;
	return en->v != NULL;
}

int
adapt_mandrill_run(const struct adapt_req *req, struct adapt_out *out)
{
	static const char *const ts_keys[] = { "ts", NULL };
	struct smap form, some;
	struct smap_ent *me;
	struct ajson *arr = NULL;
	char err[512], msg[64];
	size_t i;
	int rc;

	if ((rc = adapt_check_body(req, out, CT_FORM, 0, NO_EVENTS)) != 0)
		return rc < 0 ? -1 : 0;
	smap_init(&form);
	smap_init(&some);
	rc = adapt_form_parse(req->body, req->body_len, &form, err, sizeof(err));
	if (rc == -1) {
		rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len, err);
		goto done;
	}
	if (rc < 0 || (rc = smap_add_all(&some, &form, keep_some, NULL)) != 0)
		goto done;
	if (some.n != 1) {
		snprintf(msg, sizeof(msg), "body should have size 1: actual size %zu", some.n);
		rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len, msg);
		goto done;
	}
	if ((me = smap_get(&some, "mandrill_events")) == NULL) {
		rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len,
		    "no `mandrill_events` parameter provided");
		goto done;
	}
	if (me->v[0] == '\0') {
		rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len,
		    "`mandrill_events` field is empty");
		goto done;
	}
	if ((arr = ajson_parse(me->v, strlen(me->v), req->max_depth, err, sizeof(err))) == NULL) {
		rc = adapt_fail_notjson(out, "mandril_events", me->v, strlen(me->v), err);
		goto done;
	}
	if (arr->type != AJ_ARR) {
		rc = adapt_fail_input(out, "mandrill_events", me->v, "not a json array");
		goto done;
	}
	for (i = 0; i < arr->n && rc == 0; i++) {
		struct ajson *ev = arr->m[i].val;
		const struct ajson *t = adapt_get_string(ev, "event", NULL, 0);
		const char *schema = adapt_lookup_schema(out, t ? t->s : NULL, mandrill_types,
		    NELEM(mandrill_types), (long)i);
		char *type;
		if (schema == NULL)
			continue;
		/* the type's own node goes when cleanup drops the "event" key: keep a copy */
		if ((type = strndup(t->s, t->len)) == NULL ||
		    adapt_cleanup(ev, "event", type, ts_keys) == -1 ||
		    adapt_unstruct(out, "com.mandrill-v1", req->qs, schema, ev, "srv") == NULL)
			rc = -1;
		free(type);
	}
	if (rc == 0)
		rc = adapt_finish_list(out);
done:
	ajson_free(arr);
	smap_free(&form);
	smap_free(&some);
	return rc < 0 ? -1 : 0;
}

/* ---- Sendgrid ---- */

static const struct adapt_type sendgrid_types[] = {
	{ "processed", "iglu:com.sendgrid/processed/jsonschema/3-0-0" },
	{ "dropped", "iglu:com.sendgrid/dropped/jsonschema/3-0-0" },
	{ "delivered", "iglu:com.sendgrid/delivered/jsonschema/3-0-0" },
	{ "deferred", "iglu:com.sendgrid/deferred/jsonschema/3-0-0" },
	{ "bounce", "iglu:com.sendgrid/bounce/jsonschema/3-0-0" },
	{ "open", "iglu:com.sendgrid/open/jsonschema/3-0-0" },
	{ "click", "iglu:com.sendgrid/click/jsonschema/3-0-0" },
	{ "spamreport", "iglu:com.sendgrid/spamreport/jsonschema/3-0-0" },
	{ "unsubscribe", "iglu:com.sendgrid/unsubscribe/jsonschema/3-0-0" },
	{ "group_unsubscribe", "iglu:com.sendgrid/group_unsubscribe/jsonschema/3-0-0" },
	{ "group_resubscribe", "iglu:com.sendgrid/group_resubscribe/jsonschema/3-0-0" },
};

/* The events keyed by Option[sg_event_id] in an immutable Map: a repeated id (or several
 * events without one) keeps the first position and the last event; past four keys the order
 * is the hash order of Some(id) / None. */
struct sg_key {
	const char *id;        /* NULL = None */
	size_t idlen;
	size_t first, item;    /* the first position with this key, the last element */
	int32_t hash;
};

static int
sg_id_cmp(const void *pa, const void *pb)
{
	const struct sg_key *a = pa, *b = pb;
	size_t n;
	int c;

	if (a->id == NULL || b->id == NULL)
		c = (a->id != NULL) - (b->id != NULL);
	else {
		n = a->idlen < b->idlen ? a->idlen : b->idlen;
		c = memcmp(a->id, b->id, n);
		if (c == 0 && a->idlen != b->idlen)
			c = a->idlen < b->idlen ? -1 : 1;
	}
	return c ? c : (a->item < b->item ? -1 : a->item > b->item);
}

static int
same_id(const struct sg_key *a, const struct sg_key *b)
{
	if (a->id == NULL || b->id == NULL)
		return a->id == b->id;
	return a->idlen == b->idlen && memcmp(a->id, b->id, a->idlen) == 0;
}

static int
sg_first_cmp(const void *pa, const void *pb)
{
	const struct sg_key *a = pa, *b = pb;

	return a->first < b->first ? -1 : a->first > b->first;
}

static int
sg_hash_cmp(const void *pa, const void *pb)
{
	const struct sg_key *a = pa, *b = pb;
	int c = scala_trie_cmp(scala_improve(a->hash), scala_improve(b->hash));

	return c ? c : (a->first < b->first ? -1 : a->first > b->first);
}

/* The distinct keys of arr in Map order, into keys (arr->n slots); returns how many. Sorting
 * keeps a body of 100,000 events linear-logarithmic. */
static size_t
sg_keys(const struct ajson *arr, struct sg_key *keys)
{
	size_t i, k, nk = 0;

	for (i = 0; i < arr->n; i++) {
		const struct ajson *id = adapt_get_string(arr->m[i].val, "sg_event_id", NULL, 0);
		keys[i].id = id ? id->s : NULL;
		keys[i].idlen = id ? id->len : 0;
		keys[i].first = keys[i].item = i;
	}
	qsort(keys, arr->n, sizeof(*keys), sg_id_cmp);
	for (i = 0; i < arr->n; i = k) {
		struct sg_key g = keys[i];
		for (k = i + 1; k < arr->n && same_id(&keys[k], &g); k++)
			g.item = keys[k].item;             /* sorted by position: the last wins */
		g.hash = g.id ? scala_some_hash(scala_string_hash(g.id, g.idlen)) : scala_none_hash();
		keys[nk++] = g;
	}
	qsort(keys, nk, sizeof(*keys), nk > 4 ? sg_hash_cmp : sg_first_cmp);
	return nk;
}

int
adapt_sendgrid_run(const struct adapt_req *req, struct adapt_out *out)
{
	static const char *const ts_keys[] = { "timestamp", NULL };
	struct ajson *arr;
	struct sg_key *keys = NULL;
	size_t nk = 0, k;
	char err[512];
	int rc;

	if ((rc = adapt_check_body(req, out, CT_JSON, ADAPT_CT_CONTAINS, NO_EVENTS)) != 0)
		return rc < 0 ? -1 : 0;
	if ((arr = ajson_parse(req->body, req->body_len, req->max_depth, err, sizeof(err))) == NULL)
		return adapt_fail_notjson(out, "body", req->body, req->body_len, err);
	if (arr->type != AJ_ARR) {
		rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len,
		    "body is not a json array");
		goto done;
	}
	rc = -1;
	if ((keys = calloc(arr->n + 1, sizeof(*keys))) == NULL)
		goto done;
	nk = sg_keys(arr, keys);
	rc = 0;
	for (k = 0; k < nk && rc == 0; k++) {
		size_t item = keys[k].item;
		struct ajson *ev = arr->m[item].val;
		const struct ajson *t = adapt_get_string(ev, "event", NULL, 0);
		const char *schema = adapt_lookup_schema(out, t ? t->s : NULL, sendgrid_types,
		    NELEM(sendgrid_types), (long)item);
		char *type;
		if (schema == NULL)
			continue;
		if ((type = strndup(t->s, t->len)) == NULL ||
		    adapt_cleanup(ev, "event", type, ts_keys) == -1 ||
		    adapt_unstruct(out, "com.sendgrid-v3", req->qs, schema, ev, "srv") == NULL)
			rc = -1;
		free(type);
	}
	if (rc == 0)
		rc = adapt_finish_list(out);
done:
	free(keys);
	ajson_free(arr);
	return rc < 0 ? -1 : 0;
}

/* ---- Vero ---- */

static const struct adapt_type vero_types[] = {
	{ "bounced", "iglu:com.getvero/bounced/jsonschema/1-0-0" },
	{ "clicked", "iglu:com.getvero/clicked/jsonschema/1-0-0" },
	{ "delivered", "iglu:com.getvero/delivered/jsonschema/1-0-0" },
	{ "opened", "iglu:com.getvero/opened/jsonschema/1-0-0" },
	{ "sent", "iglu:com.getvero/sent/jsonschema/1-0-0" },
	{ "unsubscribed", "iglu:com.getvero/unsubscribed/jsonschema/1-0-0" },
	{ "user_created", "iglu:com.getvero/created/jsonschema/1-0-0" },
	{ "user_updated", "iglu:com.getvero/updated/jsonschema/1-0-0" },
};

/* VeroAdapter.reformatParameters: "_tags" renamed "tags" in every nested object, each object
 * rebuilt through a Scala Map. */
static int
vero_tags(struct ajson *j)
{
	size_t i;

	if (j->type != AJ_OBJ)
		return 0;
	adapt_scala_order(j);
	for (i = 0; i < j->n; i++) {
		if (j->m[i].klen == 5 && memcmp(j->m[i].key, "_tags", 5) == 0) {
			char *t = strdup("tags");
			if (t == NULL)
				return -1;
			free(j->m[i].key);
			j->m[i].key = t;
			j->m[i].klen = 4;
		} else if (j->m[i].val->type == AJ_OBJ && vero_tags(j->m[i].val) == -1) {
			return -1;
		}
	}
	if (ajson_dedup(j) == -1)
		return -1;
	adapt_scala_order(j);
	return 0;
}

int
adapt_vero_run(const struct adapt_req *req, struct adapt_out *out)
{
	struct ajson *j;
	const struct ajson *t;
	const char *schema, *ts_keys[3];
	char err[512], msg[700], at[300];
	int rc;

	if ((rc = adapt_check_body(req, out, NULL, 0, NO_EVENTS)) != 0)
		return rc < 0 ? -1 : 0;
	if ((j = ajson_parse(req->body, req->body_len, req->max_depth, err, sizeof(err))) == NULL)
		return adapt_fail_notjson(out, "body", req->body, req->body_len, err);
	if ((t = adapt_get_string(j, "type", err, sizeof(err))) == NULL) {
		snprintf(msg, sizeof(msg), "could not extract 'type': %s", err);
		rc = adapt_fail_input(out, "type", NULL, msg);
		goto done;
	}
	snprintf(at, sizeof(at), "%.280s_at", t->s);
	ts_keys[0] = at;
	ts_keys[1] = "triggered_at";
	ts_keys[2] = NULL;
	rc = -1;
	{
		char *type = strdup(t->s);       /* cleanup may rewrite the node t points into */
		if (type == NULL)
			goto done;
		if (adapt_cleanup(j, "type", type, ts_keys) == -1 || vero_tags(j) == -1) {
			free(type);
			goto done;
		}
		schema = adapt_lookup_schema(out, type, vero_types, NELEM(vero_types), -1);
		rc = 0;
		if (schema && adapt_unstruct(out, "com.getvero-v1", req->qs, schema, j, "srv") == NULL)
			rc = -1;
		free(type);
	}
done:
	ajson_free(j);
	return rc < 0 ? -1 : 0;
}
