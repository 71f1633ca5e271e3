// PkeyCtxPool: initialized EVP_PKEY_CTXs of one key, kept for reuse. Creating a context and
// initializing it for an operation (EVP_PKEY_CTX_new_from_pkey, *_init, padding and digest
// parameters, each a provider lookup) costs several µs, a few percent of an RSA-2048 private
// operation and more than that of a public one; a context taken from the pool is ready at once.
// Internal to the crypto module: every PublicKey and PrivateKey owns one (shared by its clones);
// rsa.cc and sign.cc take and give back contexts.
//
// A slot is one operation with fixed parameters (0..kSlots-1): rsa.cc uses 0..5 (encryption on
// the public key's pool, decryption on the private key's, one slot per padding), sign.cc 6..14
// (one per signature algorithm; signing on the private key's pool, verifying on the public
// key's). A context goes back into its slot only after the operations on it succeeded, i.e. in
// the state its initialization left it; a slot keeps at most kMaxIdle idle contexts (more are
// freed).
//
// Thread safety: thread-safe. A context belongs to whoever took it until it is put back, so no
// context is ever used by two threads at once.
#pragma once

#include <array>
#include <mutex>
#include <string_view>
#include <vector>

#include "crypto/openssl_util.h"

namespace byok::crypto::internal {

class PkeyCtxPool {
 public:
  static constexpr int kSlots = 16;
  static constexpr size_t kMaxIdle = 4;

  PkeyCtxPool() = default;
  PkeyCtxPool(const PkeyCtxPool&) = delete;
  PkeyCtxPool& operator=(const PkeyCtxPool&) = delete;

  // An idle context of `slot`, else a new context on pkey prepared by init(EVP_PKEY_CTX*), which
  // returns whether it succeeded (kInternal "<what> failed" if not). Give it back with
  // Put(slot, ...) once the operation succeeded. REQUIRES: 0 <= slot < kSlots.
  template <typename Init>
  Result<PkeyCtxPtr> Acquire(int slot, EVP_PKEY* pkey, Init init, std::string_view what) {
    if (PkeyCtxPtr idle = Take(slot)) return idle;
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    if (!ctx || !init(ctx.get())) {
      return OpenSslError(StatusCode::kInternal, std::string(what) + " failed");
    }
    return ctx;
  }

  // An idle context of `slot`, or nullptr if there is none. REQUIRES: 0 <= slot < kSlots.
  PkeyCtxPtr Take(int slot);
  // Keeps ctx for the next Take(slot), or frees it if the slot is full. REQUIRES: as Take; ctx
  // was initialized for this slot's operation and parameters.
  void Put(int slot, PkeyCtxPtr ctx);

 private:
  std::mutex mu_;
  std::array<std::vector<PkeyCtxPtr>, kSlots> idle_;  // guarded by mu_
};

}  // namespace byok::crypto::internal
