# Sourced by bench/nbd/run.sh: starts a byokd on a fresh data directory in $work, sets up the real
# Azure CLI against it and creates, exactly as a user would, a purge-protected vault with an RSA
# 2048 key, two disk encryption sets (EncryptionAtRestWithCustomerKey and
# EncryptionAtRestWithPlatformAndCustomerKeys) whose identities get wrapkey/unwrapkey/get, and
# one disk of each type (at least $size_bytes); attaches both with `byok disk attach --unix` and
# registers them as targets "byok" (customer key) and "byok-double".
# Uses $work, $size_bytes, pidfiles, wanted, byok_target and wait_socket from run.sh.
# Binaries: $BYOKD and $BYOK, else built in build-bench (Release); see bench/lib.sh.

start_byok_disks() {
  source bench/lib.sh
  byok_binaries
  mkdir -p "$work/byok"
  byok_start "$work/byok" --nbd-listen "" --nbd-socket "$work/byok-nbd.sock"
  pidfiles+=("$work/byok/byokd.pid")
  local rg=rg-bench loc=westeurope
  local gb=$(( (size_bytes + (1 << 30) - 1) >> 30 ))
  local type name des_id disk_id u
  for type in EncryptionAtRestWithCustomerKey EncryptionAtRestWithPlatformAndCustomerKeys; do
    name=customer; [ "$type" = EncryptionAtRestWithCustomerKey ] || name=double
    des_id=$(byok_des "$rg" "$loc" "$type" "des-$name")
    disk_id=$(az disk create -g "$rg" -n "disk-$name" -l "$loc" --size-gb "$gb" \
      --disk-encryption-set "$des_id" --encryption-type "$type" --query id -o tsv)
    u=$("$byok" disk attach --unix --data-dir "$byok_data" "$disk_id")
    if [ "$name" = customer ]; then byok_target byok "$u"; else byok_target byok-double "$u"; fi
  done
}
