// The authz module's error table: every Azure error the RBAC service answers is one ErrorSpec
// here (Microsoft.Authorization's codes and wording as Azure writes them), turned into an ApiError
// with MakeError(spec, args...). Arguments are listed above each spec, in order.
//
// Sources for the wording: Azure's own responses as quoted in public issue threads (Azure CLI,
// Terraform azurerm, Bicep, azure-powershell, Azure Landing Zones). Specs marked "byok" have no
// public sample of Azure's exact text; their codes and messages are byok's best match.
//
// Thread safety: constants.
#pragma once

#include "common/api_error.h"

namespace byok::authz::errors {

// The caller lacks a permission. Args: client (app id, or the object id for service principals as
// Azure writes it), object id, action, scope.
inline constexpr ErrorSpec kAuthorizationFailed{
    "AuthorizationFailed", 403,
    "The client '{}' with object id '{}' does not have authorization to perform action '{}' over "
    "scope '{}' or the scope is invalid. If access was recently granted, please refresh your "
    "credentials."};

// Same principal + role + scope already assigned under another name. No args.
inline constexpr ErrorSpec kRoleAssignmentExists{"RoleAssignmentExists", 409,
                                                 "The role assignment already exists."};

// PUT of an existing assignment name with another principal or role. No args.
inline constexpr ErrorSpec kRoleAssignmentUpdateNotPermitted{
    "RoleAssignmentUpdateNotPermitted", 400,
    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated."};

// The assignment name is not a GUID. Arg: the name.
inline constexpr ErrorSpec kInvalidRoleAssignmentId{
    "InvalidRoleAssignmentId", 400,
    "The role assignment ID '{}' is not valid. The role assignment ID must be a GUID."};

// GET of an assignment that does not exist. Arg: the name. (byok wording)
inline constexpr ErrorSpec kRoleAssignmentNotFound{"RoleAssignmentNotFound", 404,
                                                   "The role assignment '{}' is not found."};

// properties.principalId is missing or not a GUID. Arg: the value ('' when missing).
inline constexpr ErrorSpec kInvalidPrincipalId{
    "InvalidPrincipalId", 400, "The Principal ID '{}' is not valid. Principal ID must be a GUID."};

// properties.principalId names no principal of the directory. Args: principal id, tenant id.
inline constexpr ErrorSpec kPrincipalNotFound{
    "PrincipalNotFound", 400,
    "Principal {} does not exist in the directory {}. Check that you have the correct principal "
    "ID. If you are creating this principal and then immediately assigning a role, this error "
    "might be related to a replication delay. In this case, set the role assignment principalType "
    "property to a value, such as ServicePrincipal, User, or Group.  See "
    "https://aka.ms/docs-principaltype"};

// properties.roleDefinitionId is missing or not a role-definition resource id. Arg: the value.
inline constexpr ErrorSpec kInvalidRoleDefinitionId{"InvalidRoleDefinitionId", 400,
                                                    "The role definition ID '{}' is not valid."};

// GET of a role definition that does not exist. Arg: the GUID (as requested).
inline constexpr ErrorSpec kRoleDefinitionDoesNotExist{
    "RoleDefinitionDoesNotExist", 404,
    "The specified role definition with ID '{}' does not exist."};

// A role assignment names a role definition that does not exist. Arg: the GUID.
inline constexpr ErrorSpec kRoleDefinitionDoesNotExistInRequest{
    "RoleDefinitionDoesNotExist", 400,
    "The specified role definition with ID '{}' does not exist."};

// The body is not an object with a "properties" object, or a property has the wrong JSON type.
// No args.
inline constexpr ErrorSpec kBadRequestFormat{"BadRequestFormat", 400,
                                             "The request was incorrectly formatted."};

// Role-assignment $filter not understood. Arg: the filter. (code: byok)
inline constexpr ErrorSpec kUnsupportedRoleAssignmentFilter{
    "UnsupportedQuery", 400,
    "The filter '{}' is not supported. Supported filters are either 'atScope()' or 'principalId "
    "eq '{{value}}'' or 'assignedTo('{{value}}')'."};

// Role-definition $filter not understood. Arg: the filter. (byok)
inline constexpr ErrorSpec kUnsupportedRoleDefinitionFilter{
    "UnsupportedQuery", 400,
    "The filter '{}' is not supported. Supported filters are 'roleName eq '{{value}}'' and 'type "
    "eq '{{value}}''."};

// The scope in the request path is not a resource id (nor "/"). Arg: the scope. (byok)
inline constexpr ErrorSpec kInvalidScope{"InvalidScope", 400, "The scope '{}' is not valid."};

// The store stayed busy (retryable). No args. (byok)
inline constexpr ErrorSpec kServiceUnavailable{
    "ServiceUnavailable", 503,
    "The authorization service is temporarily unavailable. Please retry the request."};

// An unexpected store failure. No args (details go to the log only).
inline constexpr ErrorSpec kInternalServerError{
    "InternalServerError", 500,
    "The server encountered an internal error. Please retry the request."};

}  // namespace byok::authz::errors
