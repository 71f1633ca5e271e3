// Classifying an ARM request path: which resource, collection or action it addresses.
//
//   /subscriptions                                   collection of
//   Microsoft.Resources/subscriptions /subscriptions/{s}                               resource
//   Microsoft.Resources/subscriptions /subscriptions/{s}/resourcegroups[/{rg}]         collection /
//   resource Microsoft.Resources/resourceGroups {sub or rg}/resources collection
//   Microsoft.Resources/resources /subscriptions/{s}/locations                     collection
//   Microsoft.Resources/locations /subscriptions/{s}/providers[/{ns}]              collection /
//   resource Microsoft.Resources/providers {scope}/providers/{ns}/{t1}/{n1}.../{tk}/{nk} resource
//   {ns}/{t1}/.../{tk} {scope}/providers/{ns}/{t1}/{n1}.../{tk}         collection
//   {ns}/{t1}/.../{tk} under the rest POST {resource}/{action}                         action on a
//   resource (odd trailing segment) POST {scope}/providers/{ns}/{action}             action on the
//   namespace at scope
// {scope} may itself be a resource (extension resources such as role assignments).
// Pure function; a fuzz-friendly parser (no allocation limits beyond the path's length).
#pragma once

#include <string>
#include <string_view>

#include "arm/resource_id.h"
#include "common/status.h"

namespace byok::gateway {

struct ArmPath {
  enum class Kind { kResource, kCollection, kAction };
  Kind kind = Kind::kResource;
  // Full type of the addressed resource, of the collection's items, or of the resource an action
  // applies to ("Microsoft.Resources/resourceGroups", "Microsoft.KeyVault/vaults/keys").
  std::string type;
  // kResource / kAction on a resource: the resource's id. kCollection: the id of the scope the
  // collection hangs off (tenant scope: kind() == kTenant).
  arm::ResourceId id;
  // kAction only: the action name as sent ("listClusterUserCredential", "purge").
  std::string action;
};

// Parses a percent-decoded request path. `is_post` decides whether an odd trailing segment is an
// action (POST) or a collection (any other method).
Result<ArmPath> ParseArmPath(std::string_view path, bool is_post);

}  // namespace byok::gateway
