#include "common/api_error.h"

namespace byok {

nlohmann::json ApiError::ToJson() const {
  return {{"error", {{"code", code}, {"message", message}}}};
}

}  // namespace byok
