#!/usr/bin/env bash
# AKS control plane: server-side time to create a 3-node cluster whose Managed OS disks are
# encrypted with a customer key, to scale a User pool to 100 nodes (Ephemeral and Managed OS
# disks), and byokd's memory per node. The baseline in the same run is byok's own primitive:
# creating the same number of customer-key managed disks one by one through ARM (what a cluster
# or a scale-up must do at least), reported as a ratio.
#
# Server-side time = endTime - startTime of the long-running operation (Azure-AsyncOperation
# document), polled every 20 ms with curl; the disks' time is the wall time of their PUTs, sent
# one after another by one curl on one kept-alive connection.
# Memory per node = growth of byokd's VmRSS over the scale-up / nodes added. Everything is set up
# with the real Azure CLI (bench/lib.sh); requests are ARM REST calls with az's token.
# Usage: bench/aks.sh    Environment: ROUNDS (3), NODES (100), BYOKD/BYOK (reuse binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
byok_binaries
rounds="${ROUNDS:-3}"; nodes="${NODES:-100}"
work=$(mktemp -d /tmp/byok-bench-aks-XXXXXX)
cleanup() { [ -n "${byokd_pid:-}" ] && kill "$byokd_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export HOME="$work/home"; mkdir -p "$HOME"
byok_start "$work"
loc=eastus; rg=rg-aks-bench
des_id=$(byok_des "$rg" "$loc" EncryptionAtRestWithCustomerKey des-aks)
sub=$(az account show --query id -o tsv)
base=$(az cloud show --query endpoints.resourceManager -o tsv); base="${base%/}"
token=$(az account get-access-token --query accessToken -o tsv)
ca="$REQUESTS_CA_BUNDLE"
api=2022-11-01

arm() {  # METHOD PATH [BODY] → prints the Azure-AsyncOperation URL (or nothing)
  local body="${3:-}"
  curl -sS --fail-with-body --cacert "$ca" -X "$1" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' ${body:+--data "$body"} -D "$work/headers" \
    -o "$work/body" "$base$2" || { cat "$work/body" >&2; return 1; }
  sed -n 's/^[Aa]zure-[Aa]sync[Oo]peration: *\(.*\)\r$/\1/p' "$work/headers"
}
wait_op() {  # URL → prints the server-side seconds of the operation
  local doc status
  while true; do
    doc=$(curl -sS --cacert "$ca" -H "Authorization: Bearer $token" "$1")
    status=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["status"])' "$doc")
    [ "$status" = InProgress ] || break
    sleep 0.02
  done
  [ "$status" = Succeeded ] || { echo "operation failed: $doc" >&2; return 1; }
  python3 - "$doc" <<'PY'
import json, sys
from datetime import datetime
def t(s):  # 2026-11-30T02:03:04.1234567Z (100 ns digits)
    s = s.rstrip('Z'); main, _, frac = s.partition('.')
    return datetime.fromisoformat(main).timestamp() + float('0.' + (frac or '0'))
d = json.loads(sys.argv[1]); print(f"{t(d['endTime']) - t(d['startTime']):.3f}")
PY
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$byokd_pid/status"; }
put_disks() {  # COUNT NAME-PREFIX → prints the wall seconds of the PUTs, sent one after another
  # on one kept-alive connection (one curl), so TLS set-up and process start do not count
  local start end i cfg="$work/put.cfg"
  : >"$cfg"
  for i in $(seq "$1"); do
    [ "$i" = 1 ] || echo next >>"$cfg"
    cat >>"$cfg" <<EOF2
url = "$base/subscriptions/$sub/resourceGroups/$rg/providers/Microsoft.Compute/disks/$2-$i?api-version=2022-07-02"
request = PUT
header = "Authorization: Bearer $token"
header = "Content-Type: application/json"
data = "{\\"location\\":\\"$loc\\",\\"sku\\":{\\"name\\":\\"Premium_LRS\\"},\\"properties\\":{\\"creationData\\":{\\"createOption\\":\\"Empty\\"},\\"diskSizeGB\\":128,\\"encryption\\":{\\"type\\":\\"EncryptionAtRestWithCustomerKey\\",\\"diskEncryptionSetId\\":\\"$des_id\\"}}}"
cacert = "$ca"
fail-with-body
silent
show-error
output = "/dev/null"
write-out = "%{http_code}\\n"
EOF2
  done
  start=$(date +%s.%N)
  curl --config "$cfg" >"$work/codes"
  end=$(date +%s.%N)
  if grep -qv '^20[01]$' "$work/codes"; then echo "a disk PUT failed: $(sort | uniq -c <"$work/codes")" >&2; return 1; fi
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$start" "$end"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -a create_s disks3_s scale_eph_s scale_man_s disksN_s mem_eph mem_man
for r in $(seq "$rounds"); do
  c="bench$r"
  cluster="/subscriptions/$sub/resourceGroups/$rg/providers/Microsoft.ContainerService/managedClusters/$c"
  op=$(arm PUT "$cluster?api-version=$api" "{\"location\":\"$loc\",\"identity\":{\"type\":\"SystemAssigned\"},\"properties\":{\"kubernetesVersion\":\"\",\"dnsPrefix\":\"$c\",\"diskEncryptionSetID\":\"$des_id\",\"agentPoolProfiles\":[{\"name\":\"nodepool1\",\"count\":3,\"vmSize\":\"Standard_DS2_v2\",\"osDiskType\":\"Managed\",\"osDiskSizeGB\":0,\"mode\":\"System\"}]}}")
  create_s+=("$(wait_op "$op")")
  disks3_s+=("$(put_disks 3 "r$r-three")")
  for kind in Ephemeral Managed; do
    size=Standard_DS3_v2
    before=$(rss_kib)
    op=$(arm PUT "$cluster/agentPools/${kind,,}?api-version=$api" "{\"properties\":{\"count\":$nodes,\"vmSize\":\"$size\",\"osDiskType\":\"$kind\",\"mode\":\"User\"}}")
    secs=$(wait_op "$op")
    after=$(rss_kib)
    per=$(python3 -c "print(f'{($after - $before) / $nodes:.1f}')")
    if [ "$kind" = Ephemeral ]; then scale_eph_s+=("$secs"); mem_eph+=("$per"); else scale_man_s+=("$secs"); mem_man+=("$per"); fi
  done
  disksN_s+=("$(put_disks "$nodes" "r$r-many")")
  echo "round $r: create 3-node cluster ${create_s[-1]} s (3 disks by PUT: ${disks3_s[-1]} s) | scale to $nodes: ephemeral ${scale_eph_s[-1]} s, managed ${scale_man_s[-1]} s ($nodes disks by PUT: ${disksN_s[-1]} s) | memory per node: ephemeral ${mem_eph[-1]} KiB, managed ${mem_man[-1]} KiB"
  op=$(arm DELETE "$cluster?api-version=$api"); [ -z "$op" ] || wait_op "$op" >/dev/null
done
m_create=$(median "${create_s[@]}"); m_d3=$(median "${disks3_s[@]}")
m_eph=$(median "${scale_eph_s[@]}"); m_man=$(median "${scale_man_s[@]}"); m_dn=$(median "${disksN_s[@]}")
echo "median of $rounds: create a 3-node cluster (Managed OS disks, customer key) ${m_create} s = $(python3 -c "print(f'{$m_create/$m_d3:.2f}')")x creating 3 such disks by PUT (${m_d3} s)"
echo "median of $rounds: scale a User pool 0 → $nodes: Ephemeral ${m_eph} s, Managed ${m_man} s = $(python3 -c "print(f'{$m_man/$m_dn:.2f}')")x creating $nodes such disks by PUT (${m_dn} s)"
echo "memory per node (byokd VmRSS growth / nodes): Ephemeral $(median "${mem_eph[@]}") KiB, Managed $(median "${mem_man[@]}") KiB"
