#include "daemon/emulated_clock.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace byok::daemon {
namespace {

Result<std::chrono::nanoseconds> ReadOffset(store::Transaction& tx) {
  BYOK_ASSIGN_OR_RETURN(std::optional<std::string> v, tx.GetMeta(kClockOffsetMetaKey));
  if (!v) return std::chrono::nanoseconds(0);
  int64_t ns = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), ns);
  if (ec != std::errc() || end != v->data() + v->size() || ns < 0) {
    return Status::DataLoss("stored clock offset is not a non-negative integer");
  }
  return std::chrono::nanoseconds(ns);
}

}  // namespace

Result<std::chrono::nanoseconds> LoadClockOffset(store::Store& store) {
  std::chrono::nanoseconds out{0};
  BYOK_TRY(store::RunInReadTransaction(store, [&](store::Transaction& tx) -> Status {
    BYOK_ASSIGN_OR_RETURN(out, ReadOffset(tx));
    return Status::Ok();
  }));
  return out;
}

Result<std::chrono::nanoseconds> AdvanceStoredClockOffset(store::Store& store,
                                                          std::chrono::nanoseconds d) {
  if (d.count() < 0) {
    return Status::InvalidArgument("the emulated clock cannot move backwards");
  }
  std::chrono::nanoseconds out{0};
  BYOK_TRY(store::RunInTransaction(store, [&](store::Transaction& tx) -> Status {
    BYOK_ASSIGN_OR_RETURN(std::chrono::nanoseconds cur, ReadOffset(tx));
    if (d.count() > std::numeric_limits<int64_t>::max() - cur.count()) {
      return Status::InvalidArgument("the emulated clock offset would overflow");
    }
    out = cur + d;
    return tx.PutMeta(kClockOffsetMetaKey, std::to_string(out.count()));
  }));
  return out;
}

}  // namespace byok::daemon
