#include "crypto/jwt.h"

#include <set>

#include "common/encoding.h"
#include "crypto/openssl_util.h"
#include "crypto/sign.h"

namespace byok::crypto {
namespace {

using internal::Base64UrlDecodeStrict;
using json = nlohmann::json;

constexpr std::string_view kAlg = "RS256";
// Largest RS256 signature accepted: an 8192-bit modulus.
constexpr size_t kMaxSignatureSize = kMaxRsaBits / 8;

// Rejects JSON text nested deeper than kMaxJwtJsonDepth before it is parsed (the parse would
// otherwise build arbitrarily deep values). Strings are skipped so brackets inside them don't
// count; malformed text is left for the parser to reject.
bool NestingWithinLimit(std::span<const uint8_t> text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (uint8_t c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJwtJsonDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

// Parses a JWT part: a JSON object, no duplicate member names at any level.
Result<json> ParseJsonObject(std::span<const uint8_t> text, std::string_view what) {
  if (!NestingWithinLimit(text)) {
    return Status::InvalidArgument(std::string(what) + " is nested too deeply");
  }
  std::vector<std::set<std::string>> open_objects;
  bool duplicate = false;
  json::parser_callback_t callback = [&](int /*depth*/, json::parse_event_t event,
                                         json& parsed) -> bool {
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get_ref<const std::string&>()).second) {
          duplicate = true;
        }
        break;
      default:
        break;
    }
    return true;
  };
  json value = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false,
                           /*ignore_comments=*/false);
  if (value.is_discarded()) return Status::InvalidArgument(std::string(what) + " is not JSON");
  if (duplicate) {
    return Status::InvalidArgument(std::string(what) + " has duplicate member names");
  }
  if (!value.is_object()) {
    return Status::InvalidArgument(std::string(what) + " is not a JSON object");
  }
  return value;
}

Result<std::vector<uint8_t>> DecodePart(std::string_view part, size_t max_size,
                                        std::string_view what) {
  if (part.empty()) return Status::InvalidArgument(std::string(what) + " is empty");
  Result<SecretBytes> bytes = Base64UrlDecodeStrict(part, max_size);
  if (!bytes.ok()) return bytes.status().WithContext(what);
  return std::vector<uint8_t>(bytes->span().begin(), bytes->span().end());
}

Status CheckHeader(const json& header) {
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) {
    return Status::InvalidArgument("JWT header has no \"alg\"");
  }
  const std::string& name = alg->get_ref<const std::string&>();
  if (name == "none") return Status::InvalidArgument("unsecured JWT (alg \"none\") refused");
  if (name != kAlg) return Status::InvalidArgument("JWT alg must be RS256");
  if (header.contains("crit")) return Status::InvalidArgument("JWT \"crit\" header not supported");
  for (const char* member : {"kid", "typ"}) {
    auto it = header.find(member);
    if (it != header.end() && !it->is_string()) {
      return Status::InvalidArgument(std::string("JWT header \"") + member + "\" is not a string");
    }
  }
  return Status::Ok();
}

// Serializes JSON; strings that are not valid UTF-8 are an error, not an exception.
Result<std::string> Dump(const json& value) {
  try {
    return value.dump();
  } catch (const json::exception&) {
    return Status::InvalidArgument("JSON with invalid UTF-8 cannot be encoded");
  }
}

Result<double> GetNumericDate(const json& claims, const char* name, bool required) {
  auto it = claims.find(name);
  if (it == claims.end()) {
    if (required) return Status::InvalidArgument(std::string("token has no \"") + name + "\"");
    return Status::NotFound(name);
  }
  if (!it->is_number()) {
    return Status::InvalidArgument(std::string("token \"") + name + "\" is not a number");
  }
  return it->get<double>();
}

}  // namespace

Result<std::string> EncodeJwt(const json& header_extra, const json& claims, const PrivateKey& key) {
  if (!key.valid()) return Status::FailedPrecondition("empty key");
  if (key.type() != KeyType::kRsa) return Status::InvalidArgument("RS256 needs an RSA key");
  if (!claims.is_object()) return Status::InvalidArgument("JWT claims must be a JSON object");
  if (!header_extra.is_null() && !header_extra.is_object()) {
    return Status::InvalidArgument("JWT header must be a JSON object");
  }
  json header = {{"alg", std::string(kAlg)}, {"typ", "JWT"}};
  if (header_extra.is_object()) {
    for (const auto& [name, value] : header_extra.items()) {
      if (name == "alg" && !(value.is_string() && value.get_ref<const std::string&>() == kAlg)) {
        return Status::InvalidArgument("JWT alg must be RS256");
      }
      header[name] = value;
    }
  }
  BYOK_TRY(CheckHeader(header));
  BYOK_ASSIGN_OR_RETURN(std::string header_text, Dump(header));
  BYOK_ASSIGN_OR_RETURN(std::string claims_text, Dump(claims));
  std::string token =
      Base64UrlEncode(AsBytes(header_text)) + "." + Base64UrlEncode(AsBytes(claims_text));
  BYOK_ASSIGN_OR_RETURN(std::vector<uint8_t> signature,
                        SignMessage(key, SignatureAlgorithm::kRS256, AsBytes(token)));
  token += ".";
  token += Base64UrlEncode(signature);
  if (token.size() > kMaxJwtSize) return Status::InvalidArgument("JWT too large");
  return token;
}

Result<ParsedJwt> ParseJwt(std::string_view token) {
  if (token.empty()) return Status::InvalidArgument("empty JWT");
  if (token.size() > kMaxJwtSize) return Status::InvalidArgument("JWT too large");
  size_t first = token.find('.');
  if (first == std::string_view::npos) return Status::InvalidArgument("JWT must have 3 parts");
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Status::InvalidArgument("JWT must have 3 parts");
  }
  std::string_view header_part = token.substr(0, first);
  std::string_view claims_part = token.substr(first + 1, second - first - 1);
  std::string_view signature_part = token.substr(second + 1);

  BYOK_ASSIGN_OR_RETURN(std::vector<uint8_t> header_bytes,
                        DecodePart(header_part, kMaxJwtSize, "JWT header"));
  ParsedJwt jwt;
  BYOK_ASSIGN_OR_RETURN(jwt.header, ParseJsonObject(header_bytes, "JWT header"));
  BYOK_TRY(CheckHeader(jwt.header));
  BYOK_ASSIGN_OR_RETURN(std::vector<uint8_t> claims_bytes,
                        DecodePart(claims_part, kMaxJwtSize, "JWT claims"));
  BYOK_ASSIGN_OR_RETURN(jwt.claims, ParseJsonObject(claims_bytes, "JWT claims"));
  BYOK_ASSIGN_OR_RETURN(jwt.signature,
                        DecodePart(signature_part, kMaxSignatureSize, "JWT signature"));
  jwt.signing_input = std::string(token.substr(0, second));
  return jwt;
}

Status VerifyJwtSignature(const ParsedJwt& jwt, const PublicKey& key) {
  if (!jwt.header.is_object()) return Status::InvalidArgument("JWT header is not a JSON object");
  BYOK_TRY(CheckHeader(jwt.header));
  if (!key.valid()) return Status::FailedPrecondition("empty key");
  if (key.type() != KeyType::kRsa) return Status::InvalidArgument("RS256 needs an RSA key");
  BYOK_ASSIGN_OR_RETURN(bool ok, VerifyMessage(key, SignatureAlgorithm::kRS256,
                                               AsBytes(jwt.signing_input), jwt.signature));
  if (!ok) return Status::Unauthenticated("JWT signature does not verify");
  return Status::Ok();
}

Status ValidateTimeClaims(const json& claims, int64_t now_unix, int64_t skew_seconds) {
  if (!claims.is_object()) return Status::InvalidArgument("JWT claims must be a JSON object");
  if (skew_seconds < 0) return Status::InvalidArgument("negative clock skew");
  const double now = static_cast<double>(now_unix);
  const double skew = static_cast<double>(skew_seconds);
  BYOK_ASSIGN_OR_RETURN(double exp, GetNumericDate(claims, "exp", /*required=*/true));
  if (!(now - skew < exp)) return Status::Unauthenticated("token has expired");
  for (const char* name : {"nbf", "iat"}) {
    Result<double> value = GetNumericDate(claims, name, /*required=*/false);
    if (value.status().Is(StatusCode::kNotFound)) continue;
    if (!value.ok()) return value.status();
    if (!(*value <= now + skew)) {
      return Status::Unauthenticated(std::string("token \"") + name + "\" is in the future");
    }
  }
  return Status::Ok();
}

}  // namespace byok::crypto
