// The ARM error table: every error the Azure Resource Manager front end and the
// Microsoft.Resources provider return, with Azure's codes and message wording (checked against
// public reports of real responses). Rendered as {"error":{"code","message"}}.
#pragma once

#include "common/api_error.h"

namespace byok::arm::errors {

inline constexpr ErrorSpec kMissingApiVersion{
    "MissingApiVersionParameter", 400,
    "The api-version query parameter (?api-version=) is required for all requests."};
inline constexpr ErrorSpec kInvalidApiVersion{
    "InvalidApiVersionParameter", 400,
    "The api-version '{}' is invalid. The supported versions are '{}'."};
inline constexpr ErrorSpec kInvalidResourceType{
    "InvalidResourceType", 400,
    "The resource type '{}' could not be found in the namespace '{}' for api version '{}'."};
inline constexpr ErrorSpec kInvalidResourceNamespace{"InvalidResourceNamespace", 400,
                                                     "The resource namespace '{}' is invalid."};
inline constexpr ErrorSpec kNoRouteFound{
    "NoRegisteredProviderFound", 400,
    "No registered resource provider found for the request path '{}' and API version '{}'."};
inline constexpr ErrorSpec kInvalidSubscriptionId{
    "InvalidSubscriptionId", 400,
    "The provided subscription identifier '{}' is malformed or invalid."};
inline constexpr ErrorSpec kSubscriptionNotFound{"SubscriptionNotFound", 404,
                                                 "The subscription '{}' could not be found."};
inline constexpr ErrorSpec kResourceGroupNotFound{"ResourceGroupNotFound", 404,
                                                  "Resource group '{}' could not be found."};
inline constexpr ErrorSpec kResourceNotFound{
    "ResourceNotFound", 404,
    "The Resource '{}' under resource group '{}' was not found. For more details please go to "
    "https://aka.ms/ARMResourceNotFoundFix"};
inline constexpr ErrorSpec kResourceGroupBeingDeleted{
    "ResourceGroupBeingDeleted", 409,
    "The resource group '{}' is in deprovisioning state and cannot perform this operation."};
inline constexpr ErrorSpec kInvalidResourceGroupName{
    "InvalidResourceGroupName", 400,
    "The provided resource group name '{}' has these invalid characters: '{}'. The name can only "
    "be a letter, digit, '-', '.', '(', ')' or '_'."};
inline constexpr ErrorSpec kResourceGroupNameTooLong{
    "InvalidResourceGroupName", 400,
    "The provided resource group name '{}' is too long. The name can be at most 90 characters."};
inline constexpr ErrorSpec kResourceGroupNameEndsWithPeriod{
    "InvalidResourceGroupName", 400,
    "The provided resource group name '{}' ends with a period, which is not allowed."};
inline constexpr ErrorSpec kLocationRequired{
    "LocationRequired", 400, "The location property is required for this definition."};
inline constexpr ErrorSpec kLocationNotAvailableForResourceGroup{
    "LocationNotAvailableForResourceGroup", 400,
    "The provided location '{}' is not available for resource group. List of available regions "
    "is '{}'."};
inline constexpr ErrorSpec kLocationNotAvailableForResourceType{
    "LocationNotAvailableForResourceType", 400,
    "The provided location '{}' is not available for resource type '{}'. List of available "
    "regions for the resource type is '{}'."};
inline constexpr ErrorSpec kInvalidResourceLocation{
    "InvalidResourceLocation", 409,
    "The resource '{}' already exists in location '{}' in resource group '{}'. A resource with "
    "the same name cannot be created in location '{}'. Please select a new resource name."};
inline constexpr ErrorSpec kInvalidRequestContent{
    "InvalidRequestContent", 400,
    "The request content was invalid and could not be deserialized: '{}'."};
inline constexpr ErrorSpec kInvalidRequestFormat{"InvalidRequestFormat", 400,
                                                 "Cannot parse the request: {}."};
inline constexpr ErrorSpec kInvalidTagName{
    "InvalidTagNameCharacters", 400,
    "The tag names '{}' have reserved characters '<,>,%,&,\\,?,/' or control characters."};
inline constexpr ErrorSpec kTooManyTags{
    "InvalidTag", 400, "The number of tags for resource '{}' exceeds the maximum of 50."};
inline constexpr ErrorSpec kPreconditionFailed{
    "PreconditionFailed", 412,
    "The condition specified using HTTP conditional header(s) is not met."};
inline constexpr ErrorSpec kInvalidFilter{"InvalidFilterInQueryString", 400,
                                          "Invalid $filter '{}' specified in the query string."};
inline constexpr ErrorSpec kAuthorizationFailed{
    "AuthorizationFailed", 403,
    "The client '{}' with object id '{}' does not have authorization to perform action '{}' over "
    "scope '{}' or the scope is invalid. If access was recently granted, please refresh your "
    "credentials."};
inline constexpr ErrorSpec kLinkedAuthorizationFailed{
    "LinkedAuthorizationFailed", 403,
    "The client '{}' with object id '{}' has permission to perform action '{}' on scope '{}'; "
    "however, it does not have permission to perform action(s) '{}' on the linked scope(s) '{}' "
    "(respectively) or the linked scope(s) are invalid."};
inline constexpr ErrorSpec kOperationNotFound{"OperationNotFound", 404,
                                              "The operation '{}' could not be found."};
inline constexpr ErrorSpec kMethodNotAllowed{"MethodNotAllowed", 405,
                                             "The requested method '{}' is not allowed for '{}'."};
inline constexpr ErrorSpec kInternalError{
    "InternalServerError", 500,
    "Encountered internal server error. Diagnostic information: timestamp '{}', request id '{}'."};

}  // namespace byok::arm::errors

namespace byok::arm::errors {
inline constexpr ErrorSpec kInvalidResourceGroupLocation{
    "InvalidResourceGroupLocation", 409,
    "Invalid resource group location '{}'. The Resource group already exists in location '{}'."};
}  // namespace byok::arm::errors
