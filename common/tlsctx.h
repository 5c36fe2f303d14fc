/*
 * tlsctx: the server side of TLS for httpd, through OpenSSL (no crypto of our own). One tlsctx
 * holds the certificate chain and private key files a listener serves and the OpenSSL context
 * made from them: TLS 1.2 and 1.3 only, forward-secret AEAD cipher suites for 1.2, no
 * renegotiation, no compression, server cipher preference (Mozilla's "intermediate" profile).
 *
 * tlsctx_reload reads the files again (certificate renewal, on SIGHUP): new handshakes use the
 * new context, connections already open keep the one they started with (OpenSSL counts its
 * references), so a reload drops nothing. A reload that fails keeps the old context.
 *
 * Library code: errors go to the caller's buffer as "what: why" with OpenSSL's reason.
 */
#ifndef FURROW_TLSCTX_H
#define FURROW_TLSCTX_H

#include <stddef.h>

struct tlsctx;
struct ssl_ctx_st;

/* Load cert (PEM: the leaf first, then intermediates) and key (PEM, unencrypted) and check that
 * they belong together. NULL with a reason in err. */
struct tlsctx *tlsctx_new(const char *cert_file, const char *key_file, char *err, size_t errlen);
/* Read the files again; 0, or -1 with a reason in err (the old context stays in use). */
int tlsctx_reload(struct tlsctx *t, char *err, size_t errlen);
/* The OpenSSL context new connections use (SSL_CTX *). */
struct ssl_ctx_st *tlsctx_ssl_ctx(const struct tlsctx *t);
/* Subject and notAfter of the leaf certificate in use, for a log line. */
void tlsctx_describe(const struct tlsctx *t, char *out, size_t outlen);
void tlsctx_free(struct tlsctx *t);

#endif
