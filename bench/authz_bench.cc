// Per-request cost of ARM authentication and authorization, as the ARM front end pays it for
// `GET /subscriptions/{s}/resourcegroups/{rg}`:
//   - token validation: identity::Authenticator::AuthenticateToken on a real RS256 token issued by
//     the identity TokenService for the ARM audience (parse, signature, time, issuer, audience,
//     directory lookup of the principal);
//   - the RBAC check: authz::Rbac::IsAllowed(caller, "Microsoft.Resources/subscriptions/
//     resourceGroups/read", "/subscriptions/{s}/resourceGroups/{rg}") with 10,000 role
//     assignments in the store (many principals and scopes; the caller is Owner of the
//     subscription);
// separately and combined, allowed and denied (a principal that exists but has no role on the
// resource group). Breakdown benchmarks (JWT parse, signature, directory lookup, a read
// transaction) show where the time goes. Everything runs over a real SQLite store in a temp
// directory, set up once. bench/authz.sh builds and runs it; docs/BENCHMARKS.md has the results.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "authz/rbac.h"
#include "authz/roles.h"
#include "common/clock.h"
#include "common/random.h"
#include "crypto/jwt.h"
#include "identity/bootstrap.h"
#include "identity/endpoints.h"
#include "identity/identity_service.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace {

using byok::identity::Audience;

constexpr char kAction[] = "Microsoft.Resources/subscriptions/resourceGroups/read";
constexpr char kArmResource[] = "https://management.core.windows.net/";
constexpr char kAuthority[] = "localhost:8443";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "authz_bench setup failed: %s\n", what.c_str());
  std::abort();
}

template <typename T>
T Check(byok::Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().ToString());
  return std::move(r).value();
}

// A store with `assignments` role assignments in total, the bootstrap principal ("caller", Owner
// of the subscription, as byokd makes it) and a second service principal ("other") holding only
// Reader on a few other resource groups.
class World {
 public:
  explicit World(int assignments) {
    char tmpl[] = "/tmp/byok-authz-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) Die("mkdtemp");
    dir_ = tmpl;

    byok::store::RootKeyOptions key_options;
    key_options.data_dir = dir_;
    key_options.getenv = [](const char*) { return std::optional<std::string>(); };
    byok::store::SqliteOptions so;
    so.data_dir = dir_;
    store_ =
        Check(byok::store::OpenSqliteStore(
                  so, clock_, Check(byok::store::LoadOrCreateRootKey(key_options), "root key")),
              "store");

    byok::identity::DirectoryOptions directory;
    directory.pbkdf2_iterations = byok::identity::kMinPbkdf2Iterations;  // setup speed only
    auto boot = Check(byok::identity::Bootstrap(*store_, clock_, random_, directory), "bootstrap");
    byok::identity::IdentityOptions io;
    io.server_base_urls = {std::string("https://") + kAuthority, "https://127.0.0.1:8443"};
    io.directory = directory;
    identity_ =
        Check(byok::identity::IdentityService::Open(*store_, clock_, random_, io), "identity");
    caller_ = boot.principal;
    auto other = Check(identity_->directory().CreateServicePrincipal("other"), "other principal");
    other_ = Check(identity_->directory().FindByAppId(other.app_id), "other principal");

    byok::authz::RbacOptions ro;
    ro.tenant_id = boot.tenant_id;  // principal_exists unset: seeded principals need not exist
    rbac_ = Check(byok::authz::Rbac::Open(*store_, ro), "rbac");

    const std::string sub = "/subscriptions/" + boot.subscription_id;
    rg_scope_ = sub + "/resourceGroups/bench-rg-0";
    Seed(sub, assignments);
    if (rbac_->assignment_count() != static_cast<size_t>(assignments)) Die("assignment count");

    caller_token_ = Token(caller_);
    other_token_ = Token(other_);
  }

  ~World() {
    rbac_.reset();
    identity_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  const byok::identity::Authenticator& auth() const { return identity_->authenticator(); }
  byok::identity::IdentityService& identity() { return *identity_; }
  byok::authz::Rbac& rbac() { return *rbac_; }
  byok::store::Store& store() { return *store_; }
  const std::string& rg_scope() const { return rg_scope_; }
  const std::string& owner_assignment_id() const { return owner_assignment_id_; }
  const std::string& caller_token() const { return caller_token_; }
  const std::string& other_token() const { return other_token_; }
  const byok::identity::Principal& caller() const { return caller_; }
  const byok::identity::Principal& other() const { return other_; }

 private:
  std::string Token(const byok::identity::Principal& p) {
    return Check(identity_->tokens().Issue(p, kArmResource, byok::identity::AdfsIssuer(kAuthority),
                                           byok::identity::TokenVersion::kV1),
                 "token")
        .access_token;
  }

  // The caller's Owner at the subscription, 10 Readers of `other` on other resource groups, and
  // the rest spread over 1,000 principals, 200 resource groups (the benchmarked one among them),
  // vaults in them and the subscription, with five different roles. One store transaction.
  void Seed(const std::string& sub, int total) {
    const std::string role_base = sub + "/providers/Microsoft.Authorization/roleDefinitions/";
    const std::string_view roles[] = {byok::authz::kReaderRoleId, byok::authz::kContributorRoleId,
                                      byok::authz::kKeyVaultCryptoUserRoleId,
                                      byok::authz::kKeyVaultReaderRoleId,
                                      byok::authz::kKeyVaultCryptoServiceEncryptionUserRoleId};
    std::vector<std::string> principals;
    for (int i = 0; i < 1000; ++i) principals.push_back(names_.Uuid());

    std::vector<byok::authz::RoleAssignmentRequest> reqs;
    auto add = [&](std::string scope, std::string_view role, const std::string& principal) {
      nlohmann::json body = {{"properties",
                              {{"roleDefinitionId", role_base + std::string(role)},
                               {"principalId", principal},
                               {"principalType", "ServicePrincipal"}}}};
      reqs.push_back({std::move(scope), names_.Uuid(), std::move(body)});
    };
    add(sub, byok::authz::kOwnerRoleId, caller_.object_id);
    owner_assignment_id_ =
        sub + "/providers/Microsoft.Authorization/roleAssignments/" + reqs.back().name;
    for (int i = 1; i <= 10 && static_cast<int>(reqs.size()) < total; ++i) {
      add(sub + "/resourceGroups/bench-rg-" + std::to_string(i), byok::authz::kReaderRoleId,
          other_.object_id);
    }
    // Assignment k: principal k % 1000, slot k / 1000; each slot of a principal is another
    // scope (so no two assignments collide): the subscription, a vault, or a resource group.
    for (int k = 0; static_cast<int>(reqs.size()) < total; ++k) {
      const int p = k % 1000;
      const int slot = k / 1000;
      std::string_view role = roles[(p + slot) % std::size(roles)];
      std::string rg = sub + "/resourceGroups/bench-rg-" + std::to_string((p + slot * 37) % 200);
      if (slot == 0) {
        add(sub, role, principals[p]);
      } else if (slot <= 3) {
        add(rg + "/providers/Microsoft.KeyVault/vaults/kv" + std::to_string(slot), role,
            principals[p]);
      } else {
        add(rg, role, principals[p]);
      }
    }
    auto r = rbac_->CreateRoleAssignments(reqs, caller_.object_id);
    if (!r.ok()) Die("seeding role assignments: " + r.error().code + ": " + r.error().message);
  }

  std::string dir_;
  const byok::Clock& clock_ = byok::SystemClock::Instance();  // tokens use real time
  byok::Random& random_ = byok::CryptoRandom();
  byok::SeededRandom names_{7};
  std::unique_ptr<byok::store::Store> store_;
  std::unique_ptr<byok::identity::IdentityService> identity_;
  std::unique_ptr<byok::authz::Rbac> rbac_;
  byok::identity::Principal caller_;
  byok::identity::Principal other_;
  std::string rg_scope_;
  std::string owner_assignment_id_;
  std::string caller_token_;
  std::string other_token_;
};

// One World per assignment count, built on first use and destroyed (temp dir removed) at exit.
World& TheWorld(int assignments = 10000) {
  static std::mutex mu;
  static std::map<int, std::unique_ptr<World>> worlds;
  std::lock_guard<std::mutex> lock(mu);
  auto& w = worlds[assignments];
  if (!w) w = std::make_unique<World>(assignments);
  return *w;
}

// ---- Token validation. ----

void BM_AuthenticateToken(benchmark::State& state) {
  World& w = TheWorld();
  for (auto _ : state) {
    auto p = w.auth().AuthenticateToken(w.caller_token(), Audience::kArm);
    if (!p.ok()) state.SkipWithError("token refused");
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_AuthenticateToken)->Unit(benchmark::kMicrosecond);

// ---- RBAC check (in-memory index; count of assignments as argument). ----

void RbacCheck(benchmark::State& state, bool allowed) {
  World& w = TheWorld(static_cast<int>(state.range(0)));
  const std::string& principal = allowed ? w.caller().object_id : w.other().object_id;
  for (auto _ : state) {
    auto r = w.rbac().IsAllowed(principal, kAction, w.rg_scope());
    if (!r.ok() || *r != allowed) state.SkipWithError("unexpected decision");
    benchmark::DoNotOptimize(r);
  }
  state.counters["assignments"] = static_cast<double>(w.rbac().assignment_count());
}
void BM_RbacAllowed(benchmark::State& state) { RbacCheck(state, true); }
void BM_RbacDenied(benchmark::State& state) { RbacCheck(state, false); }
BENCHMARK(BM_RbacAllowed)->Arg(10000)->Arg(100)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RbacDenied)->Arg(10000)->Arg(100)->Unit(benchmark::kMicrosecond);

// ---- Combined: what the front end pays before the handler runs. ----

void Combined(benchmark::State& state, bool allowed) {
  World& w = TheWorld();
  const std::string& token = allowed ? w.caller_token() : w.other_token();
  for (auto _ : state) {
    auto p = w.auth().AuthenticateToken(token, Audience::kArm);
    if (!p.ok()) {
      state.SkipWithError("token refused");
      break;
    }
    auto r = w.rbac().IsAllowed(p->object_id, kAction, w.rg_scope());
    if (!r.ok() || *r != allowed) state.SkipWithError("unexpected decision");
    benchmark::DoNotOptimize(r);
  }
}
void BM_AuthnAuthzAllowed(benchmark::State& state) { Combined(state, true); }
void BM_AuthnAuthzDenied(benchmark::State& state) { Combined(state, false); }
BENCHMARK(BM_AuthnAuthzAllowed)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AuthnAuthzDenied)->Unit(benchmark::kMicrosecond);

// ---- Breakdown of token validation. ----

void BM_Part_JwtParse(benchmark::State& state) {
  World& w = TheWorld();
  for (auto _ : state) {
    auto jwt = byok::crypto::ParseJwt(w.caller_token());
    benchmark::DoNotOptimize(jwt);
  }
}
BENCHMARK(BM_Part_JwtParse)->Unit(benchmark::kMicrosecond);

void BM_Part_JwtVerifyRs256(benchmark::State& state) {
  World& w = TheWorld();
  auto jwt = Check(byok::crypto::ParseJwt(w.caller_token()), "parse");
  for (auto _ : state) {
    auto s = w.identity().signing_key().Verify(jwt);
    if (!s.ok()) state.SkipWithError("bad signature");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_Part_JwtVerifyRs256)->Unit(benchmark::kMicrosecond);

void BM_Part_DirectoryFindByObjectId(benchmark::State& state) {
  World& w = TheWorld();
  for (auto _ : state) {
    auto p = w.identity().directory().FindByObjectId(w.caller().object_id);
    if (!p.ok()) state.SkipWithError("principal not found");
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_Part_DirectoryFindByObjectId)->Unit(benchmark::kMicrosecond);

// One read transaction with one Get of a small document, as the front end's subscription-exists
// check and the resource group GET handler each do.
void BM_Part_StoreReadTxnGet(benchmark::State& state) {
  World& w = TheWorld();
  const std::string& id = w.owner_assignment_id();
  for (auto _ : state) {
    auto txn = w.store().BeginRead();
    if (!txn.ok()) {
      state.SkipWithError("BeginRead failed");
      break;
    }
    auto doc = (*txn)->Get(id);
    if (!doc.ok() || !doc->has_value()) state.SkipWithError("document not found");
    benchmark::DoNotOptimize(doc);
  }
}
BENCHMARK(BM_Part_StoreReadTxnGet)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
