#!/usr/bin/env bash
# The Kubernetes API of an AKS cluster (byokd's per-cluster API server and its provisioner):
#  1. PVC-to-Bound latency: PVCS claims on an Immediate StorageClass with a disk encryption set,
#     created one after another; each one's latency is from the create's response to the first
#     GET (polled every 2 ms) that shows phase Bound. p50/p99. Peer in the same run: the same
#     number of customer-key disk PUTs sent directly to ARM, one after another on one kept-alive
#     connection (the provisioner's essential work per claim), p50/p99; the ratio of the p50s.
#  2. `kubectl get pvc` over LISTED claims: wall time of the list GET (JSON, and the Table kubectl
#     asks for), whole body read, on one kept-alive TLS connection with the kubeconfig's client
#     certificate; median of LISTS requests. Peer: etcd (Debian's etcd-server, installed by
#     scripts/install-deps.sh --bench) holding the same objects as JSON under one prefix, read
#     with one range request through its v3 JSON gateway on a kept-alive connection (plain HTTP):
#     what a kube-apiserver list without its watch cache costs at least.
# Everything is set up with the real Azure CLI (bench/lib.sh); the clients are
# bench/kube_client.py. Results: medians over ROUNDS of each round's figures.
# Usage: bench/kube.sh    Environment: ROUNDS (3), PVCS (100), LISTED (1000), LISTS (20),
#        BYOKD/BYOK (reuse binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
byok_binaries
rounds="${ROUNDS:-3}"; pvcs="${PVCS:-100}"; listed="${LISTED:-1000}"; lists="${LISTS:-20}"
work=$(mktemp -d /tmp/byok-bench-kube-XXXXXX)
etcd_pid=""
cleanup() {
  [ -n "${byokd_pid:-}" ] && kill "$byokd_pid" 2>/dev/null
  [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export HOME="$work/home"; mkdir -p "$HOME"
client() { python3 bench/kube_client.py "$@"; }
py() { python3 -c "$1" "${@:2}"; }
pct() {  # JSON-LIST P → the P-th percentile (nearest rank)
  py 'import json,math,sys; v=sorted(json.loads(sys.argv[1])); p=float(sys.argv[2])
print(f"{v[max(0, math.ceil(p / 100 * len(v)) - 1)] * 1000:.2f}")' "$1" "$2"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { py 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.2f}")' "$1" "$2"; }

# etcd, if it can be had.
etcd_url=""
if ! command -v etcd >/dev/null; then scripts/install-deps.sh --bench >&2 || true; fi
if command -v etcd >/dev/null; then
  port=$(py 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  peer=$(py 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  etcd --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$port" \
    --advertise-client-urls "http://127.0.0.1:$port" --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "default=http://127.0.0.1:$peer" --log-level error \
    >"$work/etcd.out" 2>&1 &
  etcd_pid=$!
  etcd_url="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -sf "$etcd_url/health" >/dev/null && break; sleep 0.1; done
  curl -sf "$etcd_url/health" >/dev/null || { cat "$work/etcd.out" >&2; etcd_url=""; }
fi
[ -n "$etcd_url" ] || echo "etcd is not available: the list has no etcd peer" >&2

byok_start "$work"
loc=eastus; rg=rg-kube-bench
des_id=$(byok_des "$rg" "$loc" EncryptionAtRestWithCustomerKey des-kube)
az aks create -g "$rg" -n kbench -l "$loc" --node-count 1 --generate-ssh-keys -o none
principal=$(az aks show -g "$rg" -n kbench --query identity.principalId -o tsv)
# The cluster identity may use the DES (it lives outside the node resource group).
az role assignment create --role Contributor --assignee-object-id "$principal" \
  --assignee-principal-type ServicePrincipal --scope "$des_id" -o none
cfg="$work/kubeconfig"
az aks get-credentials -g "$rg" -n kbench --file "$cfg" -o none
sub=$(az account show --query id -o tsv)
base=$(az cloud show --query endpoints.resourceManager -o tsv); base="${base%/}"
token=$(az account get-access-token --query accessToken -o tsv)
table="application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

# The classes: customer-key disks, Immediate; and one nothing provisions (the listed claims).
kubectl_apply() { /usr/bin/kubectl --kubeconfig "$cfg" apply -f - >/dev/null; }
kubectl_apply <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: byok}
provisioner: disk.csi.azure.com
volumeBindingMode: Immediate
parameters: {skuname: StandardSSD_LRS, kind: managed, diskEncryptionSetID: "$des_id"}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: static}
provisioner: kubernetes.io/no-provisioner
---
apiVersion: v1
kind: Namespace
metadata: {name: listed}
EOF
client create "$cfg" listed c "$listed" static >/dev/null
[ -z "$etcd_url" ] || client etcd-put "$etcd_url" /registry/persistentvolumeclaims/ "$cfg" \
  /api/v1/namespaces/listed/persistentvolumeclaims >/dev/null
disk_body="{\"location\":\"$loc\",\"sku\":{\"name\":\"StandardSSD_LRS\"},\"properties\":{\"creationData\":{\"createOption\":\"Empty\"},\"diskSizeGB\":4,\"encryption\":{\"type\":\"EncryptionAtRestWithCustomerKey\",\"diskEncryptionSetId\":\"$des_id\"}}}"

declare -a bound50 bound99 put50 put99 json_ms table_ms etcd_ms
for r in $(seq "$rounds"); do
  lat=$(client bound "$cfg" default "r$r" "$pvcs" byok)
  bound50+=("$(pct "$lat" 50)"); bound99+=("$(pct "$lat" 99)")
  puts=$(client arm-put "$base" "$token" "$REQUESTS_CA_BUNDLE" \
    "/subscriptions/$sub/resourceGroups/$rg/providers/Microsoft.Compute/disks/r$r-peer" \
    "$pvcs" "$disk_body")
  put50+=("$(pct "$puts" 50)"); put99+=("$(pct "$puts" 99)")
  j=$(client list "$cfg" /api/v1/namespaces/listed/persistentvolumeclaims application/json "$lists")
  t=$(client list "$cfg" /api/v1/namespaces/listed/persistentvolumeclaims "$table" "$lists")
  json_ms+=("$(pct "$(py 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["seconds"]))' "$j")" 50)")
  table_ms+=("$(pct "$(py 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["seconds"]))' "$t")" 50)")
  bytes_json=$(py 'import json,sys; print(json.loads(sys.argv[1])["bytes"])' "$j")
  bytes_table=$(py 'import json,sys; print(json.loads(sys.argv[1])["bytes"])' "$t")
  line="round $r: PVC→Bound p50 ${bound50[-1]} ms p99 ${bound99[-1]} ms | disk PUT p50 ${put50[-1]} ms p99 ${put99[-1]} ms | list $listed PVCs: JSON ${json_ms[-1]} ms ($bytes_json B), Table ${table_ms[-1]} ms ($bytes_table B)"
  if [ -n "$etcd_url" ]; then
    e=$(client etcd-range "$etcd_url" /registry/persistentvolumeclaims/ "$lists")
    etcd_ms+=("$(pct "$(py 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["seconds"]))' "$e")" 50)")
    line="$line | etcd range of $(py 'import json,sys; print(json.loads(sys.argv[1])["count"])' "$e") ${etcd_ms[-1]} ms"
  fi
  echo "$line"
done
m_b50=$(median "${bound50[@]}"); m_b99=$(median "${bound99[@]}")
m_p50=$(median "${put50[@]}"); m_p99=$(median "${put99[@]}")
m_json=$(median "${json_ms[@]}"); m_table=$(median "${table_ms[@]}")
echo "median of $rounds: PVC created → Bound ($pvcs claims, Immediate, customer-key DES): p50 ${m_b50} ms, p99 ${m_b99} ms = $(ratio "$m_b50" "$m_p50")x (p50) the disk PUT alone (p50 ${m_p50} ms, p99 ${m_p99} ms)"
if [ -n "$etcd_url" ]; then
  m_etcd=$(median "${etcd_ms[@]}")
  echo "median of $rounds: list $listed PVCs: JSON ${m_json} ms = $(ratio "$m_json" "$m_etcd")x etcd's range read of the same objects (${m_etcd} ms); Table ${m_table} ms = $(ratio "$m_table" "$m_etcd")x"
else
  echo "median of $rounds: list $listed PVCs: JSON ${m_json} ms, Table ${m_table} ms (no etcd peer)"
fi
