#include "kube/store_fixture_helpers.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

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

}  // namespace byok::kube
