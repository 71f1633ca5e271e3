# Sourced by bench/nbd/run.sh: starts a byokd on a fresh data directory in $work, sets up the real
# Azure CLI against it and creates, exactly as a user would, a purge-protected vault with an RSA
# 2048 key, two disk encryption sets (EncryptionAtRestWithCustomerKey and
# EncryptionAtRestWithPlatformAndCustomerKeys) whose identities get wrapkey/unwrapkey/get, and
# one disk of each type (at least $size_bytes); attaches both with `byok disk attach --unix` and
# registers them as targets "byok" (customer key) and "byok-double".
# Uses $work, $size_bytes, pidfiles, wanted, byok_target and wait_socket from run.sh.
# Binaries: $BYOKD and $BYOK, else built in build-bench (Release).

start_byok_disks() {
  local byokd="${BYOKD:-}" byok="${BYOK:-}"
  if [ -z "$byokd" ] || [ -z "$byok" ]; then
    cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DBYOK_BENCH=ON \
      -DBYOK_TESTS=OFF >&2
    cmake --build build-bench --target byokd byok >&2
    byokd=build-bench/byokd
    byok=build-bench/byok
  fi
  local data="$work/byok-data"
  "$byokd" --data-dir "$data" --listen 127.0.0.1:0 --nbd-listen "" \
    --nbd-socket "$work/byok-nbd.sock" --log-level warn >"$work/byokd.out" 2>"$work/byokd.err" &
  echo $! > "$work/byokd.pid"
  pidfiles+=("$work/byokd.pid")
  for _ in $(seq 100); do grep -q '^ca: ' "$work/byokd.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ca: ' "$work/byokd.out" || { cat "$work/byokd.err" >&2; return 1; }

  eval "$("$byok" azure-cli setup --data-dir "$data" --config-dir "$work/az")"
  local rg=rg-bench loc=westeurope vault="kv-bench-$RANDOM"
  local gb=$(( (size_bytes + (1 << 30) - 1) >> 30 ))
  az group create -n "$rg" -l "$loc" -o none
  local vault_id
  vault_id=$(az keyvault create -n "$vault" -g "$rg" -l "$loc" --enable-purge-protection true \
    --query id -o tsv)
  local kid
  kid=$(az keyvault key create --vault-name "$vault" -n disk-key --kty RSA --size 2048 \
    --query key.kid -o tsv)
  local type name principal disk_id u
  for type in EncryptionAtRestWithCustomerKey EncryptionAtRestWithPlatformAndCustomerKeys; do
    name=customer; [ "$type" = EncryptionAtRestWithCustomerKey ] || name=double
    principal=$(az disk-encryption-set create -n "des-$name" -g "$rg" -l "$loc" \
      --source-vault "$vault_id" --key-url "$kid" --encryption-type "$type" \
      --query identity.principalId -o tsv)
    az keyvault set-policy -n "$vault" --object-id "$principal" \
      --key-permissions wrapkey unwrapkey get -o none
    disk_id=$(az disk create -g "$rg" -n "disk-$name" -l "$loc" --size-gb "$gb" \
      --disk-encryption-set "des-$name" --encryption-type "$type" --query id -o tsv)
    u=$("$byok" disk attach --unix --data-dir "$data" "$disk_id")
    if [ "$name" = customer ]; then byok_target byok "$u"; else byok_target byok-double "$u"; fi
  done
}
