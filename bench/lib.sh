# Sourced by bench scripts: byokd on a fresh data directory, the real Azure CLI logged in to it,
# and a customer-key setup made exactly as a user would make it.
#   byok_binaries        sets $byokd and $byok ($BYOKD/$BYOK, else a Release build in build-bench)
#   byok_start DIR [ARGS...]  starts byokd with --data-dir DIR/data (extra byokd ARGS), writes
#                        DIR/byokd.pid, waits until it listens, sets $byokd_pid and $byok_data
#                        and points az at it (byok azure-cli setup; config in DIR/az)
#   byok_des RG LOC TYPE NAME   vault + RSA-2048 key (once per RG) and a disk encryption set of
#                        encryption TYPE whose identity gets get/wrapkey/unwrapkey; prints its id
#   nginx_start DIR WORKERS BODY   the HTTPS peer: nginx with WORKERS worker processes, no access
#                        log, a P-256 certificate, answering every request 200 with the JSON BODY
#                        (no single quotes); files and DIR/nginx.pid in DIR; sets $nginx_port
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

nginx_start() {  # DIR WORKERS BODY
  local dir=$1 workers=$2 body=$3
  command -v nginx >/dev/null || apt-get install -y -q nginx-light >&2 || apt-get install -y -q nginx >&2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$dir/nginx.key" -out "$dir/nginx.crt" 2>/dev/null
  nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$dir/nginx.conf" <<CONF
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/nginx.err warn;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nginx_port ssl default_server;
    ssl_certificate $dir/nginx.crt; ssl_certificate_key $dir/nginx.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_requests 100000000;
    location / { default_type application/json; return 200 '$body'; }
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir"
  for _ in $(seq 50); do [ -s "$dir/nginx.pid" ] && return 0; sleep 0.1; done
  echo "nginx did not start (see $dir/nginx.err)" >&2; return 1
}
