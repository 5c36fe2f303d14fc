/*
 * Validation throughput on enrich's hot path: iglu_validate (cached lookup + validation) of
 * typical entities from the embedded registry, and the invalid path that builds reports.
 * Build and run with bench/jsonschema.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "iglu.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
run(struct iglu_resolver *r, const char *label, const char *uri, const char *data, long n,
    int want)
{
	struct iglu_key k;
	json_t *j = json_loads(data, 0, NULL), *err = NULL;
	double t0, dt;
	long i;
	int rc = 0;

	if (j == NULL || iglu_key_parse(uri, &k, NULL) < 0) {
		fprintf(stderr, "jsonschema_bench: bad case %s\n", label);
		exit(EX_SOFTWARE);
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		rc = iglu_validate(r, &k, j, &err);
		json_decref(err);
		err = NULL;
	}
	dt = now_s() - t0;
	if (rc != want) {
		fprintf(stderr, "jsonschema_bench: %s: unexpected result %d\n", label, rc);
		exit(EX_SOFTWARE);
	}
	printf("%-34s %10.0f validations/s  (%.2f us each)\n", label, n / dt, dt / n * 1e6);
	json_decref(j);
}

int
main(int argc, char **argv)
{
	char err[256];
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	struct iglu_resolver *r = iglu_resolver_new(NULL, argc > 2 ? argv[2] : "schemas", err,
	    sizeof(err));

	if (r == NULL) {
		fprintf(stderr, "jsonschema_bench: %s\n", err);
		return EX_CONFIG;
	}
	run(r, "web_page 1-0-0", "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
	    "{\"id\":\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\"}", n, 0);
	run(r, "client_session 1-0-2", "iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
	    "{\"userId\":\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\",\"sessionId\":"
	    "\"0f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\",\"sessionIndex\":3,\"eventIndex\":7,"
	    "\"previousSessionId\":null,\"storageMechanism\":\"LOCAL_STORAGE\","
	    "\"firstEventId\":\"1f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\","
	    "\"firstEventTimestamp\":\"2024-01-02T03:04:05.678Z\"}", n, 0);
	run(r, "contexts 1-0-1 (2 entities)", "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
	    "[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0\","
	    "\"data\":{\"id\":\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\"}},"
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2\","
	    "\"data\":{\"userId\":\"x\"}}]", n, 0);
	run(r, "payload_data 1-0-4 (1 event)", "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
	    "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"js-3.0.0\",\"url\":\"https://example.com/\","
	    "\"aid\":\"site\",\"dtm\":\"1700000000000\",\"stm\":\"1700000000100\",\"eid\":"
	    "\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\",\"res\":\"1920x1080\",\"cx\":\"e30\"}]", n, 0);
	run(r, "browser_context 2-0-0", "iglu:com.snowplowanalytics.snowplow/browser_context/jsonschema/2-0-0",
	    "{\"viewport\":\"1280x720\",\"documentSize\":\"1280x3000\",\"resolution\":\"1920x1080\","
	    "\"colorDepth\":24,\"cookiesEnabled\":true,\"online\":true,\"browserLanguage\":\"en-GB\","
	    "\"webdriver\":false,\"deviceMemory\":8,\"hardwareConcurrency\":8,"
	    "\"tabId\":\"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b\"}", n, 0);
	run(r, "client_session invalid (reports)", "iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
	    "{\"userId\":\"nope\",\"sessionId\":\"x\",\"sessionIndex\":-1}", n / 10, -1);
	iglu_resolver_free(r);
	return 0;
}
