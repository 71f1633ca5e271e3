#include "common/json.h"

#include <fmt/format.h>

namespace byok {

Result<nlohmann::json> ParseJsonBody(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Status::InvalidArgument(fmt::format("request body of {} bytes exceeds the limit of {}",
                                               text.size(), limits.max_bytes));
  }
  bool too_deep = false;
  nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t event,
                                             nlohmann::json&) {
    if ((event == nlohmann::json::parse_event_t::object_start ||
         event == nlohmann::json::parse_event_t::array_start) &&
        depth >= limits.max_depth) {
      too_deep = true;
    }
    return !too_deep;
  };
  try {
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), cb,
                                             /*allow_exceptions=*/true, /*ignore_comments=*/false);
    if (too_deep) {
      return Status::InvalidArgument(
          fmt::format("JSON nesting exceeds the limit of {} levels", limits.max_depth));
    }
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    if (too_deep) {
      return Status::InvalidArgument(
          fmt::format("JSON nesting exceeds the limit of {} levels", limits.max_depth));
    }
    return Status::InvalidArgument(fmt::format("invalid JSON at byte {}", e.byte));
  } catch (const std::exception&) {
    return Status::InvalidArgument("invalid JSON");
  }
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace byok
