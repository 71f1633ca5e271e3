#include "kube/provisioner.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/resource_id.h"
#include "http/client.h"
#include "kube/internal/object_access.h"
#include "kube/internal/time.h"
#include "kube/kinds.h"

namespace byok::kube {
namespace {

using containerservice::ClusterRecord;
using nlohmann::json;

// ---- Messages: azuredisk-csi-driver (pkg/azureutils, controllerserver.go, cloud-provider-azure's
// managed disk controller), external-provisioner and persistentvolume-controller, as users see
// them in `kubectl describe pvc`. "(byok)" marks wording that is byok's own. ----

// external-provisioner's ProvisioningFailed. Args: the class, the driver's error.
constexpr char kProvisionFailed[] = "failed to provision volume with StorageClass \"{}\": {}";
// The driver's gRPC errors. Arg: the message.
constexpr char kInvalidArgumentRpc[] = "rpc error: code = InvalidArgument desc = {}";
constexpr char kInternalRpc[] = "rpc error: code = Internal desc = {}";
constexpr char kParseFailed[] = "Failed parsing disk parameters: {}";
constexpr char kInvalidParameter[] = "invalid parameter {} in storage class";
// (byok) Args: the value, the parameter.
constexpr char kBadPathParameter[] =
    "invalid value \"{}\" of parameter {} in storage class: only letters, digits, '-', '_', "
    "'.', '(' and ')' are allowed";
constexpr char kBadTags[] =
    "Tags '{}' are invalid, the format should like: 'key1=value1,key2=value2'";
constexpr char kBadSku[] =
    "azureDisk - {} is not supported sku/storageaccounttype. Supported values are [Premium_LRS "
    "Premium_ZRS Standard_LRS StandardSSD_LRS StandardSSD_ZRS UltraSSD_LRS PremiumV2_LRS]";
constexpr char kBadCaching[] =
    "azureDisk - {} is not supported cachingmode. Supported values are [None ReadOnly "
    "ReadWrite]";
constexpr char kBadNetworkPolicy[] =
    "azureDisk - {} is not supported NetworkAccessPolicy. Supported values are [AllowAll "
    "AllowPrivate DenyAll]";
constexpr char kBadEncryptionType[] = "DiskEncryptionType({}) is not supported";
constexpr char kBadDesId[] =
    "AzureDisk - format of DiskEncryptionSetID({}) is incorrect, correct format: "
    "/subscriptions/{{subs-id}}/resourceGroups/{{rg-name}}/providers/Microsoft.Compute/"
    "diskEncryptionSets/{{diskEncryptionSet-name}}";
constexpr char kTypeWithoutDes[] =
    "AzureDisk - DiskEncryptionType({}) should be empty when DiskEncryptionSetID is not set";
constexpr char kIopsOnlyUltra[] =
    "AzureDisk - DiskIOPSReadWrite parameter is only applicable in UltraSSD_LRS disk type";
constexpr char kMbpsOnlyUltra[] =
    "AzureDisk - DiskMBpsReadWrite parameter is only applicable in UltraSSD_LRS disk type";
constexpr char kParseNumber[] =
    "parse {} failed with error: strconv.Atoi: parsing \"{}\": invalid syntax";
// (byok) The in-tree driver's unmanaged (blob) disks do not exist on AKS. Arg: the kind.
constexpr char kUnmanagedKind[] =
    "kind {} is not supported: only managed disks can be provisioned (kind: managed)";
// (byok) AKS supports customer-managed keys for data disks from Kubernetes 1.24. Arg: version.
constexpr char kDesNeeds124[] =
    "diskEncryptionSetID requires Kubernetes 1.24 or later; this cluster runs {}";
// The ARM error as the Azure SDK's error text carries it. Args: HTTP status, body.
constexpr char kArmError[] = "Retriable: false, RetryAfter: 0s, HTTPStatusCode: {}, RawError: {}";
// (byok) The ARM endpoint could not be reached. Arg: the cause.
constexpr char kArmUnreachable[] =
    "Retriable: true, RetryAfter: 5s, HTTPStatusCode: 0, RawError: {}";
// (byok) The request's storage size. Arg: the quantity.
constexpr char kBadSize[] = "invalid storage request {} in the claim";
// persistentvolume-controller.
constexpr char kClassNotFound[] = "storageclass.storage.k8s.io \"{}\" not found";
constexpr char kExternalProvisioning[] =
    "waiting for a volume to be created, either by external provisioner \"{}\" or manually "
    "created by system administrator";
constexpr char kWaitForFirstConsumer[] = "waiting for first consumer to be created before binding";
// external-provisioner.
constexpr char kProvisioning[] = "External provisioner is provisioning volume for claim \"{}/{}\"";
constexpr char kProvisioned[] = "Successfully provisioned volume {}";
constexpr char kDeleteFailed[] = "rpc error: code = Internal desc = {}";
// external-provisioner refuses to delete a volume a VolumeAttachment still names. Args: the
// volume, the node.
constexpr char kStillAttached[] = "persistentvolume {} is still attached to node {}";

// persistentvolume-controller's static binding.
constexpr char kNoVolumes[] =
    "no persistent volumes available for this claim and no storage class is set";
// Args: the volume, the reason ("requested PV is too small", ...).
constexpr char kVolumeMismatch[] = "Cannot bind to requested volume \"{}\": {}";
// (byok) The disk's asynchronous creation ended badly. Args: the disk id, its body.
constexpr char kDiskCreateFailed[] =
    "Retriable: false, RetryAfter: 0s, HTTPStatusCode: 200, RawError: disk {} ended in "
    "provisioningState Failed: {}";
constexpr char kPvController[] = "persistentvolume-controller";
constexpr char kDefaultClassAnnotation[] = "storageclass.kubernetes.io/is-default-class";
constexpr char kProvisionedBy[] = "pv.kubernetes.io/provisioned-by";

// ---- JSON helpers ----

using internal::Str;

const json& At(const json& j, std::initializer_list<const char*> path) {
  static const json kNull;
  const json* cur = &j;
  for (const char* p : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(p);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool IsInt(std::string_view s) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

Status InvalidArgument(const std::string& desc) {
  return Status::InvalidArgument(fmt::format(kInvalidArgumentRpc, desc));
}
Status ParseError(const std::string& what) {
  return InvalidArgument(fmt::format(kParseFailed, what));
}
Status InternalRpc(const std::string& desc) {
  return Status::InvalidArgument(fmt::format(kInternalRpc, desc));
}

// "1.24.9" → (1, 24).
std::pair<int, int> MajorMinor(std::string_view version) {
  int major = 0, minor = 0;
  if (!version.empty() && (version[0] == 'v' || version[0] == 'V')) version.remove_prefix(1);
  std::sscanf(std::string(version).c_str(), "%d.%d", &major, &minor);
  return {major, minor};
}

using internal::KindOf;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parameters, quantities, the disk body.

namespace {

// An ARM path segment from a class parameter ("" = unset): 1 to 90 name characters, not "." or
// "..", so it can't add segments, a query or a fragment to the disk's URL.
bool ArmPathSegment(std::string_view v) {
  if (v.empty()) return true;
  if (v.size() > 90 || v == "." || v == "..") return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' ||
           c == '(' || c == ')';
  });
}

}  // namespace

Result<DiskParameters> ParseDiskParameters(const json& parameters) {
  DiskParameters p;
  std::string iops, mbps, kind;
  if (!parameters.is_null() && !parameters.is_object()) {
    return ParseError("parameters must be a map of strings");  // (byok)
  }
  if (parameters.is_object()) {
    for (const auto& [key, raw] : parameters.items()) {
      std::string v = raw.is_string() ? raw.get<std::string>() : raw.dump();
      std::string k = Lower(key);
      if (k == "skuname" || k == "storageaccounttype") {
        p.sku = v;
      } else if (k == "location") {
        p.location = v;
      } else if (k == "cachingmode") {
        p.caching_mode = v;
      } else if (k == "subscriptionid") {
        p.subscription_id = v;
      } else if (k == "resourcegroup") {
        p.resource_group = v;
      } else if (k == "diskiopsreadwrite") {
        iops = v;
      } else if (k == "diskmbpsreadwrite") {
        mbps = v;
      } else if (k == "logicalsectorsize" || k == "maxshares") {
        if (!IsInt(v)) return ParseError(fmt::format(kParseNumber, v, v));
      } else if (k == "diskname") {
        p.disk_name = v;
      } else if (k == "diskencryptionsetid") {
        p.des_id = v;
      } else if (k == "diskencryptiontype") {
        p.encryption_type = v;
      } else if (k == "tags") {
        if (v.empty()) continue;
        size_t start = 0;
        while (true) {
          size_t comma = v.find(',', start);
          std::string_view piece = std::string_view(v).substr(
              start, comma == std::string::npos ? std::string::npos : comma - start);
          size_t eq = piece.find('=');
          if (eq == std::string_view::npos || piece.find('=', eq + 1) != std::string_view::npos ||
              Trim(piece.substr(0, eq)).empty()) {
            return ParseError(fmt::format(kBadTags, v));
          }
          p.tags[Trim(piece.substr(0, eq))] = Trim(piece.substr(eq + 1));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      } else if (k == "networkaccesspolicy") {
        p.network_access_policy = v;
      } else if (k == "fstype") {
        p.fs_type = Lower(v);
      } else if (k == "kind") {
        kind = v;
      } else if (k == "writeacceleratorenabled" || k == "maxmountreplicacount" ||
                 k == "perfprofile" || k == "diskaccessid" || k == "enablebursting" ||
                 k == "useragent" || k == "enableasyncattach" || k == "incremental" ||
                 k == "zoned" || k.rfind("csi.storage.k8s.io/", 0) == 0 ||
                 k.rfind("device-setting/", 0) == 0) {
        // Understood by the driver; nothing byok does with them.
      } else {
        return ParseError(fmt::format(kInvalidParameter, key));
      }
    }
  }
  if (!kind.empty() && !arm::EqualsIgnoreCase(kind, "managed")) {
    return ParseError(fmt::format(kUnmanagedKind, kind));
  }
  // (byok) These become segments of the disk's ARM path: ARM name characters only.
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string*>{"subscriptionID", &p.subscription_id},
        {"resourceGroup", &p.resource_group},
        {"diskName", &p.disk_name}}) {
    if (!ArmPathSegment(*value)) return ParseError(fmt::format(kBadPathParameter, *value, name));
  }
  static const std::vector<std::string> kSkus = {
      "Premium_LRS",     "Premium_ZRS",  "Standard_LRS", "StandardSSD_LRS",
      "StandardSSD_ZRS", "UltraSSD_LRS", "PremiumV2_LRS"};
  if (p.sku.empty()) p.sku = "StandardSSD_LRS";
  if (std::find(kSkus.begin(), kSkus.end(), p.sku) == kSkus.end()) {
    return InvalidArgument(fmt::format(kBadSku, p.sku));
  }
  if (p.caching_mode.empty()) p.caching_mode = "ReadOnly";
  if (p.caching_mode != "None" && p.caching_mode != "ReadOnly" && p.caching_mode != "ReadWrite") {
    return InvalidArgument(fmt::format(kBadCaching, p.caching_mode));
  }
  if (!p.encryption_type.empty() && p.encryption_type != "EncryptionAtRestWithCustomerKey" &&
      p.encryption_type != "EncryptionAtRestWithPlatformAndCustomerKeys" &&
      p.encryption_type != "EncryptionAtRestWithPlatformKey") {
    return InvalidArgument(fmt::format(kBadEncryptionType, p.encryption_type));
  }
  if (p.network_access_policy.empty()) p.network_access_policy = "AllowAll";
  if (p.network_access_policy != "AllowAll" && p.network_access_policy != "AllowPrivate" &&
      p.network_access_policy != "DenyAll") {
    return InvalidArgument(fmt::format(kBadNetworkPolicy, p.network_access_policy));
  }
  // cloud-provider-azure's CreateManagedDisk checks (answered as Internal errors).
  bool ultra = p.sku == "UltraSSD_LRS" || p.sku == "PremiumV2_LRS";
  if (!ultra && !iops.empty()) return InternalRpc(kIopsOnlyUltra);
  if (!ultra && !mbps.empty()) return InternalRpc(kMbpsOnlyUltra);
  if (!p.des_id.empty()) {
    auto id = arm::ResourceId::Parse(p.des_id);
    if (Lower(p.des_id).rfind("/subscriptions/", 0) != 0 || !id.ok() ||
        !arm::EqualsIgnoreCase(id->ResourceType(), "Microsoft.Compute/diskEncryptionSets") ||
        id->resource_group().empty()) {
      return InternalRpc(fmt::format(kBadDesId, p.des_id));
    }
  }
  return p;
}

Result<int64_t> ParseQuantity(std::string_view q) {
  std::string s = Trim(q);
  auto bad = [&] { return Status::InvalidArgument(fmt::format(kBadSize, q)); };
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits_start = i;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == digits_start) return bad();
  std::string number = s.substr(0, i);
  std::string suffix = s.substr(i);
  if (std::count(number.begin(), number.end(), '.') > 1) return bad();
  long double value = std::strtold(number.c_str(), nullptr);
  long double mult = 1;
  static const std::vector<std::pair<std::string, long double>> kSuffixes = {
      {"Ki", 1024.0L},
      {"Mi", 1024.0L * 1024},
      {"Gi", 1024.0L * 1024 * 1024},
      {"Ti", 1024.0L * 1024 * 1024 * 1024},
      {"Pi", 1024.0L * 1024 * 1024 * 1024 * 1024},
      {"Ei", 1024.0L * 1024 * 1024 * 1024 * 1024 * 1024},
      {"m", 1e-3L},
      {"", 1},
      {"k", 1e3L},
      {"M", 1e6L},
      {"G", 1e9L},
      {"T", 1e12L},
      {"P", 1e15L},
      {"E", 1e18L}};
  bool found = false;
  for (const auto& [sfx, m] : kSuffixes) {
    if (suffix == sfx) {
      mult = m;
      found = true;
      break;
    }
  }
  if (!found) {
    if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E') && IsInt(suffix.substr(1))) {
      int exp = std::atoi(suffix.c_str() + 1);
      if (exp > 18 || exp < -18) return bad();
      mult = std::pow(10.0L, exp);
    } else {
      return bad();
    }
  }
  long double bytes = std::ceil(value * mult);
  if (bytes < 0 || bytes > 9.0e18L) return bad();
  return static_cast<int64_t>(bytes);
}

int64_t RoundUpGiB(int64_t bytes) {
  constexpr int64_t kGiB = int64_t{1} << 30;
  int64_t gib = (bytes + kGiB - 1) / kGiB;
  return std::max<int64_t>(gib, 1);
}

json DiskBody(const DiskParameters& p, const DiskRequest& r) {
  json tags = json::object();
  for (const auto& [k, v] : p.tags) tags[k] = v;
  tags["kubernetes.io-created-for-pvc-name"] = r.pvc_name;
  tags["kubernetes.io-created-for-pvc-namespace"] = r.pvc_namespace;
  tags["kubernetes.io-created-for-pv-name"] = r.pv_name;
  tags["k8s-azure-created-by"] = "kubernetes-azure-dd";
  json props = {{"creationData", {{"createOption", "Empty"}}},
                {"diskSizeGB", r.size_gib},
                {"networkAccessPolicy", p.network_access_policy}};
  if (!p.des_id.empty()) {
    props["encryption"] = {{"diskEncryptionSetId", p.des_id},
                           {"type", p.encryption_type.empty() ? "EncryptionAtRestWithCustomerKey"
                                                              : p.encryption_type}};
  }
  return {{"location", p.location.empty() ? r.location : p.location},
          {"sku", {{"name", p.sku}}},
          {"tags", tags},
          {"properties", props}};
}

std::string DiskId(const DiskParameters& p, const ClusterRecord& cluster,
                   std::string_view disk_name) {
  return fmt::format("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/disks/{}",
                     p.subscription_id.empty() ? cluster.subscription_id : p.subscription_id,
                     p.resource_group.empty() ? cluster.node_resource_group : p.resource_group,
                     disk_name);
}

// ---------------------------------------------------------------------------------------------
// The HTTPS ARM client.

namespace {

class HttpsArmClient final : public ArmClient {
 public:
  explicit HttpsArmClient(HttpsArmClientOptions o) : o_(std::move(o)) {}

  Result<ArmReply> Call(const ClusterRecord& cluster, std::string_view method,
                        std::string_view path_and_query, const json& body) override {
    BYOK_ASSIGN_OR_RETURN(std::string token, Token(cluster, false));
    BYOK_ASSIGN_OR_RETURN(ArmReply reply, Once(token, method, path_and_query, body));
    if (reply.status == 401) {
      BYOK_ASSIGN_OR_RETURN(token, Token(cluster, true));
      BYOK_ASSIGN_OR_RETURN(reply, Once(token, method, path_and_query, body));
    }
    return reply;
  }

 private:
  struct Cached {
    std::string token;  // secret
    int64_t expires_on = 0;
  };

  Result<std::string> Token(const ClusterRecord& cluster, bool refresh) {
    const std::string key = ArmTokenCacheKey(cluster);
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            o_.identity->clock().Now().time_since_epoch())
                            .count();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = tokens_.find(key);
      if (!refresh && it != tokens_.end() && it->second.expires_on - 300 > now) {
        return it->second.token;
      }
    }
    BYOK_ASSIGN_OR_RETURN(identity::Principal principal,
                          o_.identity->directory().FindManagedIdentity(cluster.id));
    BYOK_ASSIGN_OR_RETURN(identity::IssuedToken issued,
                          o_.identity->IssueToken(principal, identity::Audience::kArm));
    std::lock_guard<std::mutex> lock(mu_);
    tokens_[key] = Cached{issued.access_token, issued.expires_on};
    return std::move(issued.access_token);
  }

  Result<ArmReply> Once(const std::string& token, std::string_view method,
                        std::string_view path_and_query, const json& body) {
    http::Headers h;
    h.Set("Authorization", "Bearer " + token);
    h.Set("Accept", "application/json");
    h.Set("User-Agent", "byok-kube-provisioner (azuredisk-csi-driver)");
    std::string text;
    if (!body.is_null()) {
      h.Set("Content-Type", "application/json");
      text = body.dump();
    }
    http::ClientOptions co;
    co.ca_file = o_.ca_file;
    co.timeout = o_.timeout;
    BYOK_ASSIGN_OR_RETURN(
        http::ClientResponse resp,
        http::HttpsRequest(method, o_.base_url() + std::string(path_and_query), h, text, co));
    ArmReply reply;
    reply.status = resp.status;
    if (!resp.body.empty()) {
      reply.body = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
      if (reply.body.is_discarded()) reply.body = resp.body;
    }
    return reply;
  }

  HttpsArmClientOptions o_;
  std::mutex mu_;
  std::map<std::string, Cached> tokens_;  // key: the cluster's unique id
};

}  // namespace

std::string ArmTokenCacheKey(const ClusterRecord& cluster) { return cluster.unique_id; }

std::unique_ptr<ArmClient> NewHttpsArmClient(HttpsArmClientOptions options) {
  return std::make_unique<HttpsArmClient>(std::move(options));
}

// ---------------------------------------------------------------------------------------------
// One reconcile pass over a cluster.

namespace {

class Pass {
 public:
  Pass(const ProvisionerDeps& deps, const std::string& component, const ClusterRecord& cluster,
       ClaimBackoff& backoff, std::map<std::string, std::string>& creating,
       const std::atomic<bool>& stopping)
      : d_(deps),
        component_(component),
        cluster_(cluster),
        backoff_(backoff),
        creating_(creating),
        stopping_(stopping),
        uid_(cluster.unique_id),
        pvcs_(KindOf("", "persistentvolumeclaims")),
        pvs_(KindOf("", "persistentvolumes")),
        classes_(KindOf("storage.k8s.io", "storageclasses")),
        events_(KindOf("", "events")) {}

  // True when work is left to retry.
  Result<bool> Run() {
    BYOK_ASSIGN_OR_RETURN(ListResult classes, d_.objects->List(uid_, classes_));
    for (json& c : classes.items) {
      std::string name = Str(c, {"metadata", "name"});
      classes_by_name_[name] = std::move(c);
    }
    BYOK_ASSIGN_OR_RETURN(ListResult claims, d_.objects->List(uid_, pvcs_));
    BYOK_ASSIGN_OR_RETURN(ListResult volumes, d_.objects->List(uid_, pvs_));
    for (json& pv : volumes.items) {
      std::string name = Str(pv, {"metadata", "name"});
      // A volume without a bound claim is Available (persistentvolume-controller's syncVolume).
      const std::string phase = Str(pv, {"status", "phase"});
      if ((phase.empty() || phase == "Pending") && Str(pv, {"spec", "claimRef", "uid"}).empty() &&
          At(pv, {"metadata", "deletionTimestamp"}).is_null()) {
        auto available = d_.objects->Modify(uid_, pvs_, "", name, [](json cur) {
          cur["status"]["phase"] = "Available";
          return Result<json>(std::move(cur));
        });
        if (available.ok()) pv = std::move(available).value();
      }
      volumes_by_name_[name] = std::move(pv);
    }
    BYOK_ASSIGN_OR_RETURN(ListResult attachments,
                          d_.objects->List(uid_, KindOf("storage.k8s.io", "volumeattachments")));
    for (const json& va : attachments.items) {
      std::string pv = Str(va, {"spec", "source", "persistentVolumeName"});
      if (!pv.empty()) attached_to_[pv] = Str(va, {"spec", "nodeName"});
    }
    bool more = false;
    std::map<std::string, std::string> claim_uids;  // "ns/name" → uid
    for (const json& pvc : claims.items) {
      claim_uids[Str(pvc, {"metadata", "namespace"}) + "/" + Str(pvc, {"metadata", "name"})] =
          Str(pvc, {"metadata", "uid"});
    }
    for (json& pvc : claims.items) {
      if (stopping_) return true;
      auto r = Claim(std::move(pvc));
      if (!r.ok()) {
        spdlog::warn("kube provisioner: cluster {}: {}", uid_, r.status().ToString());
        more = true;
      } else if (*r) {
        more = true;
      }
    }
    for (auto& [name, pv] : volumes_by_name_) {
      if (stopping_) return true;
      auto r = Volume(pv, claim_uids);
      if (!r.ok()) {
        spdlog::warn("kube provisioner: cluster {}: {}", uid_, r.status().ToString());
        more = true;
      } else if (*r) {
        more = true;
      }
    }
    return more;
  }

 private:
  // ---- Claims ----

  Result<bool> Claim(json pvc) {
    if (!At(pvc, {"metadata", "deletionTimestamp"}).is_null()) return false;
    std::string phase = Str(pvc, {"status", "phase"});
    if (!phase.empty() && phase != "Pending") return false;
    if (!Str(pvc, {"spec", "volumeName"}).empty()) return PreBoundClaim(pvc);
    const std::string ns = Str(pvc, {"metadata", "namespace"});
    const std::string name = Str(pvc, {"metadata", "name"});
    const std::string uid = Str(pvc, {"metadata", "uid"});

    std::string class_name = Str(pvc, {"spec", "storageClassName"});
    if (At(pvc, {"spec", "storageClassName"}).is_null() && !DefaultClass().empty()) {
      class_name = DefaultClass();
      BYOK_ASSIGN_OR_RETURN(pvc, d_.objects->Modify(uid_, pvcs_, ns, name, [&](json cur) {
        if (cur["spec"].is_object() && cur["spec"].contains("storageClassName") &&
            !cur["spec"]["storageClassName"].is_null()) {
          return Result<json>(std::move(cur));
        }
        cur["spec"]["storageClassName"] = class_name;
        return Result<json>(std::move(cur));
      }));
      class_name = Str(pvc, {"spec", "storageClassName"});
    }
    // Static binding first (delayed for WaitForFirstConsumer until a node is selected).
    {
      auto c = classes_by_name_.find(class_name);
      const bool delayed = c != classes_by_name_.end() &&
                           Str(c->second, {"volumeBindingMode"}) == "WaitForFirstConsumer" &&
                           Str(pvc, {"metadata", "annotations", kSelectedNodeAnnotation}).empty();
      if (!delayed) {
        BYOK_ASSIGN_OR_RETURN(bool bound, MatchStatic(pvc, class_name));
        if (bound) return false;
      }
    }
    if (class_name.empty()) {  // no class: static binding only
      BYOK_TRY(Event(pvc, "Normal", "FailedBinding", kNoVolumes, kPvController));
      return false;
    }
    auto cls = classes_by_name_.find(class_name);
    if (cls == classes_by_name_.end()) {
      BYOK_TRY(Event(pvc, "Warning", "ProvisioningFailed", fmt::format(kClassNotFound, class_name),
                     kPvController));
      return true;
    }
    const json& sc = cls->second;
    const std::string provisioner = Str(sc, {"provisioner"});
    if (provisioner.empty() || provisioner == "kubernetes.io/no-provisioner") return false;
    const bool ours = provisioner == kCsiDiskDriver || provisioner == kInTreeAzureDisk;
    if (Str(sc, {"volumeBindingMode"}) == "WaitForFirstConsumer" &&
        Str(pvc, {"metadata", "annotations", kSelectedNodeAnnotation}).empty()) {
      BYOK_TRY(Event(pvc, "Normal", "WaitForFirstConsumer", kWaitForFirstConsumer, kPvController));
      return false;
    }
    BYOK_TRY(Event(pvc, "Normal", "ExternalProvisioning",
                   fmt::format(kExternalProvisioning, ours ? kCsiDiskDriver : provisioner),
                   kPvController));
    if (!ours) return false;

    // The PV controller hands the claim to the driver.
    if (Str(pvc, {"metadata", "annotations", "volume.kubernetes.io/storage-provisioner"}) !=
        kCsiDiskDriver) {
      BYOK_ASSIGN_OR_RETURN(pvc, d_.objects->Modify(uid_, pvcs_, ns, name, [&](json cur) {
        cur["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-provisioner"] =
            kCsiDiskDriver;
        cur["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"] = kCsiDiskDriver;
        return Result<json>(std::move(cur));
      }));
    }

    const std::string pv_name = "pvc-" + uid;
    if (auto existing = volumes_by_name_.find(pv_name); existing != volumes_by_name_.end()) {
      if (Str(existing->second, {"spec", "claimRef", "uid"}) == uid) {
        BYOK_TRY(Bind(pvc, existing->second));
        return false;
      }
    }

    // A failed attempt waits out its backoff unless the claim or its class changed.
    const std::string fingerprint =
        fmt::format("{}|{}|{}", Str(pvc, {"metadata", "resourceVersion"}), class_name,
                    Str(sc, {"metadata", "resourceVersion"}));
    const bool accepted = creating_.count(uid) > 0;  // a disk PUT answered 202 earlier
    if (!accepted && !backoff_.Due(uid, fingerprint, d_.clock->Now())) return true;
    if (stopping_) return true;
    if (!accepted) {
      BYOK_TRY(
          Event(pvc, "Normal", "Provisioning", fmt::format(kProvisioning, ns, name), component_));
    }
    auto fail = [&](const std::string& why) -> Result<bool> {
      creating_.erase(uid);
      backoff_.Failed(uid, fingerprint, d_.clock->Now());
      BYOK_TRY(Event(pvc, "Warning", "ProvisioningFailed",
                     fmt::format(kProvisionFailed, class_name, why), component_));
      return true;
    };

    auto params = ParseDiskParameters(At(sc, {"parameters"}));
    if (!params.ok()) return fail(params.status().message());
    auto [major, minor] = MajorMinor(cluster_.kubernetes_version);
    const bool cmk_data_disks = major > 1 || (major == 1 && minor >= 24);
    if (!params->des_id.empty() && !cmk_data_disks) {
      return fail(fmt::format(
          kInvalidArgumentRpc,
          fmt::format(kParseFailed, fmt::format(kDesNeeds124, cluster_.kubernetes_version))));
    }
    if (params->des_id.empty() && cmk_data_disks && !cluster_.des_id.empty()) {
      params->des_id = cluster_.des_id;  // AKS: data disks default to the cluster's DES
    }
    if (params->des_id.empty() && !params->encryption_type.empty()) {
      return fail(fmt::format(kInternalRpc, fmt::format(kTypeWithoutDes, params->encryption_type)));
    }
    std::string request = Str(pvc, {"spec", "resources", "requests", "storage"});
    int64_t size_gib = 1;
    if (!request.empty()) {
      auto bytes = ParseQuantity(request);
      if (!bytes.ok()) return fail(fmt::format(kInvalidArgumentRpc, bytes.status().message()));
      size_gib = RoundUpGiB(*bytes);
    }

    std::string disk_name = params->disk_name.empty() ? pv_name : params->disk_name;
    std::string disk_id = DiskId(*params, cluster_, disk_name);
    DiskRequest dr{ns, name, pv_name, size_gib, cluster_.location};
    json body = DiskBody(*params, dr);
    const std::string disk_url = fmt::format("{}?api-version={}", disk_id, kDiskApiVersion);
    // The disk of an accepted (202) PUT: bound once ARM says Succeeded.
    if (accepted) {
      auto got = d_.arm->Call(cluster_, "GET", disk_url, json());
      if (!got.ok()) {
        return fail(
            fmt::format(kInternalRpc, fmt::format(kArmUnreachable, got.status().message())));
      }
      if (got->status == 200) {
        const std::string state = Str(got->body, {"properties", "provisioningState"});
        if (state == "Failed") {
          return fail(
              fmt::format(kInternalRpc, fmt::format(kDiskCreateFailed, disk_id, got->body.dump())));
        }
        if (!state.empty() && state != "Succeeded") return true;  // still being created
        creating_.erase(uid);
        return Provisioned(pvc, sc, *params, got->body, disk_id, pv_name, size_gib);
      }
      if (got->status != 404) {
        return fail(fmt::format(
            kInternalRpc,
            fmt::format(kArmError, got->status,
                        got->body.is_string() ? got->body.get<std::string>() : got->body.dump())));
      }
      creating_.erase(uid);  // gone: create it again
      if (stopping_) return true;
      BYOK_TRY(
          Event(pvc, "Normal", "Provisioning", fmt::format(kProvisioning, ns, name), component_));
    }
    auto reply = d_.arm->Call(cluster_, "PUT", disk_url, body);
    if (!reply.ok()) {
      return fail(
          fmt::format(kInternalRpc, fmt::format(kArmUnreachable, reply.status().message())));
    }
    if (reply->status != 200 && reply->status != 201 && reply->status != 202) {
      return fail(fmt::format(kInternalRpc,
                              fmt::format(kArmError, reply->status,
                                          reply->body.is_string() ? reply->body.get<std::string>()
                                                                  : reply->body.dump())));
    }
    const std::string state = Str(reply->body, {"properties", "provisioningState"});
    if (reply->status == 202 || (!state.empty() && state != "Succeeded")) {
      creating_[uid] = disk_id;  // accepted: the next passes check on it
      return true;
    }
    return Provisioned(pvc, sc, *params, reply->body, disk_id, pv_name, size_gib);
  }

  // The disk exists: its volume, the binding, the event.
  Result<bool> Provisioned(const json& pvc, const json& sc, const DiskParameters& params,
                           const json& disk, std::string disk_id, const std::string& pv_name,
                           int64_t size_gib) {
    if (disk.is_object() && disk.contains("id") && disk["id"].is_string()) {
      disk_id = disk["id"].get<std::string>();
    }
    backoff_.Succeeded(Str(pvc, {"metadata", "uid"}));
    BYOK_ASSIGN_OR_RETURN(json pv, CreateVolume(pvc, sc, params, disk_id, pv_name, size_gib));
    BYOK_TRY(Bind(pvc, pv));
    BYOK_TRY(Event(pvc, "Normal", "ProvisioningSucceeded", fmt::format(kProvisioned, pv_name),
                   component_));
    return false;
  }

  // ---- Static binding (persistentvolume-controller) ----

  // checkVolumeSatisfyClaim: "" when the volume satisfies the claim, else why not.
  static std::string Unsatisfied(const json& pv, const json& pvc, const std::string& class_name,
                                 bool class_check) {
    int64_t request = 0;
    if (std::string r = Str(pvc, {"spec", "resources", "requests", "storage"}); !r.empty()) {
      auto bytes = ParseQuantity(r);
      if (!bytes.ok()) return "invalid storage request";
      request = *bytes;
    }
    auto capacity = ParseQuantity(Str(pv, {"spec", "capacity", "storage"}));
    if (!capacity.ok() || *capacity < request) return "requested PV is too small";
    if (class_check && Str(pv, {"spec", "storageClassName"}) != class_name) {
      return "storageClassName does not match";
    }
    std::string pv_mode = Str(pv, {"spec", "volumeMode"});
    std::string claim_mode = Str(pvc, {"spec", "volumeMode"});
    if ((pv_mode.empty() ? "Filesystem" : pv_mode) !=
        (claim_mode.empty() ? "Filesystem" : claim_mode)) {
      return "incompatible volumeMode";
    }
    const json& have = At(pv, {"spec", "accessModes"});
    const json& want = At(pvc, {"spec", "accessModes"});
    if (want.is_array()) {
      for (const json& m : want) {
        if (!have.is_array() || std::find(have.begin(), have.end(), m) == have.end()) {
          return "incompatible accessMode";
        }
      }
    }
    return "";
  }

  // The volume's claimRef names this claim (and its uid, when it has one).
  static bool BoundToClaim(const json& pv, const json& pvc) {
    const json& ref = At(pv, {"spec", "claimRef"});
    if (!ref.is_object()) return false;
    if (Str(ref, {"name"}) != Str(pvc, {"metadata", "name"}) ||
        Str(ref, {"namespace"}) != Str(pvc, {"metadata", "namespace"})) {
      return false;
    }
    const std::string uid = Str(ref, {"uid"});
    return uid.empty() || uid == Str(pvc, {"metadata", "uid"});
  }

  // findBestMatchForClaim, then the binding. True when the claim was bound.
  Result<bool> MatchStatic(const json& pvc, const std::string& class_name) {
    const json* best = nullptr;
    int64_t best_size = 0;
    const json& selector = At(pvc, {"spec", "selector"});
    for (const auto& [pv_name, pv] : volumes_by_name_) {
      if (!At(pv, {"metadata", "deletionTimestamp"}).is_null()) continue;
      const bool prebound = BoundToClaim(pv, pvc);
      if (At(pv, {"spec", "claimRef"}).is_object() && !prebound) continue;
      if (!Unsatisfied(pv, pvc, class_name, /*class_check=*/false).empty()) continue;
      if (prebound) {
        best = &pv;
        break;
      }
      if (Str(pv, {"status", "phase"}) != "Available") continue;
      if (Str(pv, {"spec", "storageClassName"}) != class_name) continue;
      if (selector.is_object()) {
        const json& expressions = At(selector, {"matchExpressions"});
        if (expressions.is_array() && !expressions.empty()) continue;  // (byok) not evaluated
        const json& want = At(selector, {"matchLabels"});
        const json& have = At(pv, {"metadata", "labels"});
        bool labels_match = true;
        if (want.is_object()) {
          for (const auto& [k, v] : want.items()) {
            labels_match = labels_match && have.is_object() && have.contains(k) && have[k] == v;
          }
        }
        if (!labels_match) continue;
      }
      int64_t size = ParseQuantity(Str(pv, {"spec", "capacity", "storage"})).value_or(0);
      if (best == nullptr || size < best_size) {
        best = &pv;
        best_size = size;
      }
    }
    if (best == nullptr) return false;
    json pv = *best;
    BYOK_TRY(BindStatic(pvc, pv));
    return true;
  }

  // A claim naming its volume (spec.volumeName): bound when the volume is free or reserved for
  // it; otherwise it waits (a volume that does not satisfy it: Warning VolumeMismatch).
  Result<bool> PreBoundClaim(const json& pvc) {
    auto it = volumes_by_name_.find(Str(pvc, {"spec", "volumeName"}));
    if (it == volumes_by_name_.end()) return false;  // the user's volume is not there yet
    const json pv = it->second;
    if (At(pv, {"spec", "claimRef"}).is_object() && !BoundToClaim(pv, pvc)) return false;
    const std::string class_name = Str(pvc, {"spec", "storageClassName"});
    if (std::string why = Unsatisfied(pv, pvc, class_name, /*class_check=*/true); !why.empty()) {
      BYOK_TRY(Event(pvc, "Warning", "VolumeMismatch",
                     fmt::format(kVolumeMismatch, Str(pv, {"metadata", "name"}), why),
                     kPvController));
      return false;
    }
    BYOK_TRY(BindStatic(pvc, pv));
    return false;
  }

  // bindVolumeToClaim + bindClaimToVolume: the volume's claimRef (annotated bound-by-controller
  // when the controller chose it), the claim's volumeName, both Bound.
  Status BindStatic(const json& pvc, const json& pv) {
    const std::string pv_name = Str(pv, {"metadata", "name"});
    const json ref = {{"apiVersion", "v1"},
                      {"kind", "PersistentVolumeClaim"},
                      {"name", Str(pvc, {"metadata", "name"})},
                      {"namespace", Str(pvc, {"metadata", "namespace"})},
                      {"resourceVersion", Str(pvc, {"metadata", "resourceVersion"})},
                      {"uid", Str(pvc, {"metadata", "uid"})}};
    BYOK_ASSIGN_OR_RETURN(
        json bound_pv, d_.objects->Modify(uid_, pvs_, "", pv_name, [&](json cur) -> Result<json> {
          if (At(cur, {"spec", "claimRef"}).is_object() && !BoundToClaim(cur, pvc)) {
            return Status::Aborted("the volume was claimed meanwhile");
          }
          if (!At(cur, {"spec", "claimRef"}).is_object()) {
            cur["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] = "yes";
          }
          cur["spec"]["claimRef"] = ref;
          cur["status"]["phase"] = "Bound";
          return cur;
        }));
    volumes_by_name_[pv_name] = bound_pv;
    const bool chosen = Str(pvc, {"spec", "volumeName"}).empty();
    const json capacity = At(bound_pv, {"spec", "capacity"});
    const json access_modes = At(bound_pv, {"spec", "accessModes"});
    auto bound = d_.objects->Modify(uid_, pvcs_, Str(pvc, {"metadata", "namespace"}),
                                    Str(pvc, {"metadata", "name"}), [&](json cur) {
                                      cur["spec"]["volumeName"] = pv_name;
                                      json& a = cur["metadata"]["annotations"];
                                      a["pv.kubernetes.io/bind-completed"] = "yes";
                                      if (chosen) a["pv.kubernetes.io/bound-by-controller"] = "yes";
                                      cur["status"]["phase"] = "Bound";
                                      cur["status"]["capacity"] = capacity;
                                      cur["status"]["accessModes"] = access_modes;
                                      return Result<json>(std::move(cur));
                                    });
    return bound.status();
  }

  std::string DefaultClass() const {
    for (const auto& [name, sc] : classes_by_name_) {
      if (Str(sc, {"metadata", "annotations", kDefaultClassAnnotation}) == "true") return name;
    }
    return "";
  }

  Result<json> CreateVolume(const json& pvc, const json& sc, const DiskParameters& params,
                            const std::string& disk_id, const std::string& pv_name,
                            int64_t size_gib) {
    const std::string provisioner = Str(sc, {"provisioner"});
    json attributes = json::object();
    if (At(sc, {"parameters"}).is_object()) {
      for (const auto& [k, v] : At(sc, {"parameters"}).items()) {
        attributes[k] = v.is_string() ? v.get<std::string>() : v.dump();
      }
    }
    attributes["csi.storage.k8s.io/pv/name"] = pv_name;
    attributes["csi.storage.k8s.io/pvc/name"] = Str(pvc, {"metadata", "name"});
    attributes["csi.storage.k8s.io/pvc/namespace"] = Str(pvc, {"metadata", "namespace"});
    attributes["requestedsizegib"] = std::to_string(size_gib);
    attributes["storage.kubernetes.io/csiProvisionerIdentity"] = component_;
    json csi = {
        {"driver", kCsiDiskDriver}, {"volumeHandle", disk_id}, {"volumeAttributes", attributes}};
    if (!params.fs_type.empty()) csi["fsType"] = params.fs_type;
    json annotations = {{kProvisionedBy, provisioner},
                        {"volume.kubernetes.io/provisioner-deletion-secret-name", ""},
                        {"volume.kubernetes.io/provisioner-deletion-secret-namespace", ""}};
    if (provisioner == kInTreeAzureDisk)
      annotations["pv.kubernetes.io/migrated-to"] = kCsiDiskDriver;
    json access_modes = At(pvc, {"spec", "accessModes"});
    if (!access_modes.is_array()) access_modes = json::array({"ReadWriteOnce"});
    std::string reclaim = Str(sc, {"reclaimPolicy"});
    if (reclaim.empty()) reclaim = "Delete";
    std::string volume_mode = Str(pvc, {"spec", "volumeMode"});
    if (volume_mode.empty()) volume_mode = "Filesystem";
    json spec = {{"accessModes", access_modes},
                 {"capacity", {{"storage", fmt::format("{}Gi", size_gib)}}},
                 {"claimRef",
                  {{"apiVersion", "v1"},
                   {"kind", "PersistentVolumeClaim"},
                   {"name", Str(pvc, {"metadata", "name"})},
                   {"namespace", Str(pvc, {"metadata", "namespace"})},
                   {"resourceVersion", Str(pvc, {"metadata", "resourceVersion"})},
                   {"uid", Str(pvc, {"metadata", "uid"})}}},
                 {"csi", csi},
                 {"persistentVolumeReclaimPolicy", reclaim},
                 {"storageClassName", Str(sc, {"metadata", "name"})},
                 {"volumeMode", volume_mode}};
    if (At(sc, {"mountOptions"}).is_array()) spec["mountOptions"] = At(sc, {"mountOptions"});
    json pv = {{"apiVersion", "v1"},
               {"kind", "PersistentVolume"},
               {"metadata", {{"name", pv_name}, {"annotations", annotations}}},
               {"spec", spec},
               {"status", {{"phase", "Bound"}}}};
    auto created = d_.objects->Create(uid_, pvs_, pv);
    if (!created.ok() && created.status().Is(StatusCode::kAlreadyExists)) {
      return d_.objects->Get(uid_, pvs_, "", pv_name);
    }
    if (!created.ok()) return created.status();
    if (Str(*created, {"status", "phase"}) != "Bound") {
      return d_.objects->Modify(uid_, pvs_, "", pv_name, [](json cur) {
        cur["status"]["phase"] = "Bound";
        return Result<json>(std::move(cur));
      });
    }
    volumes_by_name_[pv_name] = *created;
    return created;
  }

  Status Bind(const json& pvc, const json& pv) {
    const std::string pv_name = Str(pv, {"metadata", "name"});
    if (Str(pv, {"status", "phase"}) != "Bound") {
      BYOK_ASSIGN_OR_RETURN(json updated, d_.objects->Modify(uid_, pvs_, "", pv_name, [](json cur) {
        cur["status"]["phase"] = "Bound";
        return Result<json>(std::move(cur));
      }));
      volumes_by_name_[pv_name] = std::move(updated);
    }
    const json capacity = At(pv, {"spec", "capacity"});
    const json access_modes = At(pv, {"spec", "accessModes"});
    auto bound =
        d_.objects->Modify(uid_, pvcs_, Str(pvc, {"metadata", "namespace"}),
                           Str(pvc, {"metadata", "name"}), [&](json cur) {
                             cur["spec"]["volumeName"] = pv_name;
                             json& a = cur["metadata"]["annotations"];
                             a["pv.kubernetes.io/bind-completed"] = "yes";
                             a["pv.kubernetes.io/bound-by-controller"] = "yes";
                             a["volume.beta.kubernetes.io/storage-provisioner"] = kCsiDiskDriver;
                             a["volume.kubernetes.io/storage-provisioner"] = kCsiDiskDriver;
                             cur["status"]["phase"] = "Bound";
                             cur["status"]["capacity"] = capacity;
                             cur["status"]["accessModes"] = access_modes;
                             return Result<json>(std::move(cur));
                           });
    return bound.status();
  }

  // ---- Volumes ----

  Result<bool> Volume(const json& pv, const std::map<std::string, std::string>& claim_uids) {
    const json& ref = At(pv, {"spec", "claimRef"});
    if (!ref.is_object()) return false;
    // Only a volume bound to a claim (claimRef.uid set) is released, when that claim is gone or
    // replaced by another of the same name; a pre-bound volume waits for its claim.
    const std::string claim_uid = Str(ref, {"uid"});
    if (claim_uid.empty()) return false;
    std::string key = Str(ref, {"namespace"}) + "/" + Str(ref, {"name"});
    auto it = claim_uids.find(key);
    if (it != claim_uids.end() && it->second == claim_uid) return false;  // its claim is there
    const std::string name = Str(pv, {"metadata", "name"});
    json cur = pv;
    if (Str(pv, {"status", "phase"}) != "Released" && Str(pv, {"status", "phase"}) != "Failed") {
      BYOK_ASSIGN_OR_RETURN(cur, d_.objects->Modify(uid_, pvs_, "", name, [](json v) {
        v["status"]["phase"] = "Released";
        return Result<json>(std::move(v));
      }));
    }
    if (Str(cur, {"spec", "persistentVolumeReclaimPolicy"}) != "Delete") return false;
    std::string by = Str(cur, {"metadata", "annotations", kProvisionedBy});
    if (by != kCsiDiskDriver && by != kInTreeAzureDisk) return false;
    // Only what this provisioner created is deleted: a volume named after its claim whose handle
    // is a managed disk id (anyone who may write volumes could otherwise point the cluster
    // identity's DELETE at any resource it can reach).
    if (name != "pvc-" + claim_uid) return false;
    // Never a volume still attached to a node (`byok volume attach`): retried after the detach.
    if (auto va = attached_to_.find(name); va != attached_to_.end()) {
      BYOK_TRY(Event(cur, "Warning", "VolumeFailedDelete",
                     fmt::format(kStillAttached, name, va->second), component_));
      return true;
    }
    std::string disk_id;
    if (auto handle = arm::ResourceId::Parse(Str(cur, {"spec", "csi", "volumeHandle"}));
        handle.ok() && arm::EqualsIgnoreCase(handle->ResourceType(), "Microsoft.Compute/disks") &&
        ArmPathSegment(handle->Name()) && ArmPathSegment(handle->resource_group())) {
      disk_id = handle->ToString();
    }
    if (!disk_id.empty()) {
      if (stopping_) return true;
      auto reply = d_.arm->Call(cluster_, "DELETE",
                                fmt::format("{}?api-version={}", disk_id, kDiskApiVersion), json());
      std::string why;
      if (!reply.ok()) {
        why = fmt::format(kArmUnreachable, reply.status().message());
      } else if (reply->status != 200 && reply->status != 202 && reply->status != 204 &&
                 reply->status != 404) {
        why = fmt::format(
            kArmError, reply->status,
            reply->body.is_string() ? reply->body.get<std::string>() : reply->body.dump());
      }
      if (!why.empty()) {
        BYOK_TRY(Event(cur, "Warning", "VolumeFailedDelete", fmt::format(kDeleteFailed, why),
                       component_));
        return true;
      }
    }
    auto deleted = d_.objects->Delete(uid_, pvs_, "", name);
    if (!deleted.ok() && !deleted.status().Is(StatusCode::kNotFound)) return deleted.status();
    return false;
  }

  // ---- Events ----

  // Records an event about `object`, or bumps the count of the same one.
  Status Event(const json& object, const std::string& type, const std::string& reason,
               const std::string& message, const std::string& component) {
    const std::string obj_ns = Str(object, {"metadata", "namespace"});
    const std::string ns = obj_ns.empty() ? "default" : obj_ns;
    const std::string obj_uid = Str(object, {"metadata", "uid"});
    const std::string now = internal::KubeTime(d_.clock->Now());
    // The correlator's key names the event, so the same one is found by one Get.
    uint64_t hash = 14695981039346656037ull;  // FNV-1a 64
    for (const std::string* part : {&obj_uid, &type, &reason, &message, &component}) {
      for (char c : *part + '\0') {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ull;
      }
    }
    std::string name = fmt::format("{}.{:016x}", Str(object, {"metadata", "name"}), hash);
    auto same = [&](const json& e) {
      return Str(e, {"involvedObject", "uid"}) == obj_uid && Str(e, {"type"}) == type &&
             Str(e, {"reason"}) == reason && Str(e, {"message"}) == message &&
             Str(e, {"source", "component"}) == component;
    };
    auto bump = [&]() -> Result<json> {
      return d_.objects->Modify(uid_, events_, ns, name, [&](json cur) -> Result<json> {
        if (!same(cur)) return Status::AlreadyExists("another event has this name");
        int64_t count = cur.value("count", int64_t{1});
        cur["count"] = count + 1;
        cur["lastTimestamp"] = now;
        return cur;
      });
    };
    auto bumped = bump();
    if (bumped.ok()) return Status::Ok();
    if (!bumped.status().Is(StatusCode::kNotFound) &&
        !bumped.status().Is(StatusCode::kAlreadyExists)) {
      return bumped.status();
    }
    const int64_t nanos =
        std::chrono::duration_cast<std::chrono::nanoseconds>(d_.clock->Now().time_since_epoch())
            .count();
    if (bumped.status().Is(StatusCode::kAlreadyExists)) {  // taken by an unrelated event
      name = fmt::format("{}.{:x}", Str(object, {"metadata", "name"}), nanos);
    }
    json involved = {{"apiVersion", Str(object, {"apiVersion"})},
                     {"kind", Str(object, {"kind"})},
                     {"name", Str(object, {"metadata", "name"})},
                     {"uid", obj_uid},
                     {"resourceVersion", Str(object, {"metadata", "resourceVersion"})}};
    if (!obj_ns.empty()) involved["namespace"] = obj_ns;
    json event = {{"apiVersion", "v1"},
                  {"kind", "Event"},
                  {"metadata", {{"name", name}, {"namespace", ns}}},
                  {"involvedObject", involved},
                  {"reason", reason},
                  {"message", message},
                  {"source", {{"component", component}}},
                  {"firstTimestamp", now},
                  {"lastTimestamp", now},
                  {"count", 1},
                  {"type", type},
                  {"eventTime", nullptr},
                  {"reportingComponent", component == kPvController ? "" : component},
                  {"reportingInstance", ""}};
    for (int attempt = 0; attempt < 8; ++attempt) {
      auto created = d_.objects->Create(uid_, events_, event);
      if (created.ok()) return Status::Ok();
      if (!created.status().Is(StatusCode::kAlreadyExists)) return created.status();
      if (attempt == 0 && bump().ok()) return Status::Ok();  // created meanwhile
      event["metadata"]["name"] =
          fmt::format("{}.{:x}", Str(object, {"metadata", "name"}), nanos + attempt + 1);
    }
    return Status::Ok();
  }

  const ProvisionerDeps& d_;
  const std::string& component_;
  const ClusterRecord& cluster_;
  ClaimBackoff& backoff_;
  std::map<std::string, std::string>& creating_;
  const std::atomic<bool>& stopping_;
  const std::string uid_;
  const Kind& pvcs_;
  const Kind& pvs_;
  const Kind& classes_;
  const Kind& events_;
  std::map<std::string, json> classes_by_name_;
  std::map<std::string, json> volumes_by_name_;
  std::map<std::string, std::string> attached_to_;  // volume → node (VolumeAttachments)
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// The backoff of failed claims.

bool ClaimBackoff::Due(const std::string& claim_uid, const std::string& fingerprint,
                       TimePoint now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(claim_uid);
  return it == entries_.end() || it->second.fingerprint != fingerprint || now >= it->second.next;
}

void ClaimBackoff::Failed(const std::string& claim_uid, const std::string& fingerprint,
                          TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[claim_uid];
  if (e.fingerprint != fingerprint) e = Entry{};
  e.fingerprint = fingerprint;
  e.delay = e.failures == 0 ? initial_ : std::min(max_, e.delay * 2);
  ++e.failures;
  e.next = now + e.delay;
}

void ClaimBackoff::Succeeded(const std::string& claim_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(claim_uid);
}

void ClaimBackoff::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [uid, e] : entries_) e.next = TimePoint::min();
}

std::chrono::milliseconds ClaimBackoff::Delay(const std::string& claim_uid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(claim_uid);
  return it == entries_.end() ? std::chrono::milliseconds(0) : it->second.delay;
}

// ---------------------------------------------------------------------------------------------
// The controller.

Provisioner::Provisioner(ProvisionerDeps deps)
    : deps_(std::move(deps)), backoff_(deps_.backoff_initial, deps_.backoff_max) {
  std::string id = deps_.random->Uuid();
  component_ = fmt::format("{}_csi-azuredisk-controller-{}_{}", kCsiDiskDriver, id.substr(0, 8),
                           deps_.random->Uuid());
}

Provisioner::~Provisioner() { Stop(); }

void Provisioner::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  stop_ = false;
  stopping_ = false;
  subscription_ = deps_.objects->Subscribe("", [this](std::string_view uid, const WatchEvent& e) {
    if (e.kind == nullptr) return;
    const std::string& r = e.kind->resource;
    if (r == "persistentvolumeclaims" || r == "persistentvolumes" || r == "storageclasses") {
      Enqueue(uid);
    }
  });
  worker_ = std::thread([this] { Loop(); });
}

void Provisioner::Stop() {
  stopping_ = true;  // first: a pass in flight makes no further ARM call
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) return;
    started_ = false;
    stop_ = true;
  }
  deps_.objects->Unsubscribe(subscription_);
  cv_.notify_all();
  done_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Provisioner::Enqueue(std::string_view cluster_uid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_.insert(std::string(cluster_uid));
  }
  cv_.notify_all();
}

void Provisioner::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (queued_.empty()) {
      // Everything queued before now has been reconciled since it was queued.
      if (completed_ != requested_) {
        completed_ = requested_;
        done_cv_.notify_all();
      }
      bool woken = cv_.wait_for(lock, deps_.resync, [this] {
        return stop_ || !queued_.empty() || completed_ != requested_;
      });
      if (stop_) break;
      if (!woken) queued_.insert(pending_.begin(), pending_.end());
      if (queued_.empty()) continue;
    }
    std::string uid = *queued_.begin();
    queued_.erase(queued_.begin());
    lock.unlock();
    Status s = Reconcile(uid);
    if (!s.ok()) spdlog::warn("kube provisioner: cluster {}: {}", uid, s.ToString());
    lock.lock();
  }
  done_cv_.notify_all();
}

Status Provisioner::Reconcile(std::string_view cluster_uid) {
  std::lock_guard<std::mutex> guard(reconcile_mu_);
  if (stopping_) return Status::Ok();
  std::optional<ClusterRecord> cluster;
  BYOK_TRY(store::RunInReadTransaction(*deps_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(cluster, containerservice::FindClusterByUniqueId(txn, cluster_uid));
    return Status::Ok();
  }));
  bool more = false;
  // A stopped cluster runs no controllers: its claims wait for `az aks start`.
  if (cluster && cluster->power_state != "Stopped") {
    Pass pass(deps_, component_, *cluster, backoff_, creating_, stopping_);
    auto r = pass.Run();
    more = !r.ok() || *r;
    if (!r.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      pending_.insert(std::string(cluster_uid));
      return r.status();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (more) {
    pending_.insert(std::string(cluster_uid));
  } else {
    pending_.erase(std::string(cluster_uid));
  }
  return Status::Ok();
}

Status Provisioner::ReconcileAll(TimePoint) {
  if (stopping_) return Status::Ok();
  std::vector<std::string> uids;
  BYOK_TRY(store::RunInReadTransaction(*deps_.store, [&](store::Transaction& txn) -> Status {
    BYOK_ASSIGN_OR_RETURN(auto index, txn.ListByType(containerservice::kClusterIndexType));
    for (const auto& r : index) {
      std::string_view id = r.id;
      size_t slash = id.rfind('/');
      if (slash != std::string_view::npos) uids.emplace_back(id.substr(slash + 1));
    }
    return Status::Ok();
  }));
  {
    // Started: the worker runs the passes; the caller waits for them (bounded).
    std::unique_lock<std::mutex> lock(mu_);
    if (started_) {
      queued_.insert(uids.begin(), uids.end());
      const uint64_t ticket = ++requested_;
      cv_.notify_all();
      if (!done_cv_.wait_for(lock, deps_.settle_wait,
                             [&] { return stop_ || completed_ >= ticket; })) {
        spdlog::warn("kube provisioner: passes still running after {} ms",
                     deps_.settle_wait.count());
      }
      return Status::Ok();
    }
  }
  Status first = Status::Ok();
  for (const std::string& uid : uids) {
    Status s = Reconcile(uid);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace byok::kube
