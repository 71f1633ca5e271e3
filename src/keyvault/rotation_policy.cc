#include "keyvault/rotation_policy.h"

#include <fmt/format.h>

#include "http/message.h"

namespace byok::keyvault {
namespace {

using nlohmann::json;

constexpr int64_t kDay = 86400;
constexpr int64_t kMinTrigger = 7 * kDay;
constexpr int64_t kMinExpiry = 28 * kDay;
constexpr int64_t kMaxDuration = 1000LL * 365 * kDay;

KvError Invalid(std::string rule) {
  return MakeKvError(errors::kInvalidRotationPolicy, std::move(rule));
}

std::optional<std::string> StringMember(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return std::string();  // present but not a string: invalid
  return it->get<std::string>();
}

}  // namespace

Result<int64_t> ParseIsoDuration(std::string_view text) {
  auto bad = [&] { return Status::InvalidArgument("not an ISO-8601 duration"); };
  if (text.size() < 3 || (text[0] != 'P' && text[0] != 'p')) return bad();
  int64_t total = 0;
  bool in_time = false;
  bool any = false;
  bool any_time = false;
  int64_t number = -1;
  for (size_t i = 1; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c >= '0' && c <= '9') {
      if (number < 0) number = 0;
      number = number * 10 + (c - '0');
      if (number > kMaxDuration) return bad();
      continue;
    }
    if (c == 'T') {
      if (in_time || number >= 0) return bad();
      in_time = true;
      continue;
    }
    if (number < 0) return bad();
    int64_t unit = 0;
    if (!in_time) {
      switch (c) {
        case 'Y':
          unit = 365 * kDay;
          break;
        case 'M':
          unit = 30 * kDay;
          break;
        case 'W':
          unit = 7 * kDay;
          break;
        case 'D':
          unit = kDay;
          break;
        default:
          return bad();
      }
    } else {
      switch (c) {
        case 'H':
          unit = 3600;
          break;
        case 'M':
          unit = 60;
          break;
        case 'S':
          unit = 1;
          break;
        default:
          return bad();
      }
    }
    total += number * unit;
    if (total > kMaxDuration) return bad();
    number = -1;
    any = true;
    any_time = any_time || in_time;
  }
  if (number >= 0 || !any || (in_time && !any_time)) return bad();
  return total;
}

KvResult<json> ValidateRotationPolicy(const json& body, int64_t now, const json& previous) {
  if (!body.is_object()) return MakeKvError(errors::kInvalidBody, "expected a JSON object");
  std::optional<int64_t> expiry;
  json attributes = json::object();
  auto attrs = body.find("attributes");
  if (attrs != body.end() && !attrs->is_null()) {
    if (!attrs->is_object()) return MakeKvError(errors::kInvalidProperty, "attributes", "object");
    std::optional<std::string> e = StringMember(*attrs, "expiryTime");
    if (e) {
      Result<int64_t> secs = ParseIsoDuration(*e);
      if (!secs.ok()) {
        return MakeKvError(errors::kInvalidProperty, "attributes.expiryTime",
                           "not an ISO-8601 duration");
      }
      if (*secs < kMinExpiry) return Invalid("expiryTime must be at least 28 days (P28D).");
      expiry = *secs;
      attributes["expiryTime"] = *e;
    }
  }
  json actions = json::array();
  bool has_rotate = false;
  bool has_notify = false;
  auto la = body.find("lifetimeActions");
  if (la != body.end() && !la->is_null()) {
    if (!la->is_array()) return MakeKvError(errors::kInvalidProperty, "lifetimeActions", "array");
    for (const json& a : *la) {
      if (!a.is_object()) return Invalid("every lifetime action must be an object.");
      auto trigger = a.find("trigger");
      auto action = a.find("action");
      if (trigger == a.end() || !trigger->is_object() || action == a.end() ||
          !action->is_object()) {
        return Invalid("every lifetime action needs a trigger and an action.");
      }
      std::optional<std::string> type = StringMember(*action, "type");
      bool rotate = type && http::EqualsIgnoreCase(*type, "rotate");
      bool notify = type && http::EqualsIgnoreCase(*type, "notify");
      if (!rotate && !notify) return Invalid("action type must be Rotate or Notify.");
      if ((rotate && has_rotate) || (notify && has_notify)) {
        return Invalid("a policy may have at most one Rotate and one Notify action.");
      }
      std::optional<std::string> after = StringMember(*trigger, "timeAfterCreate");
      std::optional<std::string> before = StringMember(*trigger, "timeBeforeExpiry");
      if (after.has_value() == before.has_value()) {
        return Invalid("a trigger needs exactly one of timeAfterCreate and timeBeforeExpiry.");
      }
      if (notify && after) return Invalid("a Notify action can only use timeBeforeExpiry.");
      const std::string& text = after ? *after : *before;
      Result<int64_t> secs = ParseIsoDuration(text);
      if (!secs.ok()) {
        return MakeKvError(errors::kInvalidProperty,
                           after ? "trigger.timeAfterCreate" : "trigger.timeBeforeExpiry",
                           "not an ISO-8601 duration");
      }
      if (*secs < kMinTrigger) return Invalid("a trigger must be at least 7 days (P7D).");
      if (expiry && *secs > *expiry - kMinTrigger) {
        return Invalid(
            "a trigger must fire at least 7 days before the expiry time (expiryTime - 7 days).");
      }
      json t = after ? json{{"timeAfterCreate", text}} : json{{"timeBeforeExpiry", text}};
      actions.push_back({{"trigger", t}, {"action", {{"type", rotate ? "Rotate" : "Notify"}}}});
      has_rotate = has_rotate || rotate;
      has_notify = has_notify || notify;
    }
  }
  int64_t created = now;
  if (previous.is_object()) {
    auto pa = previous.find("attributes");
    if (pa != previous.end() && pa->is_object()) {
      auto c = pa->find("created");
      if (c != pa->end() && c->is_number_integer()) created = c->get<int64_t>();
    }
  }
  attributes["created"] = created;
  attributes["updated"] = now;
  return json{{"lifetimeActions", std::move(actions)}, {"attributes", std::move(attributes)}};
}

json RenderRotationPolicy(std::string_view base, std::string_view key_name, const json& stored) {
  json j = {{"id", fmt::format("{}/keys/{}/rotationpolicy", base, key_name)}};
  if (!stored.is_object()) {
    j["lifetimeActions"] = json::array(
        {{{"trigger", {{"timeBeforeExpiry", "P30D"}}}, {"action", {{"type", "Notify"}}}}});
    j["attributes"] = json::object();
    return j;
  }
  j["lifetimeActions"] = stored.value("lifetimeActions", json::array());
  j["attributes"] = stored.value("attributes", json::object());
  return j;
}

std::optional<int64_t> RotationDueTime(const json& stored, const KeyAttributes& current) {
  if (!stored.is_object()) return std::nullopt;
  auto la = stored.find("lifetimeActions");
  if (la == stored.end() || !la->is_array()) return std::nullopt;
  for (const json& a : *la) {
    if (a.value("action", json::object()).value("type", "") != "Rotate") continue;
    const json trigger = a.value("trigger", json::object());
    if (trigger.contains("timeAfterCreate")) {
      Result<int64_t> secs = ParseIsoDuration(trigger.value("timeAfterCreate", ""));
      if (secs.ok()) return current.created + *secs;
    } else if (trigger.contains("timeBeforeExpiry") && current.exp) {
      Result<int64_t> secs = ParseIsoDuration(trigger.value("timeBeforeExpiry", ""));
      if (secs.ok()) return *current.exp - *secs;
    }
  }
  return std::nullopt;
}

std::optional<int64_t> PolicyExpirySeconds(const json& stored) {
  if (!stored.is_object()) return std::nullopt;
  auto attrs = stored.find("attributes");
  if (attrs == stored.end() || !attrs->is_object()) return std::nullopt;
  auto e = attrs->find("expiryTime");
  if (e == attrs->end() || !e->is_string()) return std::nullopt;
  Result<int64_t> secs = ParseIsoDuration(e->get<std::string>());
  if (!secs.ok()) return std::nullopt;
  return *secs;
}

}  // namespace byok::keyvault
