// Server-side printing: the meta.k8s.io/v1 Table `kubectl get` asks for (Accept
// "application/json;as=Table;v=v1;g=meta.k8s.io,...") and prints verbatim. Columns and cell
// formats are those of kube-apiserver 1.24–1.26's printers for each served kind (kinds.h):
//
//   Namespace              Name, Status, Age
//   Node                   Name, Status, Roles, Age, Version; wide: Internal-IP, External-IP,
//                          OS-Image, Kernel-Version, Container-Runtime
//   PersistentVolume       Name, Capacity, Access Modes, Reclaim Policy, Status, Claim,
//                          StorageClass, Reason, Age; wide: VolumeMode
//   PersistentVolumeClaim  Name, Status, Volume, Capacity, Access Modes, StorageClass, Age;
//                          wide: VolumeMode
//   Event (both groups)    Last Seen, Type, Reason, Object, Subobject*, Source*, Message,
//                          First Seen*, Count*, Name* (events.k8s.io Events are printed from
//                          their core v1 equivalents: regarding, note, deprecated*)
//   StorageClass           Name ("byok (default)" for the default class), Provisioner,
//                          ReclaimPolicy, VolumeBindingMode, AllowVolumeExpansion, Age
//   VolumeAttachment       Name, Attacher, PV, Node, Attached, Age
// ("wide" and * columns have priority 1: kubectl shows them with -o wide only; they are still in
// every row, as the apiserver prints with wide on.) Empty values print as the printers do:
// "<none>"/"<unknown>" for node addresses and versions, "<unset>" for an absent volumeMode, ""
// elsewhere; an unbound claim shows no capacity or access modes; a deleting claim or volume shows
// status "Terminating". Access modes print as RWO/ROX/RWX/RWOP joined by ','; ages as kubectl's
// short human duration of now - creationTimestamp ("<unknown>" without one, "<invalid>" in the
// future beyond a second's skew).
//
// Each row: {"cells":[...], "object": PartialObjectMetadata {"kind":"PartialObjectMetadata",
// "apiVersion":"meta.k8s.io/v1","metadata":<the object's metadata>} — or the full object when
// include_full_object (the request's includeObject=Object)}. The Table's metadata carries
// resourceVersion (list_resource_version; omitted when empty — a single get) and, when given,
// continue.
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "kube/kinds.h"

namespace byok::kube {

// Whether the Accept header asks for a meta.k8s.io/v1 Table: some media range
// application/json with as=Table, g=meta.k8s.io and v=v1 (parameters in any order). v1beta1-only
// Accepts answer false (byok serves the v1 Table only).
bool WantsTable(std::string_view accept);

// The Table of `objects` (all of `kind`), rows in the given order. now: byokd's clock.
nlohmann::json ToTable(const Kind& kind, const std::vector<nlohmann::json>& objects, TimePoint now,
                       bool include_full_object, std::string_view list_resource_version,
                       std::string_view continue_token = "");

// kubectl's short human duration (k8s.io/apimachinery duration.HumanDuration): seconds below 2
// minutes ("90s"), "5m2s" below 10 minutes, minutes below 3 hours ("170m"), "3h5m" below 8
// hours, hours below 48 ("47h"), "2d5h" below 8 days, days below 2 years ("45d"), "2y100d" below
// 8 years, then years ("9y"). Below -1s "<invalid>"; -1s..0 "0s".
std::string HumanDuration(std::chrono::seconds d);

}  // namespace byok::kube
