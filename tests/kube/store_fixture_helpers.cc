#include "kube/store_fixture_helpers.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <utility>
#include <vector>

#include "kube/rest.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::kube {

StoreFixture::StoreFixture() : clock_(TimePoint(std::chrono::seconds(1704164645))) {}

void StoreFixture::SetUp() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/byok-kube-store-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  ASSERT_NE(::mkdtemp(buf.data()), nullptr);
  dir_ = buf.data();
  std::vector<uint8_t> key_bytes(store::kRootKeySize, 7);
  auto root = store::RootKey::FromBytes(key_bytes);
  ASSERT_TRUE(root.ok());
  store::SqliteOptions so;
  so.data_dir = dir_;
  auto st = store::OpenSqliteStore(so, clock_, std::move(root).value());
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  store_ = std::move(st).value();
}

void StoreFixture::TearDown() {
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void ClusterFixture::SetUp() {
  StoreFixture::SetUp();
  objects_ = std::make_unique<ObjectStore>(ObjectStoreDeps{store_.get(), &clock_, &random_});
  cluster_.id =
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c";
  cluster_.name = "c";
  cluster_.unique_id = "uid1";
  cluster_.kubernetes_version = "1.24.9";
  cluster_.location = "eastus";
  cluster_.node_resource_group = "MC_rg_c_eastus";
  cluster_.subscription_id = "s";
  cluster_.resource_group = "rg";
}

void ClusterFixture::TearDown() {
  objects_.reset();
  StoreFixture::TearDown();
}

http::Response ClusterFixture::Handle(http::Request r, const std::string& target) {
  std::string path = target;
  if (size_t q = path.find('?'); q != std::string::npos) {
    std::string query = path.substr(q + 1);
    path = path.substr(0, q);
    size_t start = 0;
    while (start <= query.size()) {
      size_t amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      std::string kv = query.substr(start, amp - start);
      size_t eq = kv.find('=');
      r.query.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
      start = amp + 1;
    }
  }
  r.path = path;
  RestDeps deps{store_.get(), objects_.get(), &clock_};
  return HandleRest(deps, cluster_, r, path,
                    containerservice::ClientIdentity{"clusterAdmin", "system:masters"});
}

http::Response ClusterFixture::Call(const std::string& method, const std::string& target,
                                    const nlohmann::json& body, const std::string& content_type,
                                    const std::string& accept) {
  http::Request r;
  r.method = method;
  if (!body.is_null()) r.body = body.dump();
  r.headers.Set("Content-Type", content_type);
  r.headers.Set("Accept", accept);
  r.headers.Set("User-Agent", "kubectl/v1.32.4 (linux/amd64) kubernetes/abc");
  return Handle(std::move(r), target);
}

}  // namespace byok::kube
