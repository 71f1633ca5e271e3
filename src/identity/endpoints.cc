#include "identity/endpoints.h"

#include <algorithm>

#include "identity/internal/util.h"

namespace byok::identity {
namespace {

using internal::NormalizeUrlForCompare;

constexpr std::string_view kHttps = "https://";

// The port of a base URL "https://host[:port]" (443 if none).
std::string PortOf(std::string_view base_url) {
  std::string_view authority = base_url.substr(kHttps.size());
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket)) {
    return "443";
  }
  return std::string(authority.substr(colon + 1));
}

void AddUnique(std::vector<std::string>& v, std::string s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

}  // namespace

void ServerUrls::Set(std::vector<std::string> base_urls) {
  std::vector<std::string> clean;
  for (auto& u : base_urls) {
    std::string n = internal::ToLowerAscii(u);
    if (!n.empty() && n.back() == '/') n.pop_back();
    if (!n.starts_with(kHttps) || n.size() == kHttps.size()) continue;
    if (n.find('/', kHttps.size()) != std::string::npos) continue;
    AddUnique(clean, std::move(n));
  }
  std::lock_guard<std::mutex> lock(mu_);
  urls_ = std::move(clean);
}

std::vector<std::string> ServerUrls::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return urls_;
}

std::vector<std::string> DefaultServerBaseUrls(std::string_view listen_host, uint16_t port) {
  std::vector<std::string> hosts = {"localhost", "127.0.0.1", "[::1]"};
  std::string listen(listen_host);
  if (!listen.empty() && listen.front() != '[' && listen.find(':') != std::string::npos) {
    listen = "[" + listen + "]";
  }
  if (!listen.empty() && listen != "0.0.0.0" && listen != "[::]") {
    AddUnique(hosts, internal::ToLowerAscii(listen));
  }
  std::vector<std::string> out;
  for (const auto& h : hosts) {
    out.push_back(std::string(kHttps) + h + ":" + std::to_string(port));
    if (port == 443) out.push_back(std::string(kHttps) + h);
  }
  return out;
}

std::vector<std::string> AllowedAudiences(Audience api, const std::vector<std::string>& base_urls) {
  std::vector<std::string> out;
  switch (api) {
    case Audience::kArm:
      out = {"https://management.core.windows.net/", "https://management.core.windows.net",
             "https://management.azure.com/", "https://management.azure.com"};
      for (const auto& b : base_urls) {
        AddUnique(out, b + "/");
        AddUnique(out, b);
      }
      break;
    case Audience::kKeyVault:
      out = {"https://vault.azure.net", "cfa8b339-82a2-471a-a3c9-0fc0be7a4093",
             "https://vault.localhost"};
      for (const auto& b : base_urls) {
        std::string port = PortOf(b);
        if (port != "443") AddUnique(out, "https://vault.localhost:" + port);
      }
      break;
    case Audience::kGraph:
      out = {"https://graph.microsoft.com", "https://graph.windows.net/",
             "00000003-0000-0000-c000-000000000000", "00000002-0000-0000-c000-000000000000"};
      for (const auto& b : base_urls) {
        AddUnique(out, b + "/graph/");
        AddUnique(out, b + "/graph");
      }
      break;
    default:
      break;
  }
  return out;
}

bool IsAllowedAudience(Audience api, std::string_view audience,
                       const std::vector<std::string>& base_urls) {
  if (audience.empty()) return false;
  std::string a = NormalizeUrlForCompare(audience);
  for (const auto& allowed : AllowedAudiences(api, base_urls)) {
    if (NormalizeUrlForCompare(allowed) == a) return true;
  }
  return false;
}

std::optional<Audience> AudienceOfResource(std::string_view resource,
                                           const std::vector<std::string>& base_urls) {
  for (Audience api : {Audience::kArm, Audience::kKeyVault, Audience::kGraph}) {
    if (IsAllowedAudience(api, resource, base_urls)) return api;
  }
  return std::nullopt;
}

std::string_view DefaultResource(Audience api) {
  switch (api) {
    case Audience::kArm:
      return "https://management.core.windows.net/";
    case Audience::kKeyVault:
      return "https://vault.azure.net";
    case Audience::kGraph:
      return "https://graph.microsoft.com";
    default:
      return "";
  }
}

std::string AdfsIssuer(std::string_view authority) {
  return std::string(kHttps) + std::string(authority) + "/adfs";
}

std::string V2Issuer(std::string_view authority, std::string_view tenant_id) {
  return std::string(kHttps) + std::string(authority) + "/" + std::string(tenant_id) + "/v2.0";
}

std::string V1Issuer(std::string_view authority, std::string_view tenant_id) {
  return std::string(kHttps) + std::string(authority) + "/" + std::string(tenant_id) + "/";
}

bool IsAcceptedIssuer(std::string_view issuer, std::string_view tenant_id,
                      const std::vector<std::string>& base_urls) {
  std::string iss = internal::ToLowerAscii(issuer);
  if (!iss.starts_with(kHttps)) return false;
  size_t path = iss.find('/', kHttps.size());
  if (path == std::string::npos || path == kHttps.size()) return false;
  std::string authority = iss.substr(kHttps.size(), path - kHttps.size());
  std::string base = iss.substr(0, path);
  if (!base_urls.empty() &&
      std::find(base_urls.begin(), base_urls.end(), base) == base_urls.end()) {
    return false;
  }
  std::string tid = internal::ToLowerAscii(tenant_id);
  return iss == AdfsIssuer(authority) || iss == V2Issuer(authority, tid) ||
         iss == V1Issuer(authority, tid);
}

}  // namespace byok::identity
