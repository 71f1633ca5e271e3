#include "identity/identity_test_helpers.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/encoding.h"
#include "identity/internal/util.h"

namespace byok::identity::test {

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/byok-identity-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) std::abort();
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TimePoint TestEpoch() { return TimePoint(std::chrono::seconds(TestEpochUnix())); }
int64_t TestEpochUnix() { return 1704164645; }  // 2024-01-02T03:04:05Z

store::RootKey TestRootKey() {
  std::vector<uint8_t> bytes(store::kRootKeySize, 0x5a);
  return std::move(store::RootKey::FromBytes(bytes)).value();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

http::Request MakeRequest(std::string method, std::string target, std::string host_header,
                          std::string body,
                          std::vector<std::pair<std::string, std::string>> headers) {
  http::Request req;
  req.method = std::move(method);
  req.target = target;
  size_t q = target.find('?');
  req.path = *internal::PercentDecode(target.substr(0, q));
  if (q != std::string::npos) req.query = *internal::ParseForm(target.substr(q + 1));
  if (!host_header.empty()) {
    req.headers.Add("Host", host_header);
    std::string host = host_header;
    if (host.front() == '[') {
      host = host.substr(1, host.find(']') - 1);
    } else if (size_t colon = host.find(':'); colon != std::string::npos) {
      host = host.substr(0, colon);
    }
    req.host = internal::ToLowerAscii(host);
  }
  for (auto& [n, v] : headers) req.headers.Add(n, v);
  req.body = std::move(body);
  req.request_id = "11111111-2222-3333-4444-555555555555";
  req.remote_address = "127.0.0.1:50000";
  return req;
}

std::string FormBody(const std::vector<std::pair<std::string, std::string>>& fields) {
  auto encode = [](std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        static const char* kHex = "0123456789ABCDEF";
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  };
  std::string out;
  for (const auto& [n, v] : fields) {
    if (!out.empty()) out += '&';
    out += encode(n) + "=" + encode(v);
  }
  return out;
}

nlohmann::json JwtClaims(const std::string& token) {
  size_t a = token.find('.');
  size_t b = token.find('.', a + 1);
  auto bytes = Base64UrlDecode(token.substr(a + 1, b - a - 1));
  return nlohmann::json::parse(ToString(*bytes));
}

void StoreFixture::OpenStore() {
  store::SqliteOptions o;
  o.data_dir = dir_.path();
  auto store = store::OpenSqliteStore(o, clock_, TestRootKey());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(store).value();
}

void StoreFixture::ReopenStore() {
  store_.reset();
  OpenStore();
}

void IdentityFixture::SetUp() {
  StoreFixture::SetUp();
  auto boot = Bootstrap(*store_, clock_, CryptoRandom(), FastDirectoryOptions());
  ASSERT_TRUE(boot.ok()) << boot.status().ToString();
  boot_ = std::move(boot).value();
  IdentityOptions options;
  options.server_base_urls = kTestBaseUrls;
  options.directory = FastDirectoryOptions();
  auto service = IdentityService::Open(*store_, clock_, CryptoRandom(), options);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  service_ = std::move(service).value();
  AddIdentityRoutes(router_, *service_);
}

http::Response IdentityFixture::Call(http::Request req) {
  http::Router::Match m = router_.Find(req.method, req.host, req.path);
  if (m.handler == nullptr) return http::Response::Empty(m.path_matched_other_method ? 405 : 404);
  req.params = m.params;
  return (*m.handler)(req);
}

std::string IdentityFixture::TokenFor(const Principal& principal, std::string_view resource,
                                      std::string_view authority) {
  auto token =
      service_->tokens().Issue(principal, resource, AdfsIssuer(authority), TokenVersion::kV1);
  EXPECT_TRUE(token.ok()) << token.status().ToString();
  return token.ok() ? token->access_token : "";
}

ServicePrincipalCredentials IdentityFixture::NewServicePrincipal(std::string_view name) {
  auto c = service_->directory().CreateServicePrincipal(name);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : ServicePrincipalCredentials{};
}

Principal IdentityFixture::PrincipalOf(const ServicePrincipalCredentials& c) {
  auto p = service_->directory().FindByAppId(c.app_id);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : Principal{};
}

}  // namespace byok::identity::test
