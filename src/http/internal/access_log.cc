#include "http/internal/access_log.h"

#include <array>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "http/internal/request_normalize.h"

namespace byok::http::internal {
namespace {

constexpr size_t kMaxTargetLogBytes = 2048;
constexpr size_t kMaxUserAgentLogBytes = 512;

std::shared_ptr<spdlog::logger> GetOrCreate(const std::string& name) {
  if (auto l = spdlog::get(name)) return l;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (auto l = spdlog::get(name)) return l;
  auto l =
      std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  try {
    spdlog::register_logger(l);
  } catch (const spdlog::spdlog_ex&) {
    // Registered concurrently by someone else (e.g. InitLogging): use theirs.
    if (auto existing = spdlog::get(name)) return existing;
  }
  return l;
}

// Quotes, backslashes and bytes outside printable ASCII become escapes; the result is cut at
// `max` input bytes (marked with "...").
void AppendEscaped(std::string& out, std::string_view in, size_t max) {
  bool cut = in.size() > max;
  if (cut) in = in.substr(0, max);
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(ch);
    }
  }
  if (cut) out += "...";
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

bool IsSensitiveParameter(std::string_view decoded_name) {
  static constexpr std::array<std::string_view, 8> kExact = {"code", "sig", "key",   "sas",
                                                             "pwd",  "otp", "nonce", "state"};
  static constexpr std::array<std::string_view, 8> kContains = {
      "secret", "password", "passwd", "token", "assertion", "signature", "credential", "apikey"};
  std::string name = LowerAscii(decoded_name);
  for (std::string_view e : kExact) {
    if (name == e) return true;
  }
  for (std::string_view c : kContains) {
    if (name.find(c) != std::string::npos) return true;
  }
  return name.find("api_key") != std::string::npos;
}

std::string RedactTarget(std::string_view target) {
  size_t qmark = target.find('?');
  if (qmark == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, qmark + 1));
  std::string_view query = target.substr(qmark + 1);
  bool first = true;
  while (true) {
    size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    if (!first) out.push_back('&');
    first = false;
    size_t eq = piece.find('=');
    if (eq == std::string_view::npos) {
      out += piece;
    } else {
      std::string_view raw_name = piece.substr(0, eq);
      auto name = PercentDecode(raw_name, /*plus_is_space=*/true);
      // A name that does not even decode is logged as REDACTED too: be safe, not sorry.
      bool sensitive = !name.ok() || IsSensitiveParameter(*name);
      out += raw_name;
      out.push_back('=');
      if (sensitive) {
        out += "REDACTED";
      } else {
        out += piece.substr(eq + 1);
      }
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return out;
}

std::string FormatAccessLine(const AccessRecord& r) {
  std::string line;
  line.reserve(256);
  AppendEscaped(line, r.remote.empty() ? "-" : r.remote, 128);
  line += " \"";
  if (r.method.empty()) {
    line += "-";
  } else {
    AppendEscaped(line, r.method, 32);
    line.push_back(' ');
    AppendEscaped(line, RedactTarget(r.target), kMaxTargetLogBytes);
  }
  line += fmt::format("\" {} {} {}us ", r.status, r.response_bytes, r.duration_us);
  AppendEscaped(line, r.request_id.empty() ? "-" : r.request_id, 64);
  line += " \"";
  AppendEscaped(line, r.user_agent, kMaxUserAgentLogBytes);
  line.push_back('"');
  if (!r.principal.empty()) {
    line += " oid=";
    AppendEscaped(line, r.principal, 128);
  }
  return line;
}

void LogAccess(const AccessRecord& r) {
  auto logger = AccessLogger();
  if (!logger->should_log(spdlog::level::info)) return;
  logger->info("{}", FormatAccessLine(r));
}

std::shared_ptr<spdlog::logger> AccessLogger() { return GetOrCreate("access"); }
std::shared_ptr<spdlog::logger> ByokLogger() { return GetOrCreate("byok"); }

}  // namespace byok::http::internal
