#include "identity/bootstrap.h"

#include <openssl/crypto.h>

#include "common/files.h"
#include "common/json.h"

namespace byok::identity {

nlohmann::json BootstrapResult::CredentialsJson() const {
  return {{"tenant", tenant_id},
          {"subscription", subscription_id},
          {"appId", principal.app_id},
          {"password", password},
          {"objectId", principal.object_id},
          {"displayName", principal.display_name}};
}

Result<BootstrapIds> ReadBootstrapIds(store::Transaction& txn) {
  BYOK_ASSIGN_OR_RETURN(auto tenant, txn.GetMeta(kMetaTenantId));
  BYOK_ASSIGN_OR_RETURN(auto subscription, txn.GetMeta(kMetaSubscriptionId));
  BYOK_ASSIGN_OR_RETURN(auto object_id, txn.GetMeta(kMetaBootstrapObjectId));
  if (!tenant || !subscription || !object_id) {
    return Status::FailedPrecondition("the identity bootstrap has not run on this data directory");
  }
  if (!IsGuid(*tenant) || !IsGuid(*subscription) || !IsGuid(*object_id)) {
    return Status::DataLoss("malformed identity bootstrap metadata");
  }
  return BootstrapIds{*tenant, *subscription, *object_id};
}

Result<BootstrapIds> ReadBootstrapIds(store::Store& store) {
  BYOK_ASSIGN_OR_RETURN(auto txn, store.BeginRead());
  return ReadBootstrapIds(*txn);
}

namespace {

Result<BootstrapResult> Existing(store::Store& store, const Clock& clock, Random& random,
                                 const DirectoryOptions& options, store::Transaction& txn,
                                 const BootstrapIds& ids) {
  BootstrapResult out;
  out.tenant_id = ids.tenant_id;
  out.subscription_id = ids.subscription_id;
  Directory directory(store, clock, random, ids.tenant_id, options);
  auto p = directory.FindByObjectId(txn, ids.bootstrap_object_id);
  if (p.ok()) {
    out.principal = std::move(p).value();
  } else if (p.status().Is(StatusCode::kNotFound)) {
    out.principal.object_id = ids.bootstrap_object_id;
    out.principal.tenant_id = ids.tenant_id;
  } else {
    return p.status();
  }
  return out;
}

}  // namespace

Result<BootstrapResult> Bootstrap(store::Store& store, const Clock& clock, Random& random,
                                  const DirectoryOptions& options) {
  {
    BYOK_ASSIGN_OR_RETURN(auto read, store.BeginRead());
    auto ids = ReadBootstrapIds(*read);
    if (ids.ok()) return Existing(store, clock, random, options, *read, *ids);
    if (!ids.status().Is(StatusCode::kFailedPrecondition)) return ids.status();
  }
  BYOK_ASSIGN_OR_RETURN(auto txn, store.Begin());
  // Another process (or thread) may have bootstrapped since the read above.
  auto ids = ReadBootstrapIds(*txn);
  if (ids.ok()) return Existing(store, clock, random, options, *txn, *ids);
  if (!ids.status().Is(StatusCode::kFailedPrecondition)) return ids.status();

  BootstrapResult out;
  out.tenant_id = random.Uuid();
  out.subscription_id = random.Uuid();
  out.first_run = true;
  Directory directory(store, clock, random, out.tenant_id, options);
  BYOK_TRY(directory.EnsureTenant(*txn));
  BYOK_ASSIGN_OR_RETURN(ServicePrincipalCredentials creds,
                        directory.CreateServicePrincipal(*txn, kBootstrapDisplayName));
  BYOK_TRY(txn->PutMeta(kMetaTenantId, out.tenant_id));
  BYOK_TRY(txn->PutMeta(kMetaSubscriptionId, out.subscription_id));
  BYOK_TRY(txn->PutMeta(kMetaBootstrapObjectId, creds.object_id));
  BYOK_TRY(txn->Commit());
  out.principal.object_id = creds.object_id;
  out.principal.app_id = creds.app_id;
  out.principal.tenant_id = creds.tenant;
  out.principal.display_name = creds.display_name;
  out.principal.kind = PrincipalKind::kServicePrincipal;
  out.password = std::move(creds.password);
  return out;
}

std::string CredentialsFilePath(std::string_view data_dir) {
  return std::string(data_dir) + "/" + kCredentialsFileName;
}

Status WriteCredentialsFile(const std::string& path, const BootstrapResult& result) {
  if (result.password.empty()) {
    return Status::FailedPrecondition(
        "no bootstrap password to write (it is only known on the first start)");
  }
  std::string text = DumpJson(result.CredentialsJson()) + "\n";
  Status s = WriteFileAtomic(path, text, 0600);
  OPENSSL_cleanse(text.data(), text.size());
  return s;
}

}  // namespace byok::identity
