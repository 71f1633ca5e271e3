// The four PATCH flavours of the Kubernetes API, applied to JSON objects of the served kinds:
//
//   application/json-patch+json             RFC 6902 JSON patch (add/remove/replace/move/copy/test)
//   application/merge-patch+json            RFC 7386 JSON merge patch (maps merge, null deletes,
//                                           lists replace)
//   application/strategic-merge-patch+json  Kubernetes' strategic merge patch: a merge patch in
//                                           which the lists Kubernetes merges by key are merged
//                                           element-wise (MergeListKey), metadata.finalizers is
//                                           merged as a set, and the directives `$patch`
//                                           (replace|delete|merge, in maps and list elements),
//                                           `$retainKeys`, `$deleteFromPrimitiveList/<field>` and
//                                           `$setElementOrder/<field>` are honoured.
//   application/apply-patch+yaml            server-side apply (ServerSideApply), with a JSON body.
//
// Server-side apply, as byok does it: the applied configuration is merged into the live object
// like a strategic merge patch; fields the same field manager applied last time and no longer
// applies are removed; metadata.managedFields gets (or updates) the manager's entry
// {manager, operation "Apply", apiVersion, time, fieldsType "FieldsV1", fieldsV1} where fieldsV1
// is the set of fields of the applied configuration ("f:<name>" for map keys, "k:<json key>" for
// keyed list elements, lists otherwise atomic). byok does not detect conflicts with other
// managers (`force` is accepted and has no effect) — a simplification of the apiserver's
// structured-merge-diff.
//
// Errors: kInvalidArgument with a message meant for the client for a malformed patch (a JSON
// patch that is not an array of operations, a merge patch that is not an object, a bad
// directive); kFailedPrecondition for a JSON patch operation that fails (a `test` that does not
// hold, a missing path, an unknown op) — the apiserver answers 400 and 422 for these.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "kube/kinds.h"

namespace byok::kube {

enum class PatchType { kJsonPatch, kMergePatch, kStrategicMergePatch, kApplyPatch };

// The patch type of a Content-Type (parameters such as "; charset=utf-8" ignored), or nullopt.
std::optional<PatchType> PatchTypeFromContentType(std::string_view content_type);

// RFC 6902.
Result<nlohmann::json> ApplyJsonPatch(const nlohmann::json& original, const nlohmann::json& patch);
// RFC 7386.
Result<nlohmann::json> ApplyMergePatch(const nlohmann::json& original, const nlohmann::json& patch);
// Strategic merge patch (see the file comment); kind is the object's kind (all served kinds share
// the list rules: metadata.ownerReferences by uid, status.conditions by type, status.addresses by
// type, metadata.finalizers as a set).
Result<nlohmann::json> ApplyStrategicMergePatch(const Kind& kind, const nlohmann::json& original,
                                                const nlohmann::json& patch);

// The merge key of the list at `path` (field names from the object's root, e.g.
// {"status","conditions"}): "type", "uid", ... ; "" for lists that are replaced whole.
std::string MergeListKey(const std::vector<std::string>& path);

// Server-side apply of `applied` (an object of `kind`) by `field_manager` to `live` (null when
// the object does not exist yet: the result is the object to create). now: byokd's clock, for the
// managedFields time.
Result<nlohmann::json> ServerSideApply(const Kind& kind, const nlohmann::json& live,
                                       const nlohmann::json& applied,
                                       std::string_view field_manager, TimePoint now);

// Records an Update by `field_manager` in metadata.managedFields of `updated` (the fields that
// differ from `before`, or all fields for a create): operation "Update", as the apiserver does
// for POST/PUT/non-apply PATCH. A manager "" records nothing.
void RecordUpdateManager(const Kind& kind, const nlohmann::json& before, nlohmann::json& updated,
                         std::string_view field_manager, TimePoint now);

}  // namespace byok::kube
