// The error table of byokd's own admin API (/_byok/admin/...; see admin_routes.h). Rendered as the
// ARM envelope {"error":{"code","message"}}. Authentication failures (401) come from the identity
// module's ARM table (Authenticator::ErrorResponse) and refusals (403 AuthorizationFailed) from
// authz::Denial, exactly as on ARM.
//
// Thread safety: constants.
#pragma once

#include "common/api_error.h"

namespace byok::daemon::errors {

// The body is not a JSON object. Arg: what is wrong.
inline constexpr ErrorSpec kInvalidRequestContent{
    "InvalidRequestContent", 400,
    "The request content was invalid and could not be deserialized: '{}'."};
// A required body property is missing or not a string. Arg: the property.
inline constexpr ErrorSpec kMissingProperty{
    "InvalidRequestContent", 400, "The request content must have the string property '{}'."};
// Arg: the parser's message (it quotes the input).
inline constexpr ErrorSpec kInvalidDuration{"InvalidDuration", 400, "{}."};
// Arg: the duration as given.
inline constexpr ErrorSpec kClockBackwards{
    "ClockCannotMoveBackwards", 400,
    "The emulated clock only moves forward; '{}' is a negative duration."};
// Arg: the parser's message.
inline constexpr ErrorSpec kInvalidSince{
    "InvalidQueryParameter", 400,
    "The query parameter 'since' must be a timestamp (2024-01-02T03:04:05Z) or a duration "
    "before now (1h, P1D): {}."};
// Arg: the limit as a duration.
inline constexpr ErrorSpec kTokenLifetimeTooLong{"InvalidTokenLifetime", 400,
                                                 "expiresIn must be at most {}."};
// Arg: the appId.
inline constexpr ErrorSpec kPrincipalNotFound{
    "PrincipalNotFound", 404, "No service principal or managed identity has the appId '{}'."};
// Arg: the resource.
inline constexpr ErrorSpec kInvalidResource{
    "InvalidResource", 400, "'{}' is not a resource this server issues tokens for."};
// Arg: the value given.
inline constexpr ErrorSpec kInvalidDiskId{
    "InvalidParameter", 400,
    "'{}' is not a managed disk resource id "
    "(/subscriptions/{{subscription}}/resourceGroups/{{group}}/providers/Microsoft.Compute/disks/"
    "{{name}})."};
// Arg: the value given.
inline constexpr ErrorSpec kInvalidClusterId{
    "InvalidParameter", 400,
    "'{}' is not a managed cluster resource id "
    "(/subscriptions/{{subscription}}/resourceGroups/{{group}}/providers/"
    "Microsoft.ContainerService/managedClusters/{{name}})."};
inline constexpr ErrorSpec kInternal{"InternalServerError", 500,
                                     "The server encountered an internal error."};

}  // namespace byok::daemon::errors
