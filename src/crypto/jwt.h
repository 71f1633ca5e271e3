// JSON Web Tokens signed with RS256, in JWS compact serialization (RFC 7515 / RFC 7519).
//
// ParseJwt only parses; it does NOT verify. It is strict and meant to face hostile input (it is
// fuzzed): at most kMaxJwtSize bytes; exactly three non-empty dot-separated parts; canonical
// unpadded base64url; header and claims must be UTF-8 JSON objects with no duplicate member
// names, nested at most kMaxJwtJsonDepth deep; the header's "alg" must be "RS256" ("none", HS*
// and everything else are refused); "crit" is refused; "kid"/"typ", if present, must be strings.
// Every rejection is InvalidArgument. Then VerifyJwtSignature checks the signature with a public
// key, and the caller checks the claims (issuer, audience, ...); ValidateTimeClaims helps with
// exp/nbf/iat.
//
// Thread safety: stateless functions; safe to call concurrently.
// REQUIRES: an RSA key for EncodeJwt/VerifyJwtSignature (else InvalidArgument); the token given
// to ParseJwt may be anything.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "crypto/keys.h"

namespace byok::crypto {

inline constexpr size_t kMaxJwtSize = 16 * 1024;
inline constexpr int kMaxJwtJsonDepth = 16;

struct ParsedJwt {
  nlohmann::json header;      // a JSON object; header["alg"] == "RS256"
  nlohmann::json claims;      // a JSON object
  std::string signing_input;  // "<base64url header>.<base64url claims>", what the signature covers
  std::vector<uint8_t> signature;
};

// Signs `claims` (a JSON object) with an RSA key. The header is {"alg":"RS256","typ":"JWT"} plus
// the members of `header_extra` (a JSON object or null; e.g. kid, x5t); header_extra may not set
// "alg" to anything but "RS256". InvalidArgument on a non-RSA key, non-object claims, strings
// that are not UTF-8, or a token longer than kMaxJwtSize.
Result<std::string> EncodeJwt(const nlohmann::json& header_extra, const nlohmann::json& claims,
                              const PrivateKey& key);

// Parses a compact JWS without verifying it (see above).
Result<ParsedJwt> ParseJwt(std::string_view token);

// OK if jwt.signature is a valid RS256 signature of jwt.signing_input under `key`.
// Unauthenticated if not; InvalidArgument if the key is not RSA or jwt.header["alg"] != "RS256".
Status VerifyJwtSignature(const ParsedJwt& jwt, const PublicKey& key);

// Checks the NumericDate claims against now_unix, allowing skew_seconds (>= 0) of clock skew:
// "exp" is required and must be > now - skew; "nbf", if present, must be <= now + skew; "iat",
// if present, must be <= now + skew. Unauthenticated when the token is expired or not yet valid;
// InvalidArgument when a claim is missing or not a number.
Status ValidateTimeClaims(const nlohmann::json& claims, int64_t now_unix, int64_t skew_seconds);

}  // namespace byok::crypto
