// The cluster PKI and kubeconfigs (listClusterUserCredential / listClusterAdminCredential).
//
// Each cluster has its own client CA (ECDSA P-256, CN "{cluster name}-client-ca", valid 30
// years from creation), created with the cluster; its certificate is kept in the cluster record
// (cluster_store.h, internal.clientCaPem) and its private key only as the sealed secret
// "containerservice/clusters/{uniqueId}/client-ca-key". Client certificates are issued on each
// credential request (ECDSA P-256, clientAuth, valid 2 years from byokd's clock):
//   clusterUser   CN "clusterUser",  O "system:authenticated"  — AKS's local user
//   clusterAdmin  CN "clusterAdmin", O "system:masters"        — AKS's local admin
// The Kubernetes API of that cluster (src/kube) accepts exactly the certificates its own CA
// issued (VerifyClientCertificate), so a certificate of one cluster is refused by another.
//
// Kubeconfig (YAML, as AKS writes it): one cluster named after the managed cluster with
// `server: {api base}{ApiPathPrefix(uniqueId)}` and `certificate-authority-data` = the CA of
// byokd's TLS certificate (base64 PEM: the CA clients already trust), one user
// "clusterUser_{rg}_{name}" (or "clusterAdmin_{rg}_{name}") with client-certificate-data and
// client-key-data (base64 PEM; no token: certificates are the only credential), a context named
// after the cluster (for admin credentials too: `az aks get-credentials --admin` renames the
// context of a clusterAdmin_* user to "{name}-admin" itself), current-context set.
//
// Thread safety: free functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"
#include "containerservice/cluster_store.h"
#include "crypto/x509.h"
#include "store/store.h"

namespace byok::containerservice {

enum class CredentialKind { kUser, kAdmin };

// Creates the cluster's client CA; seals its key into the store (inside `txn`). Returns the CA
// certificate PEM (to be kept as internal.clientCaPem).
Result<std::string> CreateClusterCa(store::Transaction& txn, std::string_view unique_id,
                                    std::string_view cluster_name,
                                    std::chrono::system_clock::time_point now);
// Removes the sealed CA key (cluster delete). OK if missing.
Status DeleteClusterCa(store::Transaction& txn, std::string_view unique_id);

struct KubeconfigOptions {
  std::string api_base_url;   // "https://localhost:PORT" (no trailing slash)
  std::string server_ca_pem;  // the CA of byokd's TLS certificate
  std::chrono::system_clock::time_point now;
};
// A kubeconfig for the cluster (see the file comment). FailedPrecondition if the CA key is gone.
Result<std::string> BuildKubeconfig(store::Store& store, const ClusterRecord& cluster,
                                    CredentialKind kind, const KubeconfigOptions& options);

// OK if `cert_der` is a client certificate issued by the cluster's CA and valid at `now`; the
// identity it names (CN, O). Unauthenticated otherwise.
struct ClientIdentity {
  std::string user;   // CN
  std::string group;  // O
};
Result<ClientIdentity> VerifyClientCertificate(const ClusterRecord& cluster,
                                               std::string_view cert_der,
                                               std::chrono::system_clock::time_point now);

}  // namespace byok::containerservice
