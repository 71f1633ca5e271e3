// Internal helpers for the crypto module: owning smart pointers for OpenSSL objects, an error-queue
// guard, and Status construction from OpenSSL failures. Not part of the public API: only
// src/crypto/*.cc includes this header.
//
// Thread safety: everything here is stateless; OpenSSL's error queue is per thread.
// REQUIRES: OpenSSL 3.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/secret.h"
#include "common/status.h"

namespace byok::crypto::internal {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, Deleter<EVP_CIPHER_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
// For BIGNUMs holding private values: wiped before being freed.
using SecretBnPtr = std::unique_ptr<BIGNUM, Deleter<BN_clear_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER_free>>;
using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING_free>>;
using Asn1BitStringPtr = std::unique_ptr<ASN1_BIT_STRING, Deleter<ASN1_BIT_STRING_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME_free>>;
using BasicConstraintsPtr = std::unique_ptr<BASIC_CONSTRAINTS, Deleter<BASIC_CONSTRAINTS_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, Deleter<AUTHORITY_KEYID_free>>;
using ExtKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, Deleter<EXTENDED_KEY_USAGE_free>>;

// Clears the calling thread's OpenSSL error queue when constructed and again when destroyed, so
// that a failure inside one byok call never shows up as a stale error in the next one (ours or
// another library's on the same thread). Put one at the top of every public entry point.
class ErrorQueueGuard {
 public:
  ErrorQueueGuard() { ERR_clear_error(); }
  ~ErrorQueueGuard() { ERR_clear_error(); }
  ErrorQueueGuard(const ErrorQueueGuard&) = delete;
  ErrorQueueGuard& operator=(const ErrorQueueGuard&) = delete;
};

// A Status with `code` and the message "<what>" followed by the reason of the oldest queued
// OpenSSL error, if any (reasons are library text, never key material). Clears the queue.
Status OpenSslError(StatusCode code, std::string_view what);

// Strict base64url (RFC 4648 section 5) as JOSE uses it: no padding, no whitespace, and canonical
// (the unused low bits of the last character are zero), so every byte string has exactly one
// accepted encoding. Decodes into SecretBytes and leaves no unwiped copy behind. InvalidArgument
// on malformed input or when the decoded size would exceed max_size.
Result<SecretBytes> Base64UrlDecodeStrict(std::string_view text, size_t max_size);

// A BIGNUM from big-endian bytes, allocated so that OSSL_PARAM_BLD places it in wiped memory.
Result<SecretBnPtr> SecretBnFromBytes(std::span<const uint8_t> bytes);

}  // namespace byok::crypto::internal
