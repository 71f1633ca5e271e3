#include "crypto/ctx_pool.h"

#include <cstdlib>

namespace byok::crypto::internal {

PkeyCtxPtr PkeyCtxPool::Take(int slot) {
  if (slot < 0 || slot >= kSlots) std::abort();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PkeyCtxPtr>& idle = idle_[static_cast<size_t>(slot)];
  if (idle.empty()) return nullptr;
  PkeyCtxPtr ctx = std::move(idle.back());
  idle.pop_back();
  return ctx;
}

void PkeyCtxPool::Put(int slot, PkeyCtxPtr ctx) {
  if (slot < 0 || slot >= kSlots) std::abort();
  if (!ctx) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PkeyCtxPtr>& idle = idle_[static_cast<size_t>(slot)];
  if (idle.size() < kMaxIdle) idle.push_back(std::move(ctx));
  // else ctx is freed as it goes out of scope.
}

}  // namespace byok::crypto::internal
