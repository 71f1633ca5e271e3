#include "compute/attachments.h"

#include <atomic>
#include <functional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arm/resource_id.h"
#include "common/duration.h"
#include "common/encoding.h"
#include "compute/errors.h"

namespace byok::compute {
namespace {

using nlohmann::json;

constexpr size_t kExportBytes = 32;

// What the store keeps per attachment.
struct Record {
  std::string export_name;
  std::string disk_id;
  std::string unique_id;
  std::string created;
  std::string managed_by;             // "" = the NBD endpoint
  std::string key_unavailable_since;  // "" while the key works
  std::string key_error;
  bool purged = false;
};

std::string StrOf(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<Record> RecordFromBody(const json& body) {
  if (!body.is_object()) return Status::DataLoss("attachment record is not an object");
  Record r;
  r.export_name = StrOf(body, "export");
  r.disk_id = StrOf(body, "diskId");
  r.unique_id = StrOf(body, "uniqueId");
  r.created = StrOf(body, "created");
  r.managed_by = StrOf(body, "managedBy");
  r.key_unavailable_since = StrOf(body, "keyUnavailableSince");
  r.key_error = StrOf(body, "keyError");
  auto p = body.find("purged");
  r.purged = p != body.end() && p->is_boolean() && p->get<bool>();
  if (r.export_name.empty() || r.disk_id.empty() || r.unique_id.empty()) {
    return Status::DataLoss("attachment record lacks export, diskId or uniqueId");
  }
  return r;
}

json RecordBody(const Record& r) {
  json body = {{"export", r.export_name},
               {"diskId", r.disk_id},
               {"uniqueId", r.unique_id},
               {"created", r.created}};
  if (!r.managed_by.empty()) body["managedBy"] = r.managed_by;
  if (!r.key_unavailable_since.empty()) {
    body["keyUnavailableSince"] = r.key_unavailable_since;
    body["keyError"] = r.key_error;
  }
  if (r.purged) body["purged"] = true;
  return body;
}

std::string RecordId(std::string_view export_name) {
  return std::string(kAttachmentPrefix) + std::string(export_name);
}

// Only a prefix of an export name may be logged.
std::string Short(std::string_view export_name) {
  return std::string(export_name.substr(0, 6)) + "…";
}

std::string LastSegment(std::string_view id) {
  size_t slash = id.rfind('/');
  return std::string(slash == std::string_view::npos ? id : id.substr(slash + 1));
}

ApiError DiskNotFound(std::string_view disk_id) {
  auto parsed = arm::ResourceId::Parse(disk_id);
  if (parsed.ok() && parsed->kind() == arm::ResourceId::Kind::kResource) {
    return MakeError(errors::kResourceNotFound, parsed->ResourceType() + "/" + parsed->Name(),
                     parsed->resource_group());
  }
  return MakeError(errors::kResourceNotFound, disk_id, "");
}

// Device handed to one NBD connection: the attachment's Volume, refused once detached (so a
// connection of an old attachment stays dead even if the disk is attached again).
struct AttachState {
  std::atomic<bool> detached{false};
};

class AttachedDevice final : public blockstore::BlockDevice {
 public:
  AttachedDevice(std::shared_ptr<blockstore::Volume> volume, std::shared_ptr<AttachState> state)
      : volume_(std::move(volume)), state_(std::move(state)) {}

  uint64_t size() const override { return volume_->size(); }
  uint32_t preferred_block_size() const override { return volume_->preferred_block_size(); }
  Status Read(uint64_t offset, std::span<uint8_t> out) override {
    if (Detached()) return DetachedError();
    return volume_->Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<uint8_t> data, bool fua) override {
    if (Detached()) return DetachedError();
    return volume_->Write(offset, data, fua);
  }
  Status Flush() override {
    if (Detached()) return DetachedError();
    return volume_->Flush();
  }
  Status Trim(uint64_t offset, uint64_t length, bool fua) override {
    if (Detached()) return DetachedError();
    return volume_->Trim(offset, length, fua);
  }
  Status WriteZeroes(uint64_t offset, uint64_t length, bool fua) override {
    if (Detached()) return DetachedError();
    return volume_->WriteZeroes(offset, length, fua);
  }

 private:
  bool Detached() const { return state_->detached.load(std::memory_order_acquire); }
  Status DetachedError() const {
    return Status::FailedPrecondition(
        fmt::format("disk {} is locked: it was detached", volume_->disk_id()));
  }

  std::shared_ptr<blockstore::Volume> volume_;
  std::shared_ptr<AttachState> state_;
};

}  // namespace

Result<KeyProbe> ProbeCustomerKey(const blockstore::BlockStore& blocks,
                                  blockstore::KeyWrapper& customer_keys,
                                  const std::string& unique_id) {
  BYOK_ASSIGN_OR_RETURN(blockstore::DiskHeader header, blocks.ReadHeader(unique_id));
  KeyProbe p;
  for (const blockstore::WrappedDek& layer : header.layers) {
    if (layer.key.layer != blockstore::Layer::kCustomer) continue;
    p.has_customer_layer = true;
    p.key_url = layer.key.key_id;
    p.des_id = layer.key.des_id;
    Result<SecretBytes> dek = customer_keys.Unwrap(layer);  // wiped when it goes
    if (!dek.ok()) {
      p.usable = false;
      p.purged = dek.status().Is(StatusCode::kNotFound);
      p.code = dek.status().code();
      p.error = dek.status().message();
    }
  }
  return p;
}

std::string KeyProbeReason(const KeyProbe& p) {
  if (p.purged) {
    return fmt::format(
        "the key '{}' of disk encryption set '{}' no longer exists ({}): it was purged, so the "
        "data of the disk is unrecoverable (crypto-shredded)",
        p.key_url, LastSegment(p.des_id), p.error);
  }
  return fmt::format(
      "the key '{}' of disk encryption set '{}' cannot unwrap the disk's data key: {}", p.key_url,
      LastSegment(p.des_id), p.error);
}

class AttachmentManager::Impl {
 public:
  explicit Impl(AttachmentDeps deps) : d_(std::move(deps)) {}

  void SetEndpoint(NbdEndpoint e) {
    std::lock_guard lock(mu_);
    endpoint_ = std::move(e);
  }
  NbdEndpoint endpoint() const {
    std::lock_guard lock(mu_);
    return endpoint_;
  }

  Attachment ToAttachment(const Record& r) const {
    NbdEndpoint e = endpoint();
    Attachment a;
    a.export_name = r.export_name;
    a.disk_id = r.disk_id;
    a.unique_id = r.unique_id;
    a.created = r.created;
    a.managed_by = r.managed_by.empty() ? ManagedBy() : r.managed_by;
    if (!e.tcp_host.empty()) {
      std::string host =
          e.tcp_host.find(':') != std::string::npos ? "[" + e.tcp_host + "]" : e.tcp_host;
      a.uri = fmt::format("nbd://{}:{}/{}", host, e.tcp_port, r.export_name);
    }
    if (!e.unix_path.empty()) {
      a.socket_uri = fmt::format("nbd+unix:///{}?socket={}", r.export_name, e.unix_path);
    }
    return a;
  }

  std::string ManagedBy() const {
    NbdEndpoint e = endpoint();
    if (!e.tcp_host.empty()) return fmt::format("byok-nbd://{}:{}", e.tcp_host, e.tcp_port);
    if (!e.unix_path.empty()) return "byok-nbd+unix://" + e.unix_path;
    return "byok-nbd";
  }

  // ---- Store access ----

  Result<std::vector<Record>> ListRecords() {
    BYOK_ASSIGN_OR_RETURN(auto txn, d_.store->BeginRead());
    BYOK_ASSIGN_OR_RETURN(auto all, txn->ListByType(kAttachmentType));
    std::vector<Record> out;
    for (const store::Resource& res : all) {
      auto r = RecordFromBody(res.body);
      if (!r.ok()) {
        spdlog::error("attachments: skipping a bad record: {}", r.status().ToString());
        continue;
      }
      out.push_back(std::move(r).value());
    }
    return out;
  }

  Result<std::optional<Record>> FindByDisk(std::string_view disk_id) {
    BYOK_ASSIGN_OR_RETURN(std::vector<Record> all, ListRecords());
    for (Record& r : all) {
      if (arm::EqualsIgnoreCase(r.disk_id, disk_id)) return std::optional<Record>(std::move(r));
    }
    return std::optional<Record>();
  }

  // The record of an export name (exact match), or nullopt.
  Result<std::optional<Record>> LoadRecord(const std::string& export_name) {
    BYOK_ASSIGN_OR_RETURN(auto txn, d_.store->BeginRead());
    BYOK_ASSIGN_OR_RETURN(auto res, txn->Get(RecordId(export_name)));
    if (!res) return std::optional<Record>();
    BYOK_ASSIGN_OR_RETURN(Record r, RecordFromBody(res->body));
    if (r.export_name != export_name) return std::optional<Record>();
    return std::optional<Record>(std::move(r));
  }

  // Rewrites a record with `change` (nothing if it is gone).
  Status UpdateRecord(const std::string& export_name, const std::function<void(Record&)>& change) {
    BYOK_ASSIGN_OR_RETURN(auto txn, d_.store->Begin());
    BYOK_ASSIGN_OR_RETURN(auto res, txn->Get(RecordId(export_name)));
    if (!res) return Status::Ok();
    BYOK_ASSIGN_OR_RETURN(Record r, RecordFromBody(res->body));
    change(r);
    res->body = RecordBody(r);
    BYOK_TRY(txn->Put(std::move(*res)).status());
    return txn->Commit();
  }

  Result<std::optional<DiskRecord>> ReadDisk(std::string_view disk_id) {
    BYOK_ASSIGN_OR_RETURN(auto txn, d_.store->BeginRead());
    return FindDisk(*txn, disk_id);
  }

  // ---- Keys ----

  Result<KeyProbe> ProbeKey(const std::string& unique_id) {
    return ProbeCustomerKey(*d_.blocks, *d_.customer_keys, unique_id);
  }

  // ---- Attach / detach ----

  ApiResult<Attachment> Attach(std::string_view disk_id, std::string_view caller,
                               const AttachOptions& options) {
    std::lock_guard serial(attach_mu_);
    auto found = ReadDisk(disk_id);
    if (!found.ok()) return Internal("read disk", found.status());
    std::optional<DiskRecord> disk = std::move(found).value();
    if (!disk) return DiskNotFound(disk_id);
    if (disk->state != DiskState::kUnattached) {
      return MakeError(errors::kDiskAttached, disk->name,
                       disk->managed_by.empty() ? std::string("byok-nbd") : disk->managed_by);
    }
    auto stale = FindByDisk(disk->id);
    if (!stale.ok()) return Internal("list attachments", stale.status());
    if (*stale) {
      return MakeError(errors::kDiskAttached, disk->name,
                       (*stale)->managed_by.empty() ? ManagedBy() : (*stale)->managed_by);
    }

    // Unlock now: proves the keys work (and keeps the Volume open while attached).
    auto probe = ProbeKey(disk->unique_id);
    if (!probe.ok()) return Internal("read the disk header", probe.status());
    if (!probe->usable) return KeyError(disk->name, *probe);
    auto volume = d_.blocks->Open(disk->unique_id);
    if (!volume.ok()) {
      // The key may have been revoked between the probe and the unlock.
      auto again = ProbeKey(disk->unique_id);
      if (again.ok() && !again->usable) return KeyError(disk->name, *again);
      return Internal("unlock the disk", volume.status());
    }

    Record r;
    std::vector<uint8_t> secret(kExportBytes);
    d_.random->Fill(secret);
    r.export_name = Base64UrlEncode(secret);
    r.disk_id = disk->id;
    r.unique_id = disk->unique_id;
    r.created = FormatAzureTime(d_.clock->Now());
    r.managed_by = options.managed_by;
    {
      auto begun = d_.store->Begin();
      if (!begun.ok()) return Internal("store the attachment", begun.status());
      store::Transaction* txn = begun->get();
      auto again = FindDisk(*txn, disk->id);
      if (!again.ok()) return Internal("read disk", again.status());
      if (!*again) return DiskNotFound(disk_id);
      if ((*again)->state != DiskState::kUnattached) {
        return MakeError(errors::kDiskAttached, disk->name, (*again)->managed_by);
      }
      store::Resource res;
      res.id = RecordId(r.export_name);
      res.type = kAttachmentType;
      res.body = RecordBody(r);
      Status s = SetDiskState(*txn, disk->id, DiskState::kAttached,
                              r.managed_by.empty() ? ManagedBy() : r.managed_by);
      if (s.ok()) s = txn->Create(std::move(res)).status();
      if (s.ok()) s = txn->Commit();
      if (!s.ok()) return Internal("store the attachment", s);
    }
    {
      std::lock_guard lock(mu_);
      Live& live = live_[r.export_name];
      live.disk_id = r.disk_id;
      live.unique_id = r.unique_id;
      live.state = std::make_shared<AttachState>();
      live.volume = std::move(volume).value();
    }
    spdlog::info("disk {} attached as NBD export {} by {}{}", disk->id, Short(r.export_name),
                 caller, r.managed_by.empty() ? "" : " (managedBy " + r.managed_by + ")");
    return ToAttachment(r);
  }

  ApiResult<bool> Detach(std::string_view disk_id, std::string_view caller) {
    std::lock_guard serial(attach_mu_);
    auto found = ReadDisk(disk_id);
    if (!found.ok()) return Internal("read disk", found.status());
    std::optional<DiskRecord> disk = std::move(found).value();
    auto rec = FindByDisk(disk ? std::string_view(disk->id) : disk_id);
    if (!rec.ok()) return Internal("list attachments", rec.status());
    if (!*rec) {
      if (!disk) return DiskNotFound(disk_id);
      return MakeError(errors::kDiskNotAttached, disk->name);
    }
    const Record& r = **rec;
    {
      auto begun = d_.store->Begin();
      if (!begun.ok()) return Internal("remove the attachment", begun.status());
      store::Transaction* txn = begun->get();
      Status s = txn->Delete(RecordId(r.export_name));
      if (s.ok() && disk) {
        s = SetDiskState(*txn, disk->id, DiskState::kUnattached, "");
        if (s.Is(StatusCode::kNotFound)) s = Status::Ok();
      }
      if (s.ok()) s = txn->Commit();
      if (!s.ok()) return Internal("remove the attachment", s);
    }
    Live live;
    {
      std::lock_guard lock(mu_);
      auto it = live_.find(r.export_name);
      if (it != live_.end()) {
        live = std::move(it->second);
        live_.erase(it);
      }
    }
    if (live.state) live.state->detached.store(true, std::memory_order_release);
    if (live.volume) live.volume->Lock("the disk was detached");  // waits for in-flight I/O
    spdlog::info("disk {} detached (NBD export {}) by {}", r.disk_id, Short(r.export_name), caller);
    return true;
  }

  Result<std::optional<Attachment>> Find(std::string_view disk_id) {
    BYOK_ASSIGN_OR_RETURN(std::optional<Record> r, FindByDisk(disk_id));
    if (!r) return std::optional<Attachment>();
    return std::optional<Attachment>(ToAttachment(*r));
  }

  // ---- NBD ----

  Result<std::shared_ptr<blockstore::BlockDevice>> Resolve(const std::string& export_name) {
    std::shared_ptr<AttachState> state;
    std::string unique_id;
    {
      std::lock_guard lock(mu_);
      auto it = live_.find(export_name);
      if (it != live_.end()) {
        state = it->second.state;
        unique_id = it->second.unique_id;
      }
    }
    if (!state) {
      // After a restart: attachments are loaded on first use.
      BYOK_ASSIGN_OR_RETURN(std::optional<Record> r, LoadRecord(export_name));
      if (!r) return Status::NotFound("unknown export");
      std::lock_guard lock(mu_);
      Live& live = live_[export_name];
      if (!live.state) {
        live.state = std::make_shared<AttachState>();
        live.disk_id = r->disk_id;
        live.unique_id = r->unique_id;
      }
      state = live.state;
      unique_id = live.unique_id;
    }
    // Every new connection re-checks the key.
    BYOK_ASSIGN_OR_RETURN(KeyProbe probe, ProbeKey(unique_id));
    if (!probe.usable) {
      std::string reason = KeyProbeReason(probe);
      return Status::PermissionDenied(fmt::format("disk cannot be unlocked: {}", reason));
    }
    BYOK_ASSIGN_OR_RETURN(std::shared_ptr<blockstore::Volume> volume, d_.blocks->Open(unique_id));
    {
      std::lock_guard lock(mu_);
      auto it = live_.find(export_name);
      if (it == live_.end() || it->second.state != state ||
          state->detached.load(std::memory_order_acquire)) {
        volume->Lock("the disk was detached");
        return Status::NotFound("unknown export");
      }
      it->second.volume = volume;
      it->second.revoked = false;  // Open unlocked it: the key works again
    }
    return std::shared_ptr<blockstore::BlockDevice>(
        std::make_shared<AttachedDevice>(std::move(volume), std::move(state)));
  }

  // ---- Revocation monitor ----

  Status CheckKeys(TimePoint now) {
    std::lock_guard serial(check_mu_);
    BYOK_ASSIGN_OR_RETURN(std::vector<Record> records, ListRecords());
    for (const Record& r : records) {
      Status s = CheckOne(r, now);
      if (!s.ok()) {
        spdlog::error("attachments: key check of disk {} failed: {}", r.disk_id, s.ToString());
      }
    }
    return Status::Ok();
  }

  Status CheckOne(const Record& r, TimePoint now) {
    auto probe = ProbeKey(r.unique_id);
    if (!probe.ok()) return probe.status();
    if (!probe->has_customer_layer) return Status::Ok();
    std::shared_ptr<blockstore::Volume> volume;
    bool revoked = false;
    {
      std::lock_guard lock(mu_);
      auto it = live_.find(r.export_name);
      if (it != live_.end()) {
        volume = it->second.volume;
        revoked = it->second.revoked;
      }
    }
    if (probe->usable) {
      if (!r.key_unavailable_since.empty() || r.purged) {
        BYOK_TRY(UpdateRecord(r.export_name, [](Record& rec) {
          rec.key_unavailable_since.clear();
          rec.key_error.clear();
          rec.purged = false;
        }));
        spdlog::info("disk {}: its customer key is usable again", r.disk_id);
      }
      if (revoked && volume) {
        Status s = volume->Unlock();
        if (!s.ok()) return s.WithContext("unlock after the key came back");
        SetRevoked(r.export_name, false);
        spdlog::info("disk {}: unlocked, I/O resumes", r.disk_id);
      }
      return Status::Ok();
    }

    std::string since_text = r.key_unavailable_since;
    TimePoint since = now;
    if (!since_text.empty()) {
      auto parsed = ParseTimestamp(since_text);
      if (parsed.ok()) since = *parsed;
    }
    if (since_text.empty() || r.key_error != probe->error || r.purged != probe->purged) {
      if (since_text.empty()) since_text = FormatAzureTime(now);
      BYOK_TRY(UpdateRecord(r.export_name, [&](Record& rec) {
        rec.key_unavailable_since = since_text;
        rec.key_error = probe->error;
        rec.purged = probe->purged;
      }));
      spdlog::warn("disk {}: {}", r.disk_id, KeyProbeReason(*probe));
    }
    bool lock_now = probe->purged || now - since >= d_.grace_period;
    if (!lock_now || !volume || revoked) return Status::Ok();
    std::string reason = probe->purged
                             ? KeyProbeReason(*probe)
                             : fmt::format(
                                   "{} (unusable since {}; I/O resumes when the key is usable "
                                   "again)",
                                   KeyProbeReason(*probe), since_text);
    volume->Lock(reason);
    SetRevoked(r.export_name, true);
    spdlog::warn("disk {} locked: {}", r.disk_id, reason);
    return Status::Ok();
  }

  void SetRevoked(const std::string& export_name, bool revoked) {
    std::lock_guard lock(mu_);
    auto it = live_.find(export_name);
    if (it != live_.end()) it->second.revoked = revoked;
  }

  Result<json> KeyStatus(const DiskRecord& disk) {
    BYOK_ASSIGN_OR_RETURN(KeyProbe p, ProbeKey(disk.unique_id));
    json out = {{"customerLayer", p.has_customer_layer}, {"usable", p.usable}};
    if (!p.has_customer_layer) {
      out["status"] = "platform key only";
    } else {
      out["keyUrl"] = p.key_url;
      out["diskEncryptionSetId"] = p.des_id;
      if (p.usable) {
        out["status"] = "usable";
      } else {
        out["error"] = p.error;
        out["purged"] = p.purged;
        out["status"] = p.purged ? fmt::format("purged: data unrecoverable ({})", p.error)
                                 : "unusable: " + p.error;
      }
    }
    BYOK_ASSIGN_OR_RETURN(std::optional<Record> r, FindByDisk(disk.id));
    out["attached"] = r.has_value();
    if (r) {
      if (!r->key_unavailable_since.empty()) {
        out["keyUnavailableSince"] = r->key_unavailable_since;
      }
      std::lock_guard lock(mu_);
      auto it = live_.find(r->export_name);
      if (it != live_.end() && it->second.volume) {
        out["locked"] = it->second.volume->locked();
        if (it->second.volume->locked()) out["lockReason"] = it->second.volume->lock_reason();
      }
    }
    return out;
  }

 private:
  struct Live {
    std::string disk_id;
    std::string unique_id;
    std::shared_ptr<AttachState> state;
    std::shared_ptr<blockstore::Volume> volume;  // null until first unlocked
    bool revoked = false;                        // locked by CheckKeys
  };

  ApiError Internal(std::string_view what, const Status& s) {
    spdlog::error("attachments: cannot {}: {}", what, s.ToString());
    return MakeError(errors::kDiskStorageError, fmt::format("cannot {}", what));
  }

  ApiError KeyError(const std::string& disk_name, const KeyProbe& p) {
    std::string reason = KeyProbeReason(p);
    while (!reason.empty() && reason.back() == '.') reason.pop_back();  // the table adds one
    if (p.purged) return MakeError(errors::kDiskKeyPurged, disk_name, reason);
    if (p.code == StatusCode::kUnavailable) {
      return MakeError(errors::kKeyVaultUnavailable, p.key_url);
    }
    return MakeError(errors::kDiskKeyUnusable, disk_name, reason);
  }

  AttachmentDeps d_;
  mutable std::mutex mu_;  // guards endpoint_, live_
  NbdEndpoint endpoint_;
  std::map<std::string, Live> live_;  // by export name (exact)
  std::mutex attach_mu_;              // serializes Attach and Detach
  std::mutex check_mu_;               // serializes CheckKeys
};

AttachmentManager::AttachmentManager(AttachmentDeps deps)
    : impl_(std::make_shared<Impl>(std::move(deps))) {}
AttachmentManager::~AttachmentManager() = default;

void AttachmentManager::SetEndpoint(NbdEndpoint endpoint) {
  impl_->SetEndpoint(std::move(endpoint));
}
NbdEndpoint AttachmentManager::endpoint() const { return impl_->endpoint(); }
ApiResult<Attachment> AttachmentManager::Attach(std::string_view disk_id, std::string_view caller,
                                                const AttachOptions& options) {
  return impl_->Attach(disk_id, caller, options);
}
ApiResult<bool> AttachmentManager::Detach(std::string_view disk_id, std::string_view caller) {
  return impl_->Detach(disk_id, caller);
}
Result<std::optional<Attachment>> AttachmentManager::Find(std::string_view disk_id) {
  return impl_->Find(disk_id);
}
Result<std::shared_ptr<blockstore::BlockDevice>> AttachmentManager::Resolve(
    const std::string& export_name) {
  return impl_->Resolve(export_name);
}
Status AttachmentManager::CheckKeys(TimePoint now) { return impl_->CheckKeys(now); }
Result<KeyProbe> AttachmentManager::ProbeKey(const std::string& unique_id) {
  return impl_->ProbeKey(unique_id);
}
Result<nlohmann::json> AttachmentManager::KeyStatus(const DiskRecord& disk) {
  return impl_->KeyStatus(disk);
}

}  // namespace byok::compute
