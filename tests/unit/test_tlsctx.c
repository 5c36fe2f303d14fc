/* Unit tests for common/tlsctx: loading a certificate and key (and the errors for files that
 * cannot be used), the protocol floor, and reloading (a failed reload keeps the context in
 * use). Certificates are made here with OpenSSL's API, self-signed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tlsctx.h"

static char dir[] = "/tmp/furrow-tlsctx.XXXXXX";
static char path[8][512];

enum { CERT_A, KEY_A, CERT_B, KEY_B, LIVE_CERT, LIVE_KEY, ENC_KEY, NOT_PEM };

static EVP_PKEY *
write_pair(const char *cn, const char *cert_path, const char *key_path)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	FILE *f;

	ck_assert_ptr_nonnull(k);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
	f = fopen(cert_path, "w");
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(key_path, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	return k;
}

static void
copy(const char *from, const char *to)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	ck_assert_int_eq(system(cmd), 0);
}

static void
setup(void)
{
	static const char *names[] = { "a.pem", "a.key", "b.pem", "b.key", "live.pem", "live.key",
	    "enc.key", "not.pem" };
	EVP_PKEY *k;
	FILE *f;
	int i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < 8; i++)
		snprintf(path[i], sizeof(path[i]), "%s/%s", dir, names[i]);
	k = write_pair("unit-a", path[CERT_A], path[KEY_A]);
	f = fopen(path[ENC_KEY], "w");
	PEM_write_PrivateKey(f, k, EVP_aes_128_cbc(), (unsigned char *)"secret", 6, NULL, NULL);
	fclose(f);
	EVP_PKEY_free(k);
	EVP_PKEY_free(write_pair("unit-b", path[CERT_B], path[KEY_B]));
	f = fopen(path[NOT_PEM], "w");
	fputs("not a certificate\n", f);
	fclose(f);
}

static void
teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	strcpy(dir, "/tmp/furrow-tlsctx.XXXXXX");
}

START_TEST(load_and_describe)
{
	char err[512], desc[512];
	struct tlsctx *t = tlsctx_new(path[CERT_A], path[KEY_A], err, sizeof(err));

	ck_assert_ptr_nonnull(t);
	tlsctx_describe(t, desc, sizeof(desc));
	ck_assert_msg(strncmp(desc, "/CN=unit-a, valid until ", 24) == 0, "%s", desc);
	/* TLS 1.2 is the floor; renegotiation off */
	ck_assert_int_eq(SSL_CTX_get_min_proto_version(tlsctx_ssl_ctx(t)), TLS1_2_VERSION);
	ck_assert(SSL_CTX_get_options(tlsctx_ssl_ctx(t)) & SSL_OP_NO_RENEGOTIATION);
	tlsctx_free(t);
}
END_TEST

START_TEST(unusable_files)
{
	char err[512], want[1200];

	ck_assert_ptr_null(tlsctx_new(path[CERT_A], path[KEY_B], err, sizeof(err)));
	snprintf(want, sizeof(want), "private key %s does not match certificate %s", path[KEY_B],
	    path[CERT_A]);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(tlsctx_new("/nonexistent/c.pem", path[KEY_A], err, sizeof(err)));
	ck_assert_str_eq(err, "certificate /nonexistent/c.pem: No such file or directory");
	ck_assert_ptr_null(tlsctx_new(path[NOT_PEM], path[KEY_A], err, sizeof(err)));
	snprintf(want, sizeof(want), "certificate %s: no start line", path[NOT_PEM]);
	ck_assert_str_eq(err, want);
	/* an encrypted key fails (no passphrase, never a prompt on the terminal) */
	ck_assert_ptr_null(tlsctx_new(path[CERT_A], path[ENC_KEY], err, sizeof(err)));
	ck_assert_msg(strncmp(err, "private key ", 12) == 0, "%s", err);
}
END_TEST

START_TEST(reload)
{
	char err[512], desc[512];
	struct tlsctx *t;
	SSL_CTX *before;
	SSL *open_conn;

	copy(path[CERT_A], path[LIVE_CERT]);
	copy(path[KEY_A], path[LIVE_KEY]);
	t = tlsctx_new(path[LIVE_CERT], path[LIVE_KEY], err, sizeof(err));
	ck_assert_ptr_nonnull(t);
	/* a connection made before the reload keeps its context */
	open_conn = SSL_new(tlsctx_ssl_ctx(t));
	ck_assert_ptr_nonnull(open_conn);
	copy(path[CERT_B], path[LIVE_CERT]);
	copy(path[KEY_B], path[LIVE_KEY]);
	before = tlsctx_ssl_ctx(t);
	ck_assert_int_eq(tlsctx_reload(t, err, sizeof(err)), 0);
	ck_assert_ptr_ne(tlsctx_ssl_ctx(t), before);
	tlsctx_describe(t, desc, sizeof(desc));
	ck_assert_msg(strncmp(desc, "/CN=unit-b,", 11) == 0, "%s", desc);
	ck_assert_ptr_eq(SSL_get_SSL_CTX(open_conn), before);
	SSL_free(open_conn);
	/* a broken renewal: the context in use stays */
	before = tlsctx_ssl_ctx(t);
	copy(path[KEY_A], path[LIVE_KEY]);
	ck_assert_int_eq(tlsctx_reload(t, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "does not match certificate") != NULL, "%s", err);
	ck_assert_ptr_eq(tlsctx_ssl_ctx(t), before);
	tlsctx_describe(t, desc, sizeof(desc));
	ck_assert_msg(strncmp(desc, "/CN=unit-b,", 11) == 0, "%s", desc);
	tlsctx_free(t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tlsctx");
	TCase *tc = tcase_create("tlsctx");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, load_and_describe);
	tcase_add_test(tc, unusable_files);
	tcase_add_test(tc, reload);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
