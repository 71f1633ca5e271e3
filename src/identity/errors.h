// The identity module's error tables: one per API it answers for. Every error the token service,
// the authenticator and the Microsoft Graph subset return is one ErrorSpec here, made into an
// ApiError with MakeError(spec, args...).
//
//   entra::    the OAuth2 token endpoints. `code` is the OAuth2 "error" value, `message` is the
//              "error_description" and starts with "AADSTS<number>: " (the number is also sent
//              as "error_codes"). Rendered by the token routes as Entra's JSON error body.
//   arm::      authentication failures of Azure Resource Manager (401 + WWW-Authenticate).
//   graph::    Microsoft Graph ({"error":{"code","message","innerError":{...}}}).
//   keyvault:: authentication failures of the Key Vault data plane (generic for now; the
//              keyvault module adds its challenge).
//
// Wording follows what Azure returns (as quoted in public reports); users' scripts grep for it.
// Arguments are documented per entry; values echoed from requests are truncated by the caller.
//
// Thread safety: constants.
#pragma once

#include "common/api_error.h"

namespace byok::identity::errors {

namespace entra {

// Arg: the client id.
inline constexpr ErrorSpec kInvalidClientSecret{
    "invalid_client", 401,
    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request "
    "is the client secret value, not the client secret ID, for a secret added to app '{}'."};
// No args.
inline constexpr ErrorSpec kMissingClientSecret{
    "invalid_client", 401,
    "AADSTS7000216: 'client_assertion', 'client_secret' or 'request' is required for the "
    "'client_credentials' grant type."};
// Args: the client id, the tenant id.
inline constexpr ErrorSpec kUnknownClient{
    "unauthorized_client", 400,
    "AADSTS700016: Application with identifier '{}' was not found in the directory '{}'. This can "
    "happen if the application has not been installed by the administrator of the tenant or "
    "consented to by any user in the tenant. You may have sent your authentication request to "
    "the wrong tenant."};
// Arg: the grant type asked for.
inline constexpr ErrorSpec kUnsupportedGrantType{
    "unsupported_grant_type", 400,
    "AADSTS70003: The app requested an unsupported grant type '{}'."};
// Arg: the parameter's name.
inline constexpr ErrorSpec kMissingParameter{
    "invalid_request", 400,
    "AADSTS900144: The request body must contain the following parameter: '{}'."};
// Arg: the scope as sent.
inline constexpr ErrorSpec kInvalidScope{
    "invalid_scope", 400,
    "AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope {} "
    "is not valid."};
// Args: the resource, the tenant id.
inline constexpr ErrorSpec kInvalidResource{
    "invalid_resource", 400,
    "AADSTS500011: The resource principal named {} was not found in the tenant named {}. This can "
    "happen if the application has not been installed by the administrator of the tenant or "
    "consented to by any user in the tenant. You might have sent your authentication request to "
    "the wrong tenant."};
// Arg: the tenant path segment.
inline constexpr ErrorSpec kTenantNotFound{
    "invalid_request", 400,
    "AADSTS90002: Tenant '{}' not found. Check to make sure you have the correct tenant ID and "
    "are signing into the correct cloud."};
// No args (details go to the log only).
inline constexpr ErrorSpec kServerError{
    "server_error", 500, "AADSTS50000: There was an error issuing a token. Please retry."};

}  // namespace entra

namespace arm {

// No args.
inline constexpr ErrorSpec kMissingAuthorization{
    "AuthenticationFailed", 401, "Authentication failed. The 'Authorization' header is missing."};
// Not "Bearer <token>". No args.
inline constexpr ErrorSpec kInvalidAuthorizationFormat{
    "AuthenticationFailed", 401,
    "Authentication failed. The 'Authorization' header is provided in an invalid format."};
// Not a well-formed RS256 JWT (also alg "none"), or required claims missing. No args.
inline constexpr ErrorSpec kInvalidToken{"InvalidAuthenticationToken", 401,
                                         "The access token is invalid."};
// Unknown key id or a signature that does not verify. No args.
inline constexpr ErrorSpec kInvalidSignature{"InvalidAuthenticationToken", 401,
                                             "The access token has an invalid signature."};
// Args: exp, now (FormatDotNetUtc).
inline constexpr ErrorSpec kExpiredToken{
    "ExpiredAuthenticationToken", 401,
    "The access token expiry UTC time '{}' is earlier than current UTC time '{}'."};
// Args: nbf, now (FormatDotNetUtc).
inline constexpr ErrorSpec kTokenNotYetValid{
    "InvalidAuthenticationToken", 401,
    "The access token validity start UTC time '{}' is later than current UTC time '{}'."};
// Args: the token's audience; the allowed audiences as "'a','b'".
inline constexpr ErrorSpec kWrongAudience{
    "InvalidAuthenticationTokenAudience", 401,
    "The access token has been obtained for wrong audience or resource '{}'. It should exactly "
    "match with one of the allowed audiences {}."};
// Args: the token's issuer, the expected issuer, the authority to use.
inline constexpr ErrorSpec kWrongIssuer{
    "InvalidAuthenticationTokenTenant", 401,
    "The access token is from the wrong issuer '{}'. It must match the tenant '{}' associated "
    "with this subscription. Please use the authority (URL) '{}' to get the token."};
// No oid claim, or the principal no longer exists (deleted after the token was issued). No args.
inline constexpr ErrorSpec kUnknownPrincipal{
    "InvalidAuthenticationToken", 401,
    "The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or "
    "'oid' should be present. If you are accessing as application please make sure service "
    "principal is properly created in the tenant."};
// The directory could not be read. No args.
inline constexpr ErrorSpec kInternalError{
    "InternalServerError", 500,
    "The server encountered an internal error. Please retry the request."};

}  // namespace arm

namespace graph {

// Authentication failures (401). No args.
inline constexpr ErrorSpec kMissingToken{"InvalidAuthenticationToken", 401,
                                         "Access token is empty."};
inline constexpr ErrorSpec kMalformedToken{"InvalidAuthenticationToken", 401,
                                           "CompactToken parsing failed with error code: 80049217"};
inline constexpr ErrorSpec kInvalidToken{"InvalidAuthenticationToken", 401,
                                         "Access token validation failure."};
inline constexpr ErrorSpec kInvalidAudience{"InvalidAuthenticationToken", 401,
                                            "Access token validation failure. Invalid audience."};
inline constexpr ErrorSpec kInvalidIssuer{"InvalidAuthenticationToken", 401,
                                          "Access token validation failure. Invalid issuer."};
inline constexpr ErrorSpec kExpiredToken{"InvalidAuthenticationToken", 401,
                                         "Access token has expired or is not yet valid."};
// GET /me with an app-only token. No args.
inline constexpr ErrorSpec kMeRequiresDelegated{
    "BadRequest", 400, "/me request is only valid with delegated authentication flow."};
// Arg: the $filter text.
inline constexpr ErrorSpec kInvalidFilter{"BadRequest", 400, "Invalid filter clause: {}"};
// A well-formed filter on a property byok does not filter by. Arg: the property.
inline constexpr ErrorSpec kUnsupportedFilter{
    "Request_UnsupportedQuery", 400,
    "Unsupported or invalid query filter clause specified for property '{}' of resource "
    "'ServicePrincipal'."};
// Arg: the id asked for.
inline constexpr ErrorSpec kNotFound{
    "Request_ResourceNotFound", 404,
    "Resource '{}' does not exist or one of its queried reference-property objects are not "
    "present."};
// No args.
inline constexpr ErrorSpec kUnreadableJson{
    "BadRequest", 400,
    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload "
    "is of valid JSON format."};
// Args: the property, the resource type.
inline constexpr ErrorSpec kInvalidProperty{
    "Request_BadRequest", 400, "Invalid value specified for property '{}' of resource '{}'."};
// No args.
inline constexpr ErrorSpec kInternalError{
    "InternalServerError", 500, "An internal server error occurred. Please retry the request."};

}  // namespace graph

namespace keyvault {

// No args.
inline constexpr ErrorSpec kMissingToken{"Unauthorized", 401,
                                         "AKV10000: Request is missing a Bearer or PoP token."};
// No args.
inline constexpr ErrorSpec kInvalidToken{"Unauthorized", 401, "The access token is invalid."};
// No args.
inline constexpr ErrorSpec kUnknownSigningKey{
    "Unauthorized", 401, "AKV10046: Unable to resolve the key used for signature validation."};
// Args: the expected audience(s), the token's audience.
inline constexpr ErrorSpec kInvalidAudience{"Unauthorized", 401,
                                            "AKV10022: Invalid audience. Expected {}, found: {}."};
// Args: the expected issuers, the token's issuer.
inline constexpr ErrorSpec kInvalidIssuer{
    "Unauthorized", 401, "AKV10032: Invalid issuer. Expected one of {}, found {}."};
// No args.
inline constexpr ErrorSpec kExpiredToken{"Unauthorized", 401,
                                         "[TokenExpired] Error validating token: 'S2S12086'."};
// No args.
inline constexpr ErrorSpec kTokenNotYetValid{"Unauthorized", 401, "Token not yet valid."};
// No args.
inline constexpr ErrorSpec kInternalError{
    "InternalServerError", 500, "The server encountered an internal error. Please retry."};

}  // namespace keyvault

}  // namespace byok::identity::errors
