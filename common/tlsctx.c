/*
 * tlsctx: OpenSSL server contexts for httpd (see tlsctx.h).
 */
#include "tlsctx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* Mozilla "intermediate" TLS 1.2 suites (ECDHE only); TLS 1.3 keeps OpenSSL's defaults. */
#define TLSCTX_CIPHERS_12 \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

struct tlsctx {
	char *cert_file;
	char *key_file;
	SSL_CTX *ctx;
};

/* "what: reason" from the OpenSSL error queue, or errno. */
static void
tlsctx_err(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long e, last = 0;
	char reason[256];

	/* the first entry is the root cause ("no start line"); later ones wrap it ("PEM lib") */
	while ((e = ERR_get_error()) != 0)
		if (last == 0)
			last = e;
	if (last != 0 && ERR_SYSTEM_ERROR(last)) {
		snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
		    strerror(ERR_GET_REASON(last)));
	} else if (last != 0) {
		const char *r = ERR_reason_error_string(last);

		if (r == NULL) {
			ERR_error_string_n(last, reason, sizeof(reason));
			r = reason;
		}
		snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "", r);
	} else {
		snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
		    errno ? strerror(errno) : "failed");
	}
}

/* An encrypted key must not make OpenSSL prompt on the terminal: no passphrase, so it fails. */
static int
tlsctx_no_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Name an unreadable file plainly ("No such file or directory") rather than by OpenSSL's
 * "system lib". */
static int
tlsctx_readable(const char *what, const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");

	if (f == NULL) {
		snprintf(err, errlen, "%s %s: %s", what, file, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

static SSL_CTX *
tlsctx_build(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	static const unsigned char sid_ctx[] = "furrow";
	SSL_CTX *ctx;

	if (tlsctx_readable("certificate", cert_file, err, errlen) == -1 ||
	    tlsctx_readable("private key", key_file, err, errlen) == -1)
		return NULL;
	ERR_clear_error();
	errno = 0;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		tlsctx_err(err, errlen, "TLS context", NULL);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLSCTX_CIPHERS_12) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) != 1) {
		tlsctx_err(err, errlen, "TLS settings", NULL);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* (an EOF without close_notify is an ordinary end of stream: HTTP frames its messages) */
	/* httpd writes from its own buffer and retries with the same bytes from wherever they are
	 * after a realloc; a partial write is progress. Idle keep-alive connections (up to
	 * --idle-timeout, by the thousand) give their ~34 KiB of record buffers back, as nginx's do. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_default_passwd_cb(ctx, tlsctx_no_passphrase_cb);
	errno = 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		tlsctx_err(err, errlen, "certificate", cert_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	errno = 0;
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
			snprintf(err, errlen, "private key %s does not match certificate %s",
			    key_file, cert_file);
			ERR_clear_error();
		} else {
			tlsctx_err(err, errlen, "private key", key_file);
		}
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tlsctx_err(err, errlen, "private key does not match certificate", cert_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct tlsctx *
tlsctx_new(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	struct tlsctx *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->cert_file = strdup(cert_file)) == NULL ||
	    (t->key_file = strdup(key_file)) == NULL) {
		snprintf(err, errlen, "out of memory");
		tlsctx_free(t);
		return NULL;
	}
	t->ctx = tlsctx_build(cert_file, key_file, err, errlen);
	if (t->ctx == NULL) {
		tlsctx_free(t);
		return NULL;
	}
	return t;
}

int
tlsctx_reload(struct tlsctx *t, char *err, size_t errlen)
{
	SSL_CTX *ctx = tlsctx_build(t->cert_file, t->key_file, err, errlen);

	if (ctx == NULL)
		return -1;
	SSL_CTX_free(t->ctx);      /* open connections hold their own references */
	t->ctx = ctx;
	return 0;
}

struct ssl_ctx_st *
tlsctx_ssl_ctx(const struct tlsctx *t)
{
	return t->ctx;
}

void
tlsctx_describe(const struct tlsctx *t, char *out, size_t outlen)
{
	X509 *x = SSL_CTX_get0_certificate(t->ctx);
	char subj[256] = "?", until[64] = "?";
	BIO *b;

	if (x != NULL) {
		X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
		b = BIO_new(BIO_s_mem());
		if (b != NULL) {
			int n;

			ASN1_TIME_print(b, X509_get0_notAfter(x));
			n = BIO_read(b, until, (int)sizeof(until) - 1);
			until[n > 0 ? n : 0] = '\0';
			BIO_free(b);
		}
	}
	snprintf(out, outlen, "%s, valid until %s", subj, until);
}

void
tlsctx_free(struct tlsctx *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t->cert_file);
	free(t->key_file);
	free(t);
}
