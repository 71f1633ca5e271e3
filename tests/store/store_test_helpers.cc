#include "store/store_test_helpers.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace byok::store::test {

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/byok-store-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) std::abort();
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TimePoint TestEpoch() {
  return TimePoint(std::chrono::seconds(1704164645));  // 2024-01-02T03:04:05Z
}

RootKey TestRootKey(uint8_t seed) {
  std::vector<uint8_t> bytes(kRootKeySize);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed * 31 + i * 7);
  return std::move(RootKey::FromBytes(bytes)).value();
}

Resource MakeResource(std::string id, std::string type, std::string parent_id,
                      nlohmann::json body) {
  Resource r;
  r.id = std::move(id);
  r.type = std::move(type);
  r.parent_id = std::move(parent_id);
  r.body = std::move(body);
  return r;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

RawDb::RawDb(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
  }
  sqlite3_busy_timeout(db_, 5000);
}

RawDb::~RawDb() { sqlite3_close_v2(db_); }

int RawDb::Exec(const std::string& sql) {
  return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
}

std::vector<std::string> RawDb::Column(const std::string& sql) {
  std::vector<std::string> out;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "prepare " << sql << ": " << sqlite3_errmsg(db_);
    return out;
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* p = sqlite3_column_text(stmt, 0);
    out.emplace_back(p != nullptr ? reinterpret_cast<const char*>(p) : "");
  }
  sqlite3_finalize(stmt);
  return out;
}

}  // namespace byok::store::test
