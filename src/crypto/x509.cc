#include "crypto/x509.h"

#include <arpa/inet.h>

#include <ctime>

#include <openssl/pem.h>

#include "common/encoding.h"
#include "common/random.h"
#include "crypto/openssl_util.h"

namespace byok::crypto {
namespace {

using internal::Asn1BitStringPtr;
using internal::Asn1IntegerPtr;
using internal::Asn1OctetStringPtr;
using internal::AuthorityKeyIdPtr;
using internal::BasicConstraintsPtr;
using internal::BioPtr;
using internal::BnPtr;
using internal::ErrorQueueGuard;
using internal::ExtKeyUsagePtr;
using internal::GeneralNamePtr;
using internal::GeneralNamesPtr;
using internal::OpenSslError;
using internal::X509Ptr;
using internal::X509StoreCtxPtr;
using internal::X509StorePtr;

using TimePoint = std::chrono::system_clock::time_point;

constexpr size_t kMaxCommonName = 64;    // ub-common-name (RFC 5280)
constexpr size_t kMaxOrganization = 64;  // ub-organization-name
constexpr size_t kMaxDnsName = 253;
constexpr size_t kMaxSans = 100;
constexpr int kMaxValidityDays = 36500;
constexpr size_t kMaxCertificateSize = 64 * 1024;

bool ValidLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  for (char c : label) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return label.front() != '-' && label.back() != '-';
}

// Host names as RFC 5280 dNSName; a wildcard is allowed only as the whole leftmost label and
// needs at least one label after it. ("*.localhost" is accepted because byok's server certificate
// must carry it; OpenSSL's own host matching only honours wildcards with two labels after '*'.)
Status ValidateDnsName(std::string_view name) {
  if (name.empty() || name.size() > kMaxDnsName) {
    return Status::InvalidArgument("bad DNS name length");
  }
  std::vector<std::string_view> labels;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    labels.push_back(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i == 0 && labels[i] == "*") {
      if (labels.size() < 2) {
        return Status::InvalidArgument("wildcard DNS name needs a label after '*'");
      }
      continue;
    }
    if (!ValidLabel(labels[i])) {
      return Status::InvalidArgument("invalid DNS name '" + std::string(name) + "'");
    }
  }
  return Status::Ok();
}

Status ValidateOptions(const CertificateOptions& opts) {
  if (opts.common_name.empty() || opts.common_name.size() > kMaxCommonName) {
    return Status::InvalidArgument("certificate common name must be 1 to 64 characters");
  }
  if (opts.organization.size() > kMaxOrganization) {
    return Status::InvalidArgument("certificate organization is longer than 64 characters");
  }
  if (opts.validity_days < 1 || opts.validity_days > kMaxValidityDays) {
    return Status::InvalidArgument("certificate validity must be 1 to 36500 days");
  }
  if (opts.dns_names.size() + opts.ip_addresses.size() > kMaxSans) {
    return Status::InvalidArgument("too many subject alternative names");
  }
  for (const std::string& name : opts.dns_names) BYOK_TRY(ValidateDnsName(name));
  return Status::Ok();
}

TimePoint FromAsn1Time(const ASN1_TIME* t) {
  ErrorQueueGuard guard;
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return TimePoint{};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string Utf8(const ASN1_STRING* s) {
  if (s == nullptr) return "";
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, s);
  if (len < 0) return "";
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string NameEntry(const X509_NAME* name, int nid) {
  ErrorQueueGuard guard;
  if (name == nullptr) return "";
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return "";
  return Utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
}

Status AddNameEntry(X509_NAME* name, int nid, const std::string& value) {
  if (value.empty()) return Status::Ok();
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return OpenSslError(StatusCode::kInvalidArgument, "invalid certificate name");
  }
  return Status::Ok();
}

Status AddExt(X509* x, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(x, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError(StatusCode::kInternal, "cannot add certificate extension");
  }
  return Status::Ok();
}

Result<Asn1OctetStringPtr> KeyIdentifier(X509* x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // RFC 5280 section 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
  if (X509_pubkey_digest(x, EVP_sha1(), md, &len) != 1) {
    return OpenSslError(StatusCode::kInternal, "cannot compute key identifier");
  }
  Asn1OctetStringPtr id(ASN1_OCTET_STRING_new());
  if (!id || ASN1_OCTET_STRING_set(id.get(), md, static_cast<int>(len)) != 1) {
    return Status::Internal("ASN1_OCTET_STRING_set failed");
  }
  return id;
}

Status AddSubjectAltNames(X509* x, const CertificateOptions& opts) {
  if (opts.dns_names.empty() && opts.ip_addresses.empty()) return Status::Ok();
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return Status::Internal("GENERAL_NAMES_new failed");
  for (const std::string& dns : opts.dns_names) {
    GeneralNamePtr name(GENERAL_NAME_new());
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!name || ia5 == nullptr ||
        ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      return Status::Internal("cannot build DNS SAN");
    }
    GENERAL_NAME_set0_value(name.get(), GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) return Status::Internal("push failed");
    name.release();
  }
  for (const std::string& ip : opts.ip_addresses) {
    ASN1_OCTET_STRING* bytes = a2i_IPADDRESS(ip.c_str());
    if (bytes == nullptr) {
      ERR_clear_error();
      return Status::InvalidArgument("invalid IP address '" + ip + "'");
    }
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!name) {
      ASN1_OCTET_STRING_free(bytes);
      return Status::Internal("GENERAL_NAME_new failed");
    }
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, bytes);
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) return Status::Internal("push failed");
    name.release();
  }
  return AddExt(x, NID_subject_alt_name, names.get(), false);
}

// Builds and signs a certificate. issuer == nullptr: self-signed by signer_key.
Result<Certificate> Build(X509* issuer, const PrivateKey& signer_key, const PublicKey& subject_key,
                          const CertificateOptions& opts, bool is_ca) {
  BYOK_TRY(ValidateOptions(opts));
  if (!signer_key.valid() || !subject_key.valid()) return Status::FailedPrecondition("empty key");
  X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1) return Status::Internal("X509_new");

  // Serial: 128 random bits (positive INTEGER, so up to 17 content octets; RFC 5280 allows 20).
  std::vector<uint8_t> serial_bytes = CryptoRandom().Bytes(16);
  serial_bytes[15] |= 1;  // never zero
  BnPtr serial_bn(BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  Asn1IntegerPtr serial(serial_bn ? BN_to_ASN1_INTEGER(serial_bn.get(), nullptr) : nullptr);
  if (!serial || X509_set_serialNumber(x.get(), serial.get()) != 1) {
    return OpenSslError(StatusCode::kInternal, "cannot set serial number");
  }

  // Validity.
  time_t not_before = std::chrono::system_clock::to_time_t(opts.not_before);
  time_t not_after = not_before + static_cast<time_t>(opts.validity_days) * 86400;
  if (ASN1_TIME_set(X509_getm_notBefore(x.get()), not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x.get()), not_after) == nullptr) {
    return OpenSslError(StatusCode::kInvalidArgument, "certificate validity out of range");
  }

  // Names.
  X509_NAME* subject = X509_get_subject_name(x.get());
  BYOK_TRY(AddNameEntry(subject, NID_organizationName, opts.organization));
  BYOK_TRY(AddNameEntry(subject, NID_commonName, opts.common_name));
  if (X509_set_issuer_name(x.get(), issuer != nullptr ? X509_get_subject_name(issuer) : subject) !=
          1 ||
      X509_set_pubkey(x.get(), subject_key.get()) != 1) {
    return OpenSslError(StatusCode::kInternal, "cannot set certificate names or key");
  }

  // Extensions.
  BasicConstraintsPtr bc(BASIC_CONSTRAINTS_new());
  if (!bc) return Status::Internal("BASIC_CONSTRAINTS_new failed");
  bc->ca = is_ca ? 0xFF : 0;
  BYOK_TRY(AddExt(x.get(), NID_basic_constraints, bc.get(), true));

  Asn1BitStringPtr usage(ASN1_BIT_STRING_new());
  if (!usage) return Status::Internal("ASN1_BIT_STRING_new failed");
  // Bit numbers from RFC 5280 section 4.2.1.3.
  constexpr int kDigitalSignature = 0, kKeyEncipherment = 2, kKeyCertSign = 5, kCrlSign = 6;
  bool ok = ASN1_BIT_STRING_set_bit(usage.get(), kDigitalSignature, 1) == 1;
  if (is_ca) {
    ok = ok && ASN1_BIT_STRING_set_bit(usage.get(), kKeyCertSign, 1) == 1 &&
         ASN1_BIT_STRING_set_bit(usage.get(), kCrlSign, 1) == 1;
  } else if (subject_key.type() == KeyType::kRsa) {
    ok = ok && ASN1_BIT_STRING_set_bit(usage.get(), kKeyEncipherment, 1) == 1;
  }
  if (!ok) return Status::Internal("ASN1_BIT_STRING_set_bit failed");
  BYOK_TRY(AddExt(x.get(), NID_key_usage, usage.get(), true));

  if (opts.server_auth || opts.client_auth) {
    ExtKeyUsagePtr eku(sk_ASN1_OBJECT_new_null());
    if (!eku) return Status::Internal("sk_ASN1_OBJECT_new_null failed");
    if ((opts.server_auth && sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_server_auth)) == 0) ||
        (opts.client_auth && sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_client_auth)) == 0)) {
      return Status::Internal("sk_ASN1_OBJECT_push failed");
    }
    BYOK_TRY(AddExt(x.get(), NID_ext_key_usage, eku.get(), false));
  }

  BYOK_TRY(AddSubjectAltNames(x.get(), opts));

  BYOK_ASSIGN_OR_RETURN(Asn1OctetStringPtr ski, KeyIdentifier(x.get()));
  BYOK_TRY(AddExt(x.get(), NID_subject_key_identifier, ski.get(), false));
  AuthorityKeyIdPtr aki(AUTHORITY_KEYID_new());
  if (!aki) return Status::Internal("AUTHORITY_KEYID_new failed");
  if (issuer == nullptr) {
    aki->keyid = ASN1_OCTET_STRING_dup(ski.get());
  } else if (const ASN1_OCTET_STRING* issuer_ski = X509_get0_subject_key_id(issuer)) {
    aki->keyid = ASN1_OCTET_STRING_dup(issuer_ski);
  } else {
    BYOK_ASSIGN_OR_RETURN(Asn1OctetStringPtr id, KeyIdentifier(issuer));
    aki->keyid = id.release();
  }
  if (aki->keyid == nullptr) return Status::Internal("cannot set authority key identifier");
  BYOK_TRY(AddExt(x.get(), NID_authority_key_identifier, aki.get(), false));

  if (X509_sign(x.get(), signer_key.get(), EVP_sha256()) <= 0) {
    return OpenSslError(StatusCode::kInternal, "cannot sign certificate");
  }
  return Certificate::FromX509(x.release());
}

}  // namespace

void Certificate::X509Deleter::operator()(X509* x509) const { X509_free(x509); }

Result<Certificate> Certificate::FromX509(X509* x509) {
  if (x509 == nullptr) return Status::InvalidArgument("null certificate");
  return Certificate(x509);
}

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  ErrorQueueGuard guard;
  if (pem.empty() || pem.size() > kMaxCertificateSize) {
    return Status::InvalidArgument("certificate PEM is empty or too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::Internal("BIO_new_mem_buf failed");
  X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (x == nullptr) return OpenSslError(StatusCode::kInvalidArgument, "not a PEM certificate");
  return FromX509(x);
}

Result<Certificate> Certificate::FromDer(std::span<const uint8_t> der) {
  ErrorQueueGuard guard;
  if (der.empty() || der.size() > kMaxCertificateSize) {
    return Status::InvalidArgument("certificate DER is empty or too large");
  }
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) return OpenSslError(StatusCode::kInvalidArgument, "not a DER certificate");
  if (p != der.data() + der.size()) {
    X509_free(x);
    return Status::InvalidArgument("trailing bytes after certificate");
  }
  return FromX509(x);
}

Result<std::string> Certificate::ToPem() const {
  ErrorQueueGuard guard;
  if (!valid()) return Status::FailedPrecondition("empty certificate");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), x509_.get()) != 1) {
    return OpenSslError(StatusCode::kInternal, "cannot write certificate PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::vector<uint8_t>> Certificate::ToDer() const {
  ErrorQueueGuard guard;
  if (!valid()) return Status::FailedPrecondition("empty certificate");
  unsigned char* der = nullptr;
  int len = i2d_X509(x509_.get(), &der);
  if (len <= 0) return OpenSslError(StatusCode::kInternal, "cannot encode certificate");
  std::vector<uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::string Certificate::SubjectCommonName() const {
  return valid() ? NameEntry(X509_get_subject_name(x509_.get()), NID_commonName) : "";
}

std::string Certificate::SubjectOrganization() const {
  return valid() ? NameEntry(X509_get_subject_name(x509_.get()), NID_organizationName) : "";
}

std::string Certificate::IssuerCommonName() const {
  return valid() ? NameEntry(X509_get_issuer_name(x509_.get()), NID_commonName) : "";
}

std::vector<std::string> Certificate::DnsNames() const {
  ErrorQueueGuard guard;
  std::vector<std::string> out;
  if (!valid()) return out;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x509_.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) out.push_back(Utf8(name->d.dNSName));
  }
  return out;
}

std::vector<std::string> Certificate::IpAddresses() const {
  ErrorQueueGuard guard;
  std::vector<std::string> out;
  if (!valid()) return out;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x509_.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_IPADD) continue;
    const ASN1_OCTET_STRING* ip = name->d.iPAddress;
    char text[INET6_ADDRSTRLEN] = {0};
    int len = ASN1_STRING_length(ip);
    int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
    if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof(text))) {
      out.emplace_back(text);
    }
  }
  return out;
}

TimePoint Certificate::not_before() const {
  return valid() ? FromAsn1Time(X509_get0_notBefore(x509_.get())) : TimePoint{};
}

TimePoint Certificate::not_after() const {
  return valid() ? FromAsn1Time(X509_get0_notAfter(x509_.get())) : TimePoint{};
}

bool Certificate::is_ca() const {
  ErrorQueueGuard guard;
  return valid() && (X509_get_extension_flags(x509_.get()) & EXFLAG_CA) != 0;
}

std::string Certificate::SerialHex() const {
  ErrorQueueGuard guard;
  if (!valid()) return "";
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509_.get()), nullptr));
  if (!bn) return "";
  std::vector<uint8_t> bytes(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), bytes.data());
  return HexEncode(bytes);
}

std::vector<uint8_t> Certificate::FingerprintSha256() const {
  ErrorQueueGuard guard;
  if (!valid()) return {};
  std::vector<uint8_t> out(32);
  unsigned int len = 0;
  if (X509_digest(x509_.get(), EVP_sha256(), out.data(), &len) != 1 || len != out.size()) {
    return {};
  }
  return out;
}

Result<PublicKey> Certificate::GetPublicKey() const {
  ErrorQueueGuard guard;
  if (!valid()) return Status::FailedPrecondition("empty certificate");
  EVP_PKEY* pkey = X509_get_pubkey(x509_.get());
  if (pkey == nullptr) return OpenSslError(StatusCode::kInvalidArgument, "unreadable public key");
  return PublicKey::FromEvpPkey(pkey);
}

Certificate Certificate::Clone() const {
  if (valid() && X509_up_ref(x509_.get()) == 1) return Certificate(x509_.get());
  return Certificate(nullptr);
}

Result<Certificate> CreateSelfSignedCa(const PrivateKey& key, const CertificateOptions& opts) {
  ErrorQueueGuard guard;
  if (!key.valid()) return Status::FailedPrecondition("empty key");
  return Build(nullptr, key, key.Public(), opts, /*is_ca=*/true);
}

Result<Certificate> IssueCertificate(const Certificate& ca, const PrivateKey& ca_key,
                                     const PublicKey& subject_key, const CertificateOptions& opts) {
  ErrorQueueGuard guard;
  if (!ca.valid() || !ca_key.valid()) return Status::FailedPrecondition("empty CA");
  if (!ca.is_ca()) return Status::InvalidArgument("issuer certificate is not a CA");
  if (X509_check_private_key(ca.get(), ca_key.get()) != 1) {
    return Status::InvalidArgument("CA key does not match the CA certificate");
  }
  return Build(ca.get(), ca_key, subject_key, opts, opts.is_ca);
}

Status VerifyIssuedBy(const Certificate& cert, const Certificate& ca, TimePoint at) {
  ErrorQueueGuard guard;
  if (!cert.valid() || !ca.valid()) return Status::FailedPrecondition("empty certificate");
  X509StorePtr store(X509_STORE_new());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return OpenSslError(StatusCode::kInternal, "cannot set up certificate verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(at));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    return Status::Unauthenticated(std::string("certificate does not verify: ") +
                                   X509_verify_cert_error_string(err));
  }
  return Status::Ok();
}

}  // namespace byok::crypto
