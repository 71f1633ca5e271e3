// The documented format (docs/formats/disk.md) decrypted without byok's crypto code: OpenSSL EVP
// used directly, and — where Debian's python3-cryptography is installed — a Python reader that
// parses the header slots itself.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "blockstore/blockstore.h"
#include "blockstore/blockstore_test_helpers.h"
#include "common/encoding.h"

namespace byok::blockstore {
namespace {

using blockstore_test::CustomerKey;
using blockstore_test::DiskEnv;
using blockstore_test::IndependentAesUnwrap;
using blockstore_test::IndependentPlatformKek;
using blockstore_test::IndependentXts;
using blockstore_test::PlatformKey;
using blockstore_test::ReadRaw;

std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>("byok sector pattern "[i % 20]);
  return out;
}

std::vector<uint8_t> Raw(const DiskEnv& env, const DiskHeader& h, uint64_t sector) {
  return ReadRaw(env.store->PathOf(h.disk_id), h.data_offset + sector * 4096, 4096);
}

TEST(IndependentDecryptTest, PlatformLayer) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("p1", 1 << 20, {PlatformKey()}).ok());
  std::vector<uint8_t> plain = Pattern(4096 * 4);
  {
    auto v = env.store->Open("p1");
    ASSERT_TRUE(v.ok());
    std::vector<uint8_t> scratch = plain;
    ASSERT_TRUE((*v)->Write(0, scratch, true).ok());
  }
  Result<DiskHeader> h = env.store->ReadHeader("p1");
  ASSERT_TRUE(h.ok());
  std::vector<uint8_t> dek =
      IndependentAesUnwrap(IndependentPlatformKek(env.root_key), h->layers[0].wrapped);
  ASSERT_EQ(dek.size(), 64u);
  for (uint64_t sector = 0; sector < 4; ++sector) {
    std::vector<uint8_t> raw = Raw(env, *h, sector);
    std::vector<uint8_t> expect(plain.begin() + sector * 4096, plain.begin() + (sector + 1) * 4096);
    EXPECT_EQ(IndependentXts(dek, sector, raw, /*encrypt=*/false), expect) << sector;
    EXPECT_EQ(IndependentXts(dek, sector, expect, /*encrypt=*/true), raw) << sector;
  }
  // The tweak really is the sector number: another one does not decrypt.
  EXPECT_NE(IndependentXts(dek, 1, Raw(env, *h, 0), false),
            std::vector<uint8_t>(plain.begin(), plain.begin() + 4096));
}

TEST(IndependentDecryptTest, DoubleEncryptionNeedsBothLayersInOrder) {
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("d2", 1 << 20, {CustomerKey(), PlatformKey()}).ok());
  std::vector<uint8_t> plain = Pattern(4096);
  {
    auto v = env.store->Open("d2");
    ASSERT_TRUE(v.ok());
    std::vector<uint8_t> scratch = plain;
    ASSERT_TRUE((*v)->Write(7 * 4096, scratch, true).ok());
  }
  Result<DiskHeader> h = env.store->ReadHeader("d2");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->layers.size(), 2u);
  Result<SecretBytes> customer = env.customer.Unwrap(h->layers[0]);
  ASSERT_TRUE(customer.ok());
  std::vector<uint8_t> dek_c(customer->span().begin(), customer->span().end());
  std::vector<uint8_t> dek_p =
      IndependentAesUnwrap(IndependentPlatformKek(env.root_key), h->layers[1].wrapped);
  ASSERT_EQ(dek_p.size(), 64u);
  ASSERT_NE(dek_c, dek_p);
  std::vector<uint8_t> raw = Raw(env, *h, 7);
  // Outer (platform) layer off first, then the inner (customer) layer.
  std::vector<uint8_t> inner = IndependentXts(dek_p, 7, raw, false);
  EXPECT_EQ(IndependentXts(dek_c, 7, inner, false), plain);
  // One layer alone, or the wrong order, gives no plaintext.
  EXPECT_NE(inner, plain);
  EXPECT_NE(IndependentXts(dek_c, 7, raw, false), plain);
  EXPECT_NE(IndependentXts(dek_p, 7, IndependentXts(dek_c, 7, raw, false), false), plain);
  // And encrypting in the documented order reproduces the file.
  EXPECT_EQ(IndependentXts(dek_p, 7, IndependentXts(dek_c, 7, plain, true), true), raw);
}

// A reader written from docs/formats/disk.md alone: parses both slots, checks magic, version and
// SHA-256, takes the newest, and decrypts one sector with python3-cryptography's XTS.
constexpr char kPythonReader[] = R"PY(
import hashlib, json, struct, sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
path, sector, deks = sys.argv[1], int(sys.argv[2]), [bytes.fromhex(k) for k in sys.argv[3:]]
f = open(path, 'rb')
best = None
for off in (0, 65536):
    f.seek(off); s = f.read(65536)
    magic, ver, n, gen, _ = struct.unpack('<8sIIQ8s', s[:32])
    if magic != b'BYOKDISK' or ver != 1 or 64 + n > len(s): continue
    if hashlib.sha256(s[:32 + n]).digest() != s[32 + n:64 + n]: continue
    if best is None or gen > best[0]: best = (gen, json.loads(s[32:32 + n]))
h = best[1]
assert h['sector_size'] == 4096 and h['cipher'] == 'AES-256-XTS'
f.seek(h['data_offset'] + sector * 4096); data = f.read(4096)
tweak = sector.to_bytes(16, 'little')
for dek in reversed(deks):  # deks in layer order; the last layer is the outermost
    d = Cipher(algorithms.AES(dek), modes.XTS(tweak)).decryptor()
    data = d.update(data) + d.finalize()
sys.stdout.write(data.hex())
)PY";

TEST(IndependentDecryptTest, PythonCryptographyReadsTheDocumentedFormat) {
  if (std::system("/usr/bin/python3 -c 'import cryptography' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-cryptography is not installed";
  }
  DiskEnv env;
  ASSERT_TRUE(env.store->Create("py", 1 << 20, {CustomerKey(), PlatformKey()}).ok());
  std::vector<uint8_t> plain = Pattern(4096);
  {
    auto v = env.store->Open("py");
    ASSERT_TRUE(v.ok());
    std::vector<uint8_t> scratch = plain;
    ASSERT_TRUE((*v)->Write(300 * 4096 / 4, scratch, true).ok());  // sector 75
  }
  // A rotation so that the newest header is in slot B.
  ASSERT_TRUE(
      env.store->Rewrap("py", Layer::kCustomer, CustomerKey(blockstore_test::kCustomerKeyV2)).ok());
  Result<DiskHeader> h = env.store->ReadHeader("py");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->generation, 2u);
  Result<SecretBytes> dek_c = env.customer.Unwrap(h->layers[0]);
  ASSERT_TRUE(dek_c.ok());
  std::vector<uint8_t> dek_p =
      IndependentAesUnwrap(IndependentPlatformKek(env.root_key), h->layers[1].wrapped);
  std::string script = env.dir.path() + "/reader.py";
  std::ofstream(script) << kPythonReader;
  std::string cmd = "/usr/bin/python3 " + script + " " + env.store->PathOf("py") + " 75 " +
                    HexEncode(dek_c->span()) + " " + HexEncode(dek_p);
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ASSERT_EQ(::pclose(p), 0) << out;
  EXPECT_EQ(out, HexEncode(plain));
}

}  // namespace
}  // namespace byok::blockstore
