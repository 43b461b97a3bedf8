// The system's OpenSSL (libssl-dev 3.x, found with pkg-config) for the TLS module, and libcrypto's PBKDF2,
// HMAC and random bytes for the AuthCrypto module.
// Swift cannot import OpenSSL's function-like macros, so the few Roster needs are wrapped here as static
// inline functions; everything else is imported straight from the headers.
#ifndef ROSTER_COPENSSL_SHIM_H
#define ROSTER_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>

static inline int roster_ssl_ctx_set_min_proto_version(SSL_CTX *context, int version) {
    return (int)SSL_CTX_set_min_proto_version(context, version);
}

static inline int roster_ssl_ctx_set_max_proto_version(SSL_CTX *context, int version) {
    return (int)SSL_CTX_set_max_proto_version(context, version);
}

static inline long roster_ssl_ctx_set_session_cache_mode(SSL_CTX *context, long mode) {
    return SSL_CTX_set_session_cache_mode(context, mode);
}

static inline long roster_ssl_ctx_set_session_cache_size(SSL_CTX *context, long size) {
    return SSL_CTX_sess_set_cache_size(context, size);
}

static inline long roster_ssl_ctx_session_hits(SSL_CTX *context) {
    return SSL_CTX_sess_hits(context);
}

static inline long roster_ssl_ctx_set_max_cert_list(SSL_CTX *context, long bytes) {
    return SSL_CTX_set_max_cert_list(context, bytes);
}

static inline int roster_ssl_set_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline int roster_ssl_ctx_set_verify_depth(SSL_CTX *context, int depth) {
    SSL_CTX_set_verify_depth(context, depth);
    return 1;
}

static inline int roster_bio_pending(BIO *bio) {
    return (int)BIO_ctrl_pending(bio);
}

// A BIO_s_mem that reports "retry" rather than end-of-file when empty, as a non-blocking socket does:
// SSL_read then answers SSL_ERROR_WANT_READ instead of treating an empty buffer as a closed connection.
static inline BIO *roster_bio_new_mem(void) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio != NULL) {
        BIO_set_mem_eof_return(bio, -1);
    }
    return bio;
}

// Server-side ALPN on the client port: http/1.1 when the client offers it, else h2. Roster's HTTP/2 serves the
// etcd v3 gRPC API, whose clients offer h2 alone; clients that offer both (curl, browsers) want the JSON API,
// which is HTTP/1.1. A client offering neither is refused with no_application_protocol. `arg` is unused.
static inline int roster_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                     const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl;
    (void)arg;
    static const unsigned char ours[] = "\x08http/1.1\x02h2";
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, ours, sizeof(ours) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

static inline void roster_ssl_ctx_enable_alpn_select(SSL_CTX *context) {
    SSL_CTX_set_alpn_select_cb(context, roster_alpn_select, NULL);
}

// The options every Roster context sets: no renegotiation (a client-initiated renegotiation is refused, so it
// cannot be used to make the server redo expensive handshakes), no compression (CRIME), no legacy server
// connect quirks.
static inline uint64_t roster_ssl_context_options(void) {
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE;
}

static inline X509 *roster_ssl_peer_certificate(SSL *ssl) {
    return SSL_get1_peer_certificate(ssl);
}

static inline int roster_ssl_is_reused(SSL *ssl) {
    return SSL_session_reused(ssl);
}

static inline int roster_ssl_ctx_get0_chain_certs(SSL_CTX *context, STACK_OF(X509) **chain) {
    return (int)SSL_CTX_get0_chain_certs(context, chain);
}
#endif
