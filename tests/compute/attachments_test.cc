// AttachmentManager (compute/attachments.h) over a real BlockStore and SQLite store in a temp
// directory, with a fake customer KeyWrapper whose failures the tests choose (the Key Vault
// error classes of key_wrapper.h) and a ManualClock: attach/detach, export resolution, the
// revocation grace period, purge, and a restart.
#include "compute/attachments.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/random.h"
#include "compute/disk_store.h"
#include "store/root_key.h"
#include "store/sqlite_store.h"

namespace byok::compute {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kKeyV1[] =
    "https://kv1.vault.localhost:8443/keys/cmk/0123456789abcdef0123456789abcdef";
constexpr char kDes[] =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/"
    "Microsoft.Compute/diskEncryptionSets/des1";
constexpr char kRg[] = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg";
constexpr uint64_t kDiskSize = 1 << 20;

// A customer KeyWrapper double: XOR "wrapping"; Fail() makes a key's unwraps fail like Key
// Vault would (the status class and message chosen by the test).
class FakeVaultWrapper : public blockstore::KeyWrapper {
 public:
  Result<blockstore::WrappedDek> Wrap(const blockstore::KeyRef& key,
                                      std::span<const uint8_t> dek) override {
    blockstore::WrappedDek w;
    w.key = key;
    w.algorithm = "RSA-OAEP-256";
    for (uint8_t b : dek) w.wrapped.push_back(b ^ 0x5a);
    return w;
  }
  Result<SecretBytes> Unwrap(const blockstore::WrappedDek& w) override {
    {
      std::lock_guard lock(mu_);
      ++unwraps_;
      auto it = failures_.find(w.key.key_id);
      if (it != failures_.end()) return it->second;
    }
    SecretBytes dek(w.wrapped.size());
    for (size_t i = 0; i < w.wrapped.size(); ++i) dek.data()[i] = w.wrapped[i] ^ 0x5a;
    return dek;
  }
  void Fail(const std::string& key_id, Status s) {
    std::lock_guard lock(mu_);
    failures_[key_id] = std::move(s);
  }
  void Heal(const std::string& key_id) {
    std::lock_guard lock(mu_);
    failures_.erase(key_id);
  }
  int unwraps() {
    std::lock_guard lock(mu_);
    return unwraps_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, Status> failures_;
  int unwraps_ = 0;
};

Status Disabled() {
  return Status::FailedPrecondition(
      "Forbidden/KeyDisabled: Operation unwrapKey is not allowed "
      "on a disabled key.");
}
Status Purged() {
  return Status::NotFound("KeyNotFound: A key with (name/id) cmk was not found in this key vault.");
}

class AttachmentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/byok-attach-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_key_ = std::vector<uint8_t>(32, 7);
    store::SqliteOptions so;
    so.data_dir = dir_;
    auto rk = store::RootKey::FromBytes(root_key_);
    ASSERT_TRUE(rk.ok());
    auto st = store::OpenSqliteStore(so, clock_, std::move(rk).value());
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(st).value();
    Start();
  }

  void TearDown() override {
    manager_.reset();
    blocks_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // (Re)creates the byokd side: BlockStore and AttachmentManager (a restart).
  void Start() {
    manager_.reset();
    blocks_.reset();
    platform_ = std::make_unique<blockstore::PlatformKeyWrapper>(root_key_, &vault_);
    blockstore::BlockStore::Options bo;
    bo.directory = dir_ + "/disks";
    bo.wrapper = platform_.get();
    bo.random = &random_;
    blocks_ = std::make_unique<blockstore::BlockStore>(bo);
    AttachmentDeps d;
    d.store = store_.get();
    d.clock = &clock_;
    d.random = &random_;
    d.blocks = blocks_.get();
    d.customer_keys = &vault_;
    manager_ = std::make_unique<AttachmentManager>(d);
    manager_->SetEndpoint(NbdEndpoint{"127.0.0.1", 10809, dir_ + "/nbd.sock"});
  }

  // A disk resource and its file.
  std::string CreateDisk(const std::string& name, EncryptionType type) {
    std::string id = std::string(kRg) + "/providers/Microsoft.Compute/disks/" + name;
    std::string unique = "guid-" + name;
    DesRecord des;
    des.id = kDes;
    des.active_key_url = kKeyV1;
    Status s = blocks_->Create(unique, kDiskSize, DiskLayers(type, &des));
    EXPECT_TRUE(s.ok()) << s.ToString();
    json enc = {{"type", std::string(EncryptionTypeName(type))}};
    if (type != EncryptionType::kPlatformKey) enc["diskEncryptionSetId"] = kDes;
    store::Resource r;
    r.id = id;
    r.type = kDiskType;
    r.body = {{"id", id},
              {"name", name},
              {"location", "westeurope"},
              {"properties",
               {{"uniqueId", unique},
                {"diskSizeBytes", kDiskSize},
                {"encryption", enc},
                {"diskState", "Unattached"}}}};
    auto txn = store_->Begin();
    EXPECT_TRUE(txn.ok());
    EXPECT_TRUE((*txn)->Put(std::move(r)).ok());
    EXPECT_TRUE((*txn)->Commit().ok());
    return id;
  }

  DiskRecord Disk(const std::string& id) {
    auto txn = store_->BeginRead();
    EXPECT_TRUE(txn.ok());
    auto d = FindDisk(**txn, id);
    EXPECT_TRUE(d.ok() && d->has_value());
    return **d;
  }

  std::shared_ptr<blockstore::BlockDevice> Resolve(const std::string& name) {
    auto dev = manager_->Resolve(name);
    EXPECT_TRUE(dev.ok()) << dev.status().ToString();
    return dev.ok() ? *dev : nullptr;
  }

  Attachment Attach(const std::string& id) {
    auto a = manager_->Attach(id, "tester");
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
    return a.ok() ? *a : Attachment{};
  }

  static std::vector<uint8_t> Pattern(uint8_t b) { return std::vector<uint8_t>(8192, b); }

  static Status WriteP(blockstore::BlockDevice& dev, uint8_t b) {
    auto data = Pattern(b);
    return dev.Write(0, data, true);
  }
  static Status ReadP(blockstore::BlockDevice& dev, uint8_t b) {
    std::vector<uint8_t> out(8192);
    BYOK_TRY(dev.Read(0, out));
    if (out != Pattern(b)) return Status::DataLoss("pattern mismatch");
    return Status::Ok();
  }

  std::string dir_;
  std::vector<uint8_t> root_key_;
  ManualClock clock_{TimePoint{} + 1'700'000'000s};
  SeededRandom random_{42};
  FakeVaultWrapper vault_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<blockstore::PlatformKeyWrapper> platform_;
  std::unique_ptr<blockstore::BlockStore> blocks_;
  std::unique_ptr<AttachmentManager> manager_;
};

TEST_F(AttachmentsTest, AttachGivesAnUnguessableExportAndMarksTheDiskAttached) {
  std::string id = CreateDisk("d1", EncryptionType::kCustomerKey);
  Attachment a = Attach(id);
  EXPECT_EQ(a.export_name.size(), 43u);  // 32 bytes base64url
  EXPECT_EQ(a.uri, "nbd://127.0.0.1:10809/" + a.export_name);
  EXPECT_EQ(a.socket_uri, "nbd+unix:///" + a.export_name + "?socket=" + dir_ + "/nbd.sock");
  DiskRecord d = Disk(id);
  EXPECT_EQ(d.state, DiskState::kAttached);
  EXPECT_EQ(d.managed_by, "byok-nbd://127.0.0.1:10809");

  auto dev = Resolve(a.export_name);
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->size(), kDiskSize);
  ASSERT_TRUE(WriteP(*dev, 0xab).ok());
  EXPECT_TRUE(ReadP(*dev, 0xab).ok());

  // Guesses, and the right name in another case, are refused.
  auto guess = manager_->Resolve("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  EXPECT_TRUE(guess.status().Is(StatusCode::kNotFound));
  EXPECT_EQ(guess.status().message(), "unknown export");
  std::string other_case = a.export_name;
  for (char& c : other_case) c = std::islower(c) ? std::toupper(c) : std::tolower(c);
  if (other_case != a.export_name) {
    EXPECT_TRUE(manager_->Resolve(other_case).status().Is(StatusCode::kNotFound));
  }
  EXPECT_TRUE(manager_->Resolve("").status().Is(StatusCode::kNotFound));

  auto again = manager_->Attach(id, "tester");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "OperationNotAllowed");
  EXPECT_EQ(again.error().http_status, 409);

  auto found = manager_->Find(id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->export_name, a.export_name);
}

TEST_F(AttachmentsTest, AttachToANodeSetsItsInstanceAsManagedBy) {
  std::string id = CreateDisk("d1", EncryptionType::kCustomerKey);
  const std::string vm =
      std::string(kRg) +
      "/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np-1-vmss/virtualMachines/0";
  auto a = manager_->Attach(id, "tester", AttachOptions{vm});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->managed_by, vm);
  EXPECT_EQ(Disk(id).managed_by, vm);
  EXPECT_EQ(Disk(id).state, DiskState::kAttached);
  auto dev = Resolve(a->export_name);  // the NBD export works the same
  ASSERT_NE(dev, nullptr);
  ASSERT_TRUE(WriteP(*dev, 0x5a).ok());
  EXPECT_TRUE(ReadP(*dev, 0x5a).ok());
  // A second attach names the VM.
  auto again = manager_->Attach(id, "tester");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().http_status, 409);
  EXPECT_NE(again.error().message.find("virtualMachines/0"), std::string::npos);
  auto found = manager_->Find(id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->managed_by, vm);
  ASSERT_TRUE(manager_->Detach(id, "tester").ok());
  EXPECT_EQ(Disk(id).managed_by, "");
}

TEST_F(AttachmentsTest, AttachOfAMissingDiskIsNotFound) {
  auto a = manager_->Attach(std::string(kRg) + "/providers/Microsoft.Compute/disks/nope", "t");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "ResourceNotFound");
  EXPECT_NE(a.error().message.find("Microsoft.Compute/disks/nope"), std::string::npos);
}

TEST_F(AttachmentsTest, AttachFailsAtOnceWhenTheKeyIsUnusable) {
  std::string id = CreateDisk("d1", EncryptionType::kCustomerKey);
  vault_.Fail(kKeyV1, Disabled());
  auto a = manager_->Attach(id, "tester");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "KeyVaultAccessForbidden");
  EXPECT_NE(a.error().message.find("KeyDisabled"), std::string::npos) << a.error().message;
  EXPECT_NE(a.error().message.find("des1"), std::string::npos) << a.error().message;
  EXPECT_EQ(Disk(id).state, DiskState::kUnattached);
  auto none = manager_->Find(id);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  vault_.Fail(kKeyV1, Status::PermissionDenied("Forbidden/ForbiddenByPolicy: no unwrapKey"));
  a = manager_->Attach(id, "tester");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("ForbiddenByPolicy"), std::string::npos);

  vault_.Heal(kKeyV1);
  EXPECT_TRUE(manager_->Attach(id, "tester").ok());
}

TEST_F(AttachmentsTest, RevokedKeyStopsIoAfterTheGracePeriodAndResumes) {
  std::string id = CreateDisk("d1", EncryptionType::kCustomerKey);
  Attachment a = Attach(id);
  auto dev = Resolve(a.export_name);
  ASSERT_NE(dev, nullptr);
  ASSERT_TRUE(WriteP(*dev, 0x11).ok());

  vault_.Fail(kKeyV1, Disabled());
  TimePoint t0 = clock_.Now();
  ASSERT_TRUE(manager_->CheckKeys(t0).ok());
  // New connections fail at once, with the reason.
  auto refused = manager_->Resolve(a.export_name);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("KeyDisabled"), std::string::npos)
      << refused.status().ToString();
  // The existing connection keeps working during the grace period.
  EXPECT_TRUE(ReadP(*dev, 0x11).ok());
  ASSERT_TRUE(manager_->CheckKeys(t0 + 59min).ok());
  EXPECT_TRUE(ReadP(*dev, 0x11).ok());
  auto status = manager_->KeyStatus(Disk(id));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["keyUnavailableSince"], FormatAzureTime(t0)) << status->dump();
  EXPECT_EQ((*status)["usable"], false);

  // One hour after the key went: I/O fails, naming the reason.
  ASSERT_TRUE(manager_->CheckKeys(t0 + 60min).ok());
  Status read = ReadP(*dev, 0x11);
  ASSERT_TRUE(read.Is(StatusCode::kFailedPrecondition)) << read.ToString();
  EXPECT_NE(read.message().find("KeyDisabled"), std::string::npos) << read.ToString();
  EXPECT_TRUE(WriteP(*dev, 0x22).Is(StatusCode::kFailedPrecondition));

  // The key comes back: I/O resumes on the same connection, the record is cleared.
  vault_.Heal(kKeyV1);
  ASSERT_TRUE(manager_->CheckKeys(t0 + 61min).ok());
  EXPECT_TRUE(ReadP(*dev, 0x11).ok());
  status = manager_->KeyStatus(Disk(id));
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->contains("keyUnavailableSince")) << status->dump();
  EXPECT_EQ((*status)["status"], "usable");
  EXPECT_NE(Resolve(a.export_name), nullptr);
}

TEST_F(AttachmentsTest, ANewConnectionAfterTheKeyCameBackUnlocks) {
  std::string id = CreateDisk("d1", EncryptionType::kCustomerKey);
  Attachment a = Attach(id);
  auto dev = Resolve(a.export_name);
  ASSERT_TRUE(WriteP(*dev, 0x33).ok());
  vault_.Fail(kKeyV1, Status::PermissionDenied("Forbidden/ForbiddenByPolicy: no access"));
  ASSERT_TRUE(manager_->CheckKeys(clock_.Now()).ok());
  ASSERT_TRUE(manager_->CheckKeys(clock_.Now() + 2h).ok());
  EXPECT_FALSE(ReadP(*dev, 0x33).ok());
  vault_.Heal(kKeyV1);
  auto dev2 = Resolve(a.export_name);  // before the monitor noticed
  ASSERT_NE(dev2, nullptr);
  EXPECT_TRUE(ReadP(*dev2, 0x33).ok());
  EXPECT_TRUE(ReadP(*dev, 0x33).ok());
}

TEST_F(AttachmentsTest, PurgedKeyLocksAtOnceAndSaysTheDataIsGone) {
  std::string id = CreateDisk("d1", EncryptionType::kCustomerKey);
  Attachment a = Attach(id);
  auto dev = Resolve(a.export_name);
  ASSERT_TRUE(WriteP(*dev, 0x44).ok());
  vault_.Fail(kKeyV1, Purged());
  ASSERT_TRUE(manager_->CheckKeys(clock_.Now()).ok());
  Status read = ReadP(*dev, 0x44);
  ASSERT_TRUE(read.Is(StatusCode::kFailedPrecondition)) << read.ToString();
  EXPECT_NE(read.message().find("unrecoverable"), std::string::npos) << read.ToString();
  auto status = manager_->KeyStatus(Disk(id));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["status"].get<std::string>().rfind("purged: data unrecoverable", 0), 0u)
      << status->dump();
  EXPECT_EQ((*status)["locked"], true);
  auto refused = manager_->Resolve(a.export_name);
  EXPECT_NE(refused.status().message().find("unrecoverable"), std::string::npos);

  ASSERT_TRUE(manager_->Detach(id, "tester").ok());
  auto again = manager_->Attach(id, "tester");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "KeyVaultKeyNotFound");
  EXPECT_NE(again.error().message.find("unrecoverable"), std::string::npos);
}

TEST_F(AttachmentsTest, DetachEndsTheExport) {
  std::string id = CreateDisk("d1", EncryptionType::kCustomerKey);
  Attachment a = Attach(id);
  auto dev = Resolve(a.export_name);
  ASSERT_TRUE(WriteP(*dev, 0x55).ok());
  ASSERT_TRUE(manager_->Detach(id, "tester").ok());
  EXPECT_TRUE(ReadP(*dev, 0x55).Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(manager_->Resolve(a.export_name).status().Is(StatusCode::kNotFound));
  DiskRecord d = Disk(id);
  EXPECT_EQ(d.state, DiskState::kUnattached);
  EXPECT_EQ(d.managed_by, "");

  auto twice = manager_->Detach(id, "tester");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, "OperationNotAllowed");

  // A new attachment has a new name; the old connection stays dead, the data is there.
  Attachment b = Attach(id);
  EXPECT_NE(b.export_name, a.export_name);
  EXPECT_TRUE(manager_->Resolve(a.export_name).status().Is(StatusCode::kNotFound));
  auto dev2 = Resolve(b.export_name);
  ASSERT_NE(dev2, nullptr);
  EXPECT_TRUE(ReadP(*dev2, 0x55).ok());
  EXPECT_TRUE(ReadP(*dev, 0x55).Is(StatusCode::kFailedPrecondition));
}

TEST_F(AttachmentsTest, AttachmentsSurviveARestart) {
  std::string id = CreateDisk("d1", EncryptionType::kPlatformAndCustomerKeys);
  Attachment a = Attach(id);
  {
    auto dev = Resolve(a.export_name);
    ASSERT_TRUE(WriteP(*dev, 0x66).ok());
  }
  vault_.Fail(kKeyV1, Disabled());
  TimePoint t0 = clock_.Now();
  ASSERT_TRUE(manager_->CheckKeys(t0).ok());

  Start();  // byokd restarts
  auto status = manager_->KeyStatus(Disk(id));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["keyUnavailableSince"], FormatAzureTime(t0)) << status->dump();
  EXPECT_EQ((*status)["attached"], true);
  EXPECT_FALSE(manager_->Resolve(a.export_name).ok());
  vault_.Heal(kKeyV1);
  auto dev = Resolve(a.export_name);
  ASSERT_NE(dev, nullptr);
  EXPECT_TRUE(ReadP(*dev, 0x66).ok());
  ASSERT_TRUE(manager_->CheckKeys(t0 + 2h).ok());
  status = manager_->KeyStatus(Disk(id));
  EXPECT_FALSE(status->contains("keyUnavailableSince"));
  EXPECT_TRUE(ReadP(*dev, 0x66).ok());
  ASSERT_TRUE(manager_->Detach(id, "tester").ok());
  EXPECT_EQ(Disk(id).state, DiskState::kUnattached);
}

TEST_F(AttachmentsTest, PlatformKeyDisksNeedNoKeyVault) {
  std::string id = CreateDisk("d1", EncryptionType::kPlatformKey);
  Attachment a = Attach(id);
  int before = vault_.unwraps();
  auto dev = Resolve(a.export_name);
  ASSERT_TRUE(WriteP(*dev, 0x77).ok());
  ASSERT_TRUE(manager_->CheckKeys(clock_.Now() + 5h).ok());
  EXPECT_TRUE(ReadP(*dev, 0x77).ok());
  EXPECT_EQ(vault_.unwraps(), before);
  auto status = manager_->KeyStatus(Disk(id));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["status"], "platform key only");
}

TEST_F(AttachmentsTest, UnixOnlyEndpoint) {
  manager_->SetEndpoint(NbdEndpoint{"", 0, "/run/x.sock"});
  std::string id = CreateDisk("d1", EncryptionType::kPlatformKey);
  Attachment a = Attach(id);
  EXPECT_EQ(a.uri, "");
  EXPECT_EQ(a.socket_uri, "nbd+unix:///" + a.export_name + "?socket=/run/x.sock");
  EXPECT_EQ(Disk(id).managed_by, "byok-nbd+unix:///run/x.sock");
}

}  // namespace
}  // namespace byok::compute
