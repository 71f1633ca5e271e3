#include "containerservice/cluster_pki.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <span>
#include <vector>

#include <fmt/format.h>
#include <openssl/x509v3.h>

#include "common/encoding.h"
#include "common/secret.h"
#include "crypto/keys.h"

namespace byok::containerservice {
namespace {

constexpr std::string_view kCaSuffix = "-client-ca";
// crypto::CertificateOptions' limit (RFC 5280 ub-common-name).
constexpr size_t kMaxCommonName = 64;
constexpr int kCaValidityDays = 30 * 365 + 8;  // 30 years, leap days included
constexpr int kClientValidityDays = 2 * 365 + 1;

std::string CaKeySecretName(std::string_view unique_id) {
  return fmt::format("containerservice/clusters/{}/client-ca-key", unique_id);
}

// "{cluster name}-client-ca", the name cut so the CN stays within 64 characters (AKS names have up
// to 63).
std::string CaCommonName(std::string_view cluster_name) {
  std::string_view name = cluster_name.substr(0, kMaxCommonName - kCaSuffix.size());
  return fmt::format("{}{}", name, kCaSuffix);
}

// A YAML scalar as Go's yaml.v2 (what AKS's kubeconfigs come from) would write it: plain when it
// cannot be read as anything but this string, else double-quoted (JSON escaping is valid YAML).
std::string YamlScalar(std::string_view s) {
  // YAML 1.1 booleans and null (case-insensitive): a plain scalar would not be a string.
  static constexpr std::array<std::string_view, 9> kReserved = {"y",   "yes",  "n",     "no",  "on",
                                                                "off", "true", "false", "null"};
  bool plain = !s.empty() && std::isalpha(static_cast<unsigned char>(s.front())) != 0;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    // ':' only as in URLs ("https://"): never followed by a space, never last.
    if (!(std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '/' || c == ':' ||
          c == '(' || c == ')')) {
      plain = false;
    }
  }
  if (plain && s.back() == ':') plain = false;
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (std::find(kReserved.begin(), kReserved.end(), lower) != kReserved.end()) plain = false;
  if (plain) return std::string(s);
  return nlohmann::json(std::string(s)).dump();
}

struct Issued {
  std::string cert_pem;
  SecretBytes key_pem;
};

Result<Issued> IssueClientCertificate(const crypto::Certificate& ca,
                                      const crypto::PrivateKey& ca_key, CredentialKind kind,
                                      std::chrono::system_clock::time_point now) {
  BYOK_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::GenerateEcKey(crypto::Curve::kP256));
  crypto::CertificateOptions opts;
  if (kind == CredentialKind::kAdmin) {
    opts.common_name = "clusterAdmin";
    opts.organization = "system:masters";
  } else {
    opts.common_name = "clusterUser";
    opts.organization = "system:authenticated";
  }
  opts.not_before = now;
  opts.validity_days = kClientValidityDays;
  opts.client_auth = true;
  BYOK_ASSIGN_OR_RETURN(crypto::Certificate cert,
                        crypto::IssueCertificate(ca, ca_key, key.Public(), opts));
  Issued out;
  BYOK_ASSIGN_OR_RETURN(out.cert_pem, cert.ToPem());
  BYOK_ASSIGN_OR_RETURN(out.key_pem, key.ToPem());
  return out;
}

}  // namespace

Result<std::string> CreateClusterCa(store::Transaction& txn, std::string_view unique_id,
                                    std::string_view cluster_name,
                                    std::chrono::system_clock::time_point now) {
  if (unique_id.empty() || cluster_name.empty()) {
    return Status::InvalidArgument("cluster unique id and name are required");
  }
  BYOK_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::GenerateEcKey(crypto::Curve::kP256));
  crypto::CertificateOptions opts;
  opts.common_name = CaCommonName(cluster_name);
  opts.not_before = now;
  opts.validity_days = kCaValidityDays;
  BYOK_ASSIGN_OR_RETURN(crypto::Certificate ca, crypto::CreateSelfSignedCa(key, opts));
  BYOK_ASSIGN_OR_RETURN(SecretBytes key_pem, key.ToPem());
  BYOK_TRY(txn.PutSecret(CaKeySecretName(unique_id), key_pem.span()));
  return ca.ToPem();
}

Status DeleteClusterCa(store::Transaction& txn, std::string_view unique_id) {
  Status s = txn.DeleteSecret(CaKeySecretName(unique_id));
  if (s.code() == StatusCode::kNotFound) return Status::Ok();
  return s;
}

Result<std::string> BuildKubeconfig(store::Store& store, const ClusterRecord& cluster,
                                    CredentialKind kind, const KubeconfigOptions& options) {
  SecretBytes ca_key_pem;
  {
    BYOK_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, store.BeginRead());
    auto secret = txn->GetSecret(CaKeySecretName(cluster.unique_id));
    if (!secret.ok()) {
      if (secret.status().code() == StatusCode::kNotFound) {
        return Status::FailedPrecondition(
            fmt::format("the client CA key of cluster '{}' is missing", cluster.name));
      }
      return secret.status();
    }
    ca_key_pem = std::move(secret).value();
  }
  BYOK_ASSIGN_OR_RETURN(crypto::PrivateKey ca_key,
                        crypto::PrivateKey::FromPem(std::string_view(
                            reinterpret_cast<const char*>(ca_key_pem.data()), ca_key_pem.size())));
  ca_key_pem.Wipe();
  BYOK_ASSIGN_OR_RETURN(crypto::Certificate ca,
                        crypto::Certificate::FromPem(cluster.client_ca_pem));
  BYOK_ASSIGN_OR_RETURN(Issued issued, IssueClientCertificate(ca, ca_key, kind, options.now));

  const bool admin = kind == CredentialKind::kAdmin;
  std::string user = fmt::format("{}_{}_{}", admin ? "clusterAdmin" : "clusterUser",
                                 cluster.resource_group, cluster.name);
  // Both kinds name their context after the cluster, as AKS does: `az aks get-credentials
  // --admin` itself appends "-admin" to the context of a clusterAdmin user when it merges.
  const std::string& context = cluster.name;
  std::string server = options.api_base_url + ApiPathPrefix(cluster.unique_id);
  // Keys in Go's order (sorted), indentation as `az aks get-credentials --file -` prints AKS's.
  std::string out;
  out += "apiVersion: v1\n";
  out += "clusters:\n";
  out += "- cluster:\n";
  out += fmt::format("    certificate-authority-data: {}\n",
                     Base64Encode(AsBytes(options.server_ca_pem)));
  out += fmt::format("    server: {}\n", YamlScalar(server));
  out += fmt::format("  name: {}\n", YamlScalar(cluster.name));
  out += "contexts:\n";
  out += "- context:\n";
  out += fmt::format("    cluster: {}\n", YamlScalar(cluster.name));
  out += fmt::format("    user: {}\n", YamlScalar(user));
  out += fmt::format("  name: {}\n", YamlScalar(context));
  out += fmt::format("current-context: {}\n", YamlScalar(context));
  out += "kind: Config\n";
  out += "preferences: {}\n";
  out += "users:\n";
  out += fmt::format("- name: {}\n", YamlScalar(user));
  out += "  user:\n";
  out += fmt::format("    client-certificate-data: {}\n", Base64Encode(AsBytes(issued.cert_pem)));
  std::string key_b64 = Base64Encode(issued.key_pem.span());
  out += fmt::format("    client-key-data: {}\n", key_b64);
  std::fill(key_b64.begin(), key_b64.end(), '\0');
  return out;
}

Result<ClientIdentity> VerifyClientCertificate(const ClusterRecord& cluster,
                                               std::string_view cert_der,
                                               std::chrono::system_clock::time_point now) {
  if (cert_der.empty()) return Status::Unauthenticated("no client certificate");
  auto cert = crypto::Certificate::FromDer(AsBytes(cert_der));
  if (!cert.ok()) return Status::Unauthenticated("the client certificate does not parse");
  auto ca = crypto::Certificate::FromPem(cluster.client_ca_pem);
  if (!ca.ok()) {
    return Status::Unauthenticated(
        fmt::format("cluster '{}' has no usable client CA", cluster.name));
  }
  // A leaf meant for client authentication: never the CA itself (it "chains" to itself), nor a
  // certificate the CA issued for another purpose.
  if (cert->is_ca()) return Status::Unauthenticated("the client certificate is a CA certificate");
  X509* x = cert->get();
  if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) == 0 ||
      (X509_get_extended_key_usage(x) & XKU_SSL_CLIENT) == 0) {
    return Status::Unauthenticated("the certificate is not for client authentication");
  }
  BYOK_TRY(crypto::VerifyIssuedBy(*cert, *ca, now));
  ClientIdentity id{cert->SubjectCommonName(), cert->SubjectOrganization()};
  if (id.user.empty()) return Status::Unauthenticated("the client certificate names no user");
  return id;
}

}  // namespace byok::containerservice
