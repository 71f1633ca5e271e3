#include "kube/api_server.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "common/encoding.h"
#include "containerservice/cluster_pki.h"
#include "containerservice/cluster_store.h"
#include "http/errors.h"
#include "kube/errors.h"
#include "kube/rest.h"
#include "kube/status.h"

namespace byok::kube {
namespace {

// The Go release a Kubernetes minor version was built with in early 2023 (byok's stand-in).
std::string GoVersion(int minor) {
  if (minor <= 22) return "go1.16.15";
  if (minor == 23) return "go1.17.13";
  if (minor == 24) return "go1.18.10";
  return "go1.19.5";
}

// A stable 40-hex-digit stand-in for the upstream commit: SHA-1 of "kubernetes {gitVersion}".
std::string GitCommit(std::string_view git_version) {
  std::string input = "kubernetes " + std::string(git_version);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), md, &len, EVP_sha1(), nullptr) != 1) {
    return std::string(40, '0');
  }
  return HexEncode(std::span<const uint8_t>(md, len));
}

http::Response Error(const ErrorSpec& spec) { return StatusResponse(MakeError(spec)); }

}  // namespace

nlohmann::json VersionInfo(std::string_view kubernetes_version) {
  std::string_view v = kubernetes_version;
  if (!v.empty() && (v.front() == 'v' || v.front() == 'V')) v.remove_prefix(1);
  std::string_view major = v.substr(0, v.find('.'));
  std::string_view rest = major.size() < v.size() ? v.substr(major.size() + 1) : "";
  std::string_view minor = rest.substr(0, rest.find('.'));
  int minor_number = 0;
  for (char c : minor) {
    if (c < '0' || c > '9') break;
    minor_number = minor_number * 10 + (c - '0');
    if (minor_number > 1000) break;
  }
  std::string git_version = "v" + std::string(v);
  return {{"major", std::string(major)},
          {"minor", std::string(minor)},
          {"gitVersion", git_version},
          {"gitCommit", GitCommit(git_version)},
          {"gitTreeState", "clean"},
          {"buildDate", "2023-01-18T00:00:00Z"},
          {"goVersion", GoVersion(minor_number)},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

ApiServer::ApiServer(ApiServerDeps deps) : deps_(std::move(deps)) {}

http::Response ApiServer::Handle(http::Request& request) const {
  auto uid = request.params.find("uniqueId");
  if (uid == request.params.end()) return Error(errors::kNotFound);
  std::optional<containerservice::ClusterRecord> cluster;
  {
    auto txn = deps_.store->BeginRead();
    if (!txn.ok()) {
      spdlog::error("kube api: cannot read the store: {}", txn.status().ToString());
      return Error(errors::kInternalError);
    }
    auto found = containerservice::FindClusterByUniqueId(**txn, uid->second);
    if (!found.ok()) {
      spdlog::error("kube api: cannot look up cluster {}: {}", uid->second,
                    found.status().ToString());
      return Error(errors::kInternalError);
    }
    cluster = std::move(found).value();
  }
  if (!cluster) return Error(errors::kNotFound);
  // Authentication first: an unauthenticated caller learns nothing about the cluster (not even
  // that it is stopped, nor its name).
  auto identity = containerservice::VerifyClientCertificate(*cluster, request.client_cert_der,
                                                            deps_.clock->Now());
  if (!identity.ok()) {
    spdlog::debug("kube api of cluster {}: client refused: {}", cluster->name,
                  identity.status().message());
    return Error(errors::kUnauthorized);
  }
  if (http::EqualsIgnoreCase(cluster->power_state, "Stopped")) {
    return StatusResponse(MakeError(errors::kClusterStopped, cluster->name));
  }

  std::string rest;
  if (auto it = request.params.find("rest"); it != request.params.end()) rest = it->second;
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest == "healthz" || rest == "livez" || rest == "readyz") {
    if (request.method != "GET" && request.method != "HEAD") {
      return Error(errors::kMethodNotAllowed);
    }
    // The apiserver's answer when every check passes; byok's only check is that it answers.
    std::string body = request.Query("verbose").has_value()
                           ? fmt::format("[+]ping ok\n{} check passed\n", rest)
                           : std::string("ok");
    http::Response r = http::Response::Empty(200);
    r.body = std::move(body);
    r.headers.Set("Content-Type", "text/plain; charset=utf-8");
    r.headers.Set("Cache-Control", "no-cache, private");
    r.headers.Set("X-Content-Type-Options", "nosniff");
    return r;
  }
  if (rest == "version") {
    if (request.method != "GET" && request.method != "HEAD") {
      return Error(errors::kMethodNotAllowed);
    }
    http::Response r = http::Response::Json(200, VersionInfo(cluster->kubernetes_version));
    r.headers.Set("Content-Type", "application/json");
    r.headers.Set("Cache-Control", "no-cache, private");
    return r;
  }
  if (deps_.objects != nullptr) {
    RestDeps rest_deps{deps_.store, deps_.objects, deps_.clock};
    return HandleRest(rest_deps, *cluster, request, rest, *identity);
  }
  return Error(errors::kNotFound);
}

http::Response ApiServer::HandleUnprefixed(http::Request& request) const {
  if (request.client_cert_der.empty()) {
    return http::Response::Error(MakeError(http::errors::kNotFound, request.path));
  }
  std::optional<std::string> unique_id;
  Status read = store::RunInReadTransaction(*deps_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto clusters, containerservice::ListClusterRecords(txn));
    const auto now = deps_.clock->Now();
    for (const containerservice::ClusterRecord& cluster : clusters) {
      if (containerservice::VerifyClientCertificate(cluster, request.client_cert_der, now).ok()) {
        unique_id = cluster.unique_id;
        break;
      }
    }
    return Status::Ok();
  });
  if (!read.ok()) {
    spdlog::error("kube api: cannot read the clusters: {}", read.ToString());
    return Error(errors::kInternalError);
  }
  if (!unique_id) {
    spdlog::debug("kube api: no cluster issued the client certificate of {} {}", request.method,
                  request.path);
    return Error(errors::kUnauthorized);
  }
  request.params["uniqueId"] = *unique_id;
  request.params["rest"] = request.path.substr(std::min<size_t>(1, request.path.size()));
  return Handle(request);
}

void AddApiServerRoutes(http::Router& router, ApiServerDeps deps) {
  auto server = std::make_shared<ApiServer>(std::move(deps));
  auto handler = [server](http::Request& r) { return server->Handle(r); };
  router.Add("*", "*", "/k8s/{uniqueId}", handler);
  router.Add("*", "*", "/k8s/{uniqueId}/{*rest}", handler);
  auto unprefixed = [server](http::Request& r) { return server->HandleUnprefixed(r); };
  for (const char* path : {"/api", "/api/{*rest}", "/apis", "/apis/{*rest}", "/openapi/{*rest}",
                           "/version", "/healthz", "/livez", "/readyz"}) {
    router.Add("*", "*", path, unprefixed);
  }
}

}  // namespace byok::kube
