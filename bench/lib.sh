# Sourced by bench scripts: byokd on a fresh data directory, the real Azure CLI logged in to it,
# and a customer-key setup made exactly as a user would make it.
#   byok_binaries        sets $byokd and $byok ($BYOKD/$BYOK, else a Release build in build-bench)
#   byok_start DIR [ARGS...]  starts byokd with --data-dir DIR/data (extra byokd ARGS), writes
#                        DIR/byokd.pid, waits until it listens, sets $byokd_pid and $byok_data
#                        and points az at it (byok azure-cli setup; config in DIR/az)
#   byok_des RG LOC TYPE NAME   vault + RSA-2048 key (once per RG) and a disk encryption set of
#                        encryption TYPE whose identity gets get/wrapkey/unwrapkey; prints its id
# Every az call is the real CLI's; errors stop the caller (set -e).

byok_binaries() {
  byokd="${BYOKD:-}"; byok="${BYOK:-}"
  if [ -z "$byokd" ] || [ -z "$byok" ]; then
    # -Wno-error=restrict: GCC 12's -O3 -Wrestrict false positive on std::string assignment.
    cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DBYOK_BENCH=ON \
      -DBYOK_TESTS=OFF -DCMAKE_CXX_FLAGS=-Wno-error=restrict >&2
    cmake --build build-bench --target byokd byok >&2
    byokd=build-bench/byokd
    byok=build-bench/byok
  fi
}

byok_start() {
  local dir="$1"; shift
  byok_data="$dir/data"
  "$byokd" --data-dir "$byok_data" --listen 127.0.0.1:0 --log-level warn "$@" \
    >"$dir/byokd.out" 2>"$dir/byokd.err" &
  byokd_pid=$!
  echo "$byokd_pid" > "$dir/byokd.pid"
  for _ in $(seq 100); do grep -q '^ca: ' "$dir/byokd.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ca: ' "$dir/byokd.out" || { cat "$dir/byokd.err" >&2; return 1; }
  eval "$("$byok" azure-cli setup --data-dir "$byok_data" --config-dir "$dir/az")"
}

declare -A byok_vault_of=() byok_kid_of=()
byok_des() {
  local rg="$1" loc="$2" type="$3" name="$4"
  if [ -z "${byok_vault_of[$rg]:-}" ]; then
    az group create -n "$rg" -l "$loc" -o none
    local vault="kv-bench-$RANDOM$RANDOM"
    byok_vault_of[$rg]=$(az keyvault create -n "$vault" -g "$rg" -l "$loc" \
      --enable-purge-protection true --query id -o tsv)
    byok_kid_of[$rg]=$(az keyvault key create --vault-name "$vault" -n disk-key --kty RSA \
      --size 2048 --query key.kid -o tsv)
  fi
  local vault_id="${byok_vault_of[$rg]}" principal
  principal=$(az disk-encryption-set create -n "$name" -g "$rg" -l "$loc" \
    --source-vault "$vault_id" --key-url "${byok_kid_of[$rg]}" --encryption-type "$type" \
    --query identity.principalId -o tsv)
  az keyvault set-policy -n "${vault_id##*/}" --object-id "$principal" \
    --key-permissions wrapkey unwrapkey get -o none
  az disk-encryption-set show -n "$name" -g "$rg" --query id -o tsv
}
