// The cluster PKI: per-cluster client CA (sealed key), client certificates, kubeconfigs and
// VerifyClientCertificate.
#include "containerservice/cluster_pki.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::containerservice {
namespace {

using std::chrono::hours;
using ::testing::HasSubstr;

constexpr char kServerCaPem[] =
    "-----BEGIN CERTIFICATE-----\nMIIBserverca\n-----END CERTIFICATE-----\n";
constexpr char kApiBase[] = "https://localhost:8443";

std::string MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/byok-cluster-pki-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) std::abort();
  return buf.data();
}

std::string RunCommand(const std::string& command, int* exit_code) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) {
    *exit_code = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::string DecodeBase64(const std::string& text) {
  auto bytes = Base64Decode(text);
  EXPECT_TRUE(bytes.ok()) << text;
  return bytes.ok() ? ToString(*bytes) : "";
}

class ClusterPkiTest : public ::testing::Test {
 protected:
  ClusterPkiTest() : clock_(TimePoint(std::chrono::seconds(1704164645))) {}

  void SetUp() override {
    dir_ = MakeTempDir();
    std::vector<uint8_t> key_bytes(store::kRootKeySize, 7);
    auto root = store::RootKey::FromBytes(key_bytes);
    ASSERT_TRUE(root.ok());
    store::SqliteOptions so;
    so.data_dir = dir_;
    auto st = store::OpenSqliteStore(so, clock_, std::move(root).value());
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(st).value();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A cluster record as the clusters provider keeps it, with a fresh client CA.
  ClusterRecord NewCluster(const std::string& name, const std::string& unique_id,
                           const std::string& rg = "rg1") {
    ClusterRecord c;
    c.name = name;
    c.resource_group = rg;
    c.subscription_id = "00000000-0000-0000-0000-000000000001";
    c.id = fmt::format(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/"
        "managedClusters/{}",
        c.subscription_id, rg, name);
    c.location = "eastus";
    c.unique_id = unique_id;
    c.kubernetes_version = "1.24.9";
    c.power_state = "Running";
    c.provisioning_state = "Succeeded";
    auto txn = store_->Begin();
    EXPECT_TRUE(txn.ok());
    auto pem = CreateClusterCa(**txn, unique_id, name, clock_.Now());
    EXPECT_TRUE(pem.ok()) << pem.status().ToString();
    EXPECT_TRUE((*txn)->Commit().ok());
    c.client_ca_pem = pem.ok() ? *pem : "";
    return c;
  }

  KubeconfigOptions Options() const {
    KubeconfigOptions o;
    o.api_base_url = kApiBase;
    o.server_ca_pem = kServerCaPem;
    o.now = clock_.Now();
    return o;
  }

  std::string Kubeconfig(const ClusterRecord& c, CredentialKind kind) {
    auto kc = BuildKubeconfig(*store_, c, kind, Options());
    EXPECT_TRUE(kc.ok()) << kc.status().ToString();
    return kc.ok() ? *kc : "";
  }

  // The client certificate (PEM) and key (PEM) of a kubeconfig, found by line.
  static std::string Field(const std::string& yaml, const std::string& key) {
    std::string needle = "    " + key + ": ";
    size_t at = yaml.find(needle);
    if (at == std::string::npos) return "";
    at += needle.size();
    return yaml.substr(at, yaml.find('\n', at) - at);
  }

  static std::string CertDer(const std::string& kubeconfig) {
    auto cert =
        crypto::Certificate::FromPem(DecodeBase64(Field(kubeconfig, "client-certificate-data")));
    EXPECT_TRUE(cert.ok());
    if (!cert.ok()) return "";
    auto der = cert->ToDer();
    return der.ok() ? ToString(*der) : "";
  }

  ManualClock clock_;
  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(ClusterPkiTest, CaIsAnEcP256CaNamedAfterTheClusterWithItsKeySealed) {
  ClusterRecord c = NewCluster("myAKSCluster", "uid-1");
  auto ca = crypto::Certificate::FromPem(c.client_ca_pem);
  ASSERT_TRUE(ca.ok());
  EXPECT_TRUE(ca->is_ca());
  EXPECT_EQ(ca->SubjectCommonName(), "myAKSCluster-client-ca");
  EXPECT_EQ(ca->not_before(), std::chrono::floor<std::chrono::seconds>(clock_.Now()));
  EXPECT_GE(ca->not_after() - ca->not_before(), hours(24 * 365 * 30));
  auto pub = ca->GetPublicKey();
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->curve(), crypto::Curve::kP256);

  auto txn = store_->BeginRead();
  ASSERT_TRUE(txn.ok());
  auto names = (*txn)->ListSecrets("containerservice/");
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ::testing::ElementsAre("containerservice/clusters/uid-1/client-ca-key"));
  auto key_pem = (*txn)->GetSecret("containerservice/clusters/uid-1/client-ca-key");
  ASSERT_TRUE(key_pem.ok());
  auto key = crypto::PrivateKey::FromPem(
      std::string_view(reinterpret_cast<const char*>(key_pem->data()), key_pem->size()));
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(key->Public().Equals(*pub));
}

TEST_F(ClusterPkiTest, LongClusterNamesKeepTheCaCommonNameWithin64Characters) {
  std::string name(63, 'a');
  ClusterRecord c = NewCluster(name, "uid-long");
  auto ca = crypto::Certificate::FromPem(c.client_ca_pem);
  ASSERT_TRUE(ca.ok());
  EXPECT_EQ(ca->SubjectCommonName().size(), 64u);
  EXPECT_THAT(ca->SubjectCommonName(), ::testing::EndsWith("-client-ca"));
}

TEST_F(ClusterPkiTest, UserKubeconfigHasAksShape) {
  ClusterRecord c =
      NewCluster("myAKSCluster", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "myResourceGroup");
  std::string kc = Kubeconfig(c, CredentialKind::kUser);
  std::string ca_b64 = Base64Encode(AsBytes(kServerCaPem));
  std::string expected_head = fmt::format(
      "apiVersion: v1\n"
      "clusters:\n"
      "- cluster:\n"
      "    certificate-authority-data: {}\n"
      "    server: https://localhost:8443/k8s/3f2504e0-4f89-11d3-9a0c-0305e82c3301\n"
      "  name: myAKSCluster\n"
      "contexts:\n"
      "- context:\n"
      "    cluster: myAKSCluster\n"
      "    user: clusterUser_myResourceGroup_myAKSCluster\n"
      "  name: myAKSCluster\n"
      "current-context: myAKSCluster\n"
      "kind: Config\n"
      "preferences: {{}}\n"
      "users:\n"
      "- name: clusterUser_myResourceGroup_myAKSCluster\n"
      "  user:\n"
      "    client-certificate-data: ",
      ca_b64);
  EXPECT_EQ(kc.substr(0, expected_head.size()), expected_head) << kc;
  EXPECT_EQ(kc.find("token"), std::string::npos);

  auto cert = crypto::Certificate::FromPem(DecodeBase64(Field(kc, "client-certificate-data")));
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(cert->SubjectCommonName(), "clusterUser");
  EXPECT_EQ(cert->SubjectOrganization(), "system:authenticated");
  EXPECT_FALSE(cert->is_ca());
  EXPECT_EQ(cert->IssuerCommonName(), "myAKSCluster-client-ca");
  EXPECT_GE(cert->not_after() - cert->not_before(), hours(24 * 365 * 2));
  auto key = crypto::PrivateKey::FromPem(DecodeBase64(Field(kc, "client-key-data")));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->curve(), crypto::Curve::kP256);
  auto pub = cert->GetPublicKey();
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(key->Public().Equals(*pub));
}

TEST_F(ClusterPkiTest, AdminKubeconfigNamesTheAdminUser) {
  ClusterRecord c = NewCluster("C", "uid-2", "RG");
  std::string kc = Kubeconfig(c, CredentialKind::kAdmin);
  EXPECT_THAT(kc, HasSubstr("\n  name: C\n"));  // the cluster entry keeps the cluster's name
  // The context keeps the cluster's name (az appends "-admin" when it merges).
  EXPECT_THAT(kc, HasSubstr("    user: clusterAdmin_RG_C\n  name: C\n"));
  EXPECT_THAT(kc, HasSubstr("current-context: C\n"));
  EXPECT_THAT(kc, HasSubstr("- name: clusterAdmin_RG_C\n"));
  auto cert = crypto::Certificate::FromPem(DecodeBase64(Field(kc, "client-certificate-data")));
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(cert->SubjectCommonName(), "clusterAdmin");
  EXPECT_EQ(cert->SubjectOrganization(), "system:masters");

  auto id = VerifyClientCertificate(c, CertDer(kc), clock_.Now());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->user, "clusterAdmin");
  EXPECT_EQ(id->group, "system:masters");
}

TEST_F(ClusterPkiTest, EachRequestIssuesANewCertificate) {
  ClusterRecord c = NewCluster("C", "uid-3");
  EXPECT_NE(CertDer(Kubeconfig(c, CredentialKind::kUser)),
            CertDer(Kubeconfig(c, CredentialKind::kUser)));
}

TEST_F(ClusterPkiTest, KubeconfigParsesWithKubectl) {
  // Names YAML would otherwise read as numbers or booleans are quoted.
  for (const auto& [name, rg] : std::vector<std::pair<std::string, std::string>>{
           {"myAKSCluster", "myResourceGroup"}, {"123", "rg.with(parens)"}, {"yes", "no"}}) {
    ClusterRecord c = NewCluster(name, "uid-" + name, rg);
    for (CredentialKind kind : {CredentialKind::kUser, CredentialKind::kAdmin}) {
      std::string kc = Kubeconfig(c, kind);
      if (::access("/usr/bin/kubectl", X_OK) != 0) {
        // No kubectl: every line is "key:" or "key: value", indented, maybe after "- ".
        EXPECT_THAT(kc, ::testing::EndsWith("\n"));
        size_t start = 0;
        while (start < kc.size()) {
          std::string line = kc.substr(start, kc.find('\n', start) - start);
          start += line.size() + 1;
          size_t key = line.find_first_not_of(' ');
          if (line.compare(key, 2, "- ") == 0) key += 2;
          size_t colon = line.find(':', key);
          ASSERT_NE(colon, std::string::npos) << line;
          EXPECT_TRUE(colon + 1 == line.size() || line[colon + 1] == ' ') << line;
        }
        continue;
      }
      std::string path = dir_ + "/kubeconfig";
      std::ofstream(path) << kc;
      int code = -1;
      std::string out = RunCommand(
          fmt::format("/usr/bin/kubectl config view --kubeconfig '{}' --raw -o json 2>&1", path),
          &code);
      ASSERT_EQ(code, 0) << out << "\n" << kc;
      auto j = nlohmann::json::parse(out, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << out;
      bool admin = kind == CredentialKind::kAdmin;
      std::string user = fmt::format("{}_{}_{}", admin ? "clusterAdmin" : "clusterUser", rg, name);
      const std::string& context = name;
      EXPECT_EQ(j["kind"], "Config");
      EXPECT_EQ(j["apiVersion"], "v1");
      EXPECT_EQ(j["current-context"], context);
      ASSERT_EQ(j["clusters"].size(), 1u);
      EXPECT_EQ(j["clusters"][0]["name"], name);
      EXPECT_EQ(j["clusters"][0]["cluster"]["server"], "https://localhost:8443/k8s/uid-" + name);
      EXPECT_EQ(DecodeBase64(j["clusters"][0]["cluster"]["certificate-authority-data"]),
                kServerCaPem);
      ASSERT_EQ(j["contexts"].size(), 1u);
      EXPECT_EQ(j["contexts"][0]["name"], context);
      EXPECT_EQ(j["contexts"][0]["context"]["cluster"], name);
      EXPECT_EQ(j["contexts"][0]["context"]["user"], user);
      ASSERT_EQ(j["users"].size(), 1u);
      EXPECT_EQ(j["users"][0]["name"], user);
      auto cert = crypto::Certificate::FromPem(
          DecodeBase64(j["users"][0]["user"]["client-certificate-data"]));
      EXPECT_TRUE(cert.ok());
      auto key =
          crypto::PrivateKey::FromPem(DecodeBase64(j["users"][0]["user"]["client-key-data"]));
      EXPECT_TRUE(key.ok());
    }
  }
}

TEST_F(ClusterPkiTest, CertificateOfClusterAIsRefusedByClusterB) {
  ClusterRecord a = NewCluster("a", "uid-a");
  ClusterRecord b = NewCluster("b", "uid-b");
  std::string der_a = CertDer(Kubeconfig(a, CredentialKind::kAdmin));
  EXPECT_TRUE(VerifyClientCertificate(a, der_a, clock_.Now()).ok());
  auto refused = VerifyClientCertificate(b, der_a, clock_.Now());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);

  // The same name in another resource group is another cluster with another CA.
  ClusterRecord a2 = NewCluster("a", "uid-a2", "rg2");
  EXPECT_FALSE(VerifyClientCertificate(a2, der_a, clock_.Now()).ok());
}

TEST_F(ClusterPkiTest, ExpiredAndNotYetValidCertificatesAreRefused) {
  ClusterRecord c = NewCluster("c", "uid-c");
  std::string der = CertDer(Kubeconfig(c, CredentialKind::kUser));
  EXPECT_TRUE(VerifyClientCertificate(c, der, clock_.Now() + hours(24 * 365 * 2)).ok());
  auto expired = VerifyClientCertificate(c, der, clock_.Now() + hours(24 * 365 * 2 + 48));
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.status().message(), HasSubstr("expired"));
  EXPECT_FALSE(VerifyClientCertificate(c, der, clock_.Now() - hours(1)).ok());
}

TEST_F(ClusterPkiTest, NonClientCertificatesOfTheClusterCaAreRefused) {
  ClusterRecord c = NewCluster("c", "uid-c");
  auto txn = store_->BeginRead();
  ASSERT_TRUE(txn.ok());
  auto key_pem = (*txn)->GetSecret("containerservice/clusters/uid-c/client-ca-key");
  ASSERT_TRUE(key_pem.ok());
  auto ca_key = crypto::PrivateKey::FromPem(
      std::string_view(reinterpret_cast<const char*>(key_pem->data()), key_pem->size()));
  ASSERT_TRUE(ca_key.ok());
  auto ca = crypto::Certificate::FromPem(c.client_ca_pem);
  ASSERT_TRUE(ca.ok());
  auto leaf_key = crypto::GenerateEcKey(crypto::Curve::kP256);
  ASSERT_TRUE(leaf_key.ok());

  auto der_of = [](const crypto::Certificate& cert) {
    auto der = cert.ToDer();
    return der.ok() ? ToString(*der) : std::string();
  };
  crypto::CertificateOptions server;
  server.common_name = "clusterAdmin";
  server.organization = "system:masters";
  server.not_before = clock_.Now();
  server.server_auth = true;  // a server certificate: no clientAuth
  auto server_cert = crypto::IssueCertificate(*ca, *ca_key, leaf_key->Public(), server);
  ASSERT_TRUE(server_cert.ok());
  EXPECT_FALSE(VerifyClientCertificate(c, der_of(*server_cert), clock_.Now()).ok());

  crypto::CertificateOptions no_eku = server;
  no_eku.server_auth = false;  // no extendedKeyUsage at all
  auto plain = crypto::IssueCertificate(*ca, *ca_key, leaf_key->Public(), no_eku);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(VerifyClientCertificate(c, der_of(*plain), clock_.Now()).ok());

  // The CA certificate itself (it would "verify" against itself).
  EXPECT_FALSE(VerifyClientCertificate(c, der_of(*ca), clock_.Now()).ok());

  // A self-signed client certificate with the right names.
  crypto::CertificateOptions self = no_eku;
  self.client_auth = true;
  auto self_signed = crypto::CreateSelfSignedCa(*leaf_key, self);
  ASSERT_TRUE(self_signed.ok());
  EXPECT_FALSE(VerifyClientCertificate(c, der_of(*self_signed), clock_.Now()).ok());

  // The sanity case: the same options with clientAuth, issued by the CA, pass.
  auto client = crypto::IssueCertificate(*ca, *ca_key, leaf_key->Public(), self);
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE(VerifyClientCertificate(c, der_of(*client), clock_.Now()).ok());
}

TEST_F(ClusterPkiTest, GarbageAndMissingCertificatesAreRefused) {
  ClusterRecord c = NewCluster("c", "uid-c");
  for (std::string der :
       {std::string(), std::string("\x30\x03\x02\x01\x01", 5), std::string(100, '\xff')}) {
    auto r = VerifyClientCertificate(c, der, clock_.Now());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  }
  ClusterRecord broken = c;
  broken.client_ca_pem = "";
  std::string der = CertDer(Kubeconfig(c, CredentialKind::kUser));
  auto r = VerifyClientCertificate(broken, der, clock_.Now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(ClusterPkiTest, DeletedCaKeyMeansNoKubeconfig) {
  ClusterRecord c = NewCluster("c", "uid-c");
  {
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(DeleteClusterCa(**txn, "uid-c").ok());
    ASSERT_TRUE(DeleteClusterCa(**txn, "uid-c").ok());  // missing: OK
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto kc = BuildKubeconfig(*store_, c, CredentialKind::kUser, Options());
  ASSERT_FALSE(kc.ok());
  EXPECT_EQ(kc.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace byok::containerservice
