// What the kube-apiserver's registry strategies do for each stored kind (kinds.h) before an
// object reaches storage: defaulting, status handling, validation with the apiserver's field
// error wording, and the events.k8s.io/v1 ⇄ core v1 Event conversion.
//
//   Namespace             name a DNS label; label kubernetes.io/metadata.name = name; status.phase
//                         Active (the "kubernetes" finalizer is not kept: deletion is synchronous).
//   PersistentVolume      defaults persistentVolumeReclaimPolicy Retain, volumeMode Filesystem,
//                         status.phase Pending on create; capacity.storage, accessModes and one
//                         volume source required.
//   PersistentVolumeClaim defaults volumeMode Filesystem, status.phase Pending on create;
//                         accessModes and resources.requests.storage (> 0) required; after creation
//                         the spec is immutable except resources.requests.storage of a Bound claim
//                         (growth only) and a volumeName set once.
//   StorageClass          provisioner required; defaults reclaimPolicy Delete, volumeBindingMode
//                         Immediate; parameters, provisioner, reclaimPolicy, volumeBindingMode
//                         immutable.
//   VolumeAttachment      spec.attacher, spec.nodeName, one source required; spec immutable.
//   Event                 involvedObject required.
// Names are DNS subdomains (namespaces: DNS labels), as ValidateObjectMeta checks them.
//
// Field errors render as k8s.io/apimachinery field.Error does:
//   "<field>: Required value", "<field>: Forbidden: <detail>",
//   "<field>: Invalid value: \"<value>\": <detail>",
//   "<field>: Unsupported value: \"<v>\": supported values: \"a\", \"b\"".
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/kinds.h"

namespace byok::kube {

struct FieldError {
  std::string type;   // StatusCause reason: "FieldValueRequired", "FieldValueForbidden", ...
  std::string field;  // "spec.accessModes"
  std::string body;   // "Required value: at least 1 access mode is required"
  std::string Message() const { return field + ": " + body; }
};

// "e" for one error, "[e1, e2]" for several (utilerrors.Aggregate).
std::string AggregateMessage(const std::vector<FieldError>& errors);
// The causes of an Invalid error's Status details: [{reason, message, field}].
nlohmann::json InvalidCauses(const std::vector<FieldError>& errors);
// The Status details of an Invalid error: {name, group (omitted for core), kind, causes}.
nlohmann::json InvalidDetails(const Kind& kind, std::string_view name,
                              const std::vector<FieldError>& errors);

// "StorageClass.storage.k8s.io", "PersistentVolumeClaim" (the kind as Invalid messages name it).
std::string QualifiedKind(const Kind& kind);
// "storageclasses.storage.k8s.io", "persistentvolumeclaims".
std::string QualifiedResource(const Kind& kind);

// (provisioner.h ParseQuantity gives whole bytes.) The quantity's value in base units (bytes for
// storage): "10Gi", "500M", "1e3", "1.5Gi"; nullopt when malformed.
std::optional<long double> ParseQuantityValue(std::string_view quantity);

// Create: defaults, status reset (status only comes through the status subresource or from
// controllers writing the store directly).
void PrepareForCreate(const Kind& kind, nlohmann::json& obj);
// Update of the main resource (status_subresource false: the stored status is kept) or of the
// status subresource (true: everything but status is kept from `old`). Applies defaults.
void PrepareForUpdate(const Kind& kind, const nlohmann::json& old, nlohmann::json& obj,
                      bool status_subresource);

std::vector<FieldError> ValidateCreate(const Kind& kind, const nlohmann::json& obj);
std::vector<FieldError> ValidateUpdate(const Kind& kind, const nlohmann::json& old,
                                       const nlohmann::json& obj);

// fieldValidation=Strict: the top-level and metadata fields the kind does not have, as the
// apiserver lists them ("unknown field \"spec2\"", ...). Empty when all are known.
std::vector<std::string> UnknownFields(const Kind& kind, const nlohmann::json& obj);

// events.k8s.io/v1 Event ⇄ core v1 Event (regarding ⇄ involvedObject, note ⇄ message,
// reportingController ⇄ reportingComponent, deprecatedSource/FirstTimestamp/LastTimestamp/Count ⇄
// source/firstTimestamp/lastTimestamp/count). apiVersion/kind set to the target's.
nlohmann::json CoreEventFromEventsV1(const nlohmann::json& event);
nlohmann::json EventsV1FromCoreEvent(const nlohmann::json& event);

}  // namespace byok::kube
