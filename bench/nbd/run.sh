#!/usr/bin/env bash
# NBD data plane: fio's nbd engine (1 job, QD16, unix sockets, images in page cache, filled with
# random data by nbdcopy first) against the peers of docs (shared/docs/performance.md):
#   nbdkit          nbdkit file (plain, no encryption)
#   nbdkit-luks     nbdkit file --filter=luks (aes-xts-plain64)
#   qemu-nbd-luks   qemu-nbd with a LUKS1 image (aes-xts-plain64)
#   byok-nbd-plain  byok's NBD server (src/nbd) over a plain file: the protocol layer alone
# and byok targets registered with `byok_target NAME URI` (an nbd+unix URI), e.g. from
# BYOK_NBD_URI. Workloads: sequential 1 MiB read/write, random 4 KiB read/write. Targets
# alternate within every round; prints each run, then the median of ROUNDS runs per target and
# workload with ratios against nbdkit plain and nbdkit+luks.
#
# Usage: bench/nbd/run.sh
# Environment: ROUNDS (3), RUNTIME (s per run, 10), RAMP (s, 2), SIZE (image size, 2G),
#   TARGETS (space-separated subset, default all), BYOK_NBD_URI (adds target "byok"),
#   BYOK_NBD_URI_DOUBLE (adds "byok-double"; without either, bench/nbd/byok_disks.sh starts a
#   byokd and attaches a customer-key disk "byok" and a double-encryption disk "byok-double"
#   through az unless BYOK_DISKS=0; BYOKD/BYOK name its binaries), NBD_FILE_SERVER (path of
#   nbd_file_server; built in build-bench otherwise), KEEP (1 = keep the work directory).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/install-deps.sh --bench

rounds="${ROUNDS:-3}"; runtime="${RUNTIME:-10}"; ramp="${RAMP:-2}"; size="${SIZE:-2G}"
size_bytes=$(numfmt --from=iec "$size")
workloads=(read:1M write:1M randread:4k randwrite:4k)
work=$(mktemp -d /tmp/byok-bench-nbd-XXXXXX)
pidfiles=()
cleanup() {
  for p in "${pidfiles[@]}"; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

declare -A uri=()  # target name → nbd+unix URI
order=()
wanted() { [ -z "${TARGETS:-}" ] || [[ " $TARGETS " == *" $1 "* ]]; }
add_target() { uri[$1]="$2"; order+=("$1"); }
# The hook for byok itself: each byok disk is registered by its nbd+unix URI (from the
# environment, or by byok_disks.sh after it attached the disks).
byok_target() {  # NAME URI
  wanted "$1" || return 0
  add_target "$1" "$2"
}
wait_socket() {  # path: wait up to 10 s for a server's socket
  for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done
  echo "no socket at $1" >&2; return 1
}

luks_image() {  # path: a LUKS1 aes-xts-plain64 image of $size with passphrase "benchpass"
  qemu-img create -q -f luks --object secret,id=sec0,data=benchpass \
    -o key-secret=sec0,cipher-alg=aes-256,cipher-mode=xts,ivgen-alg=plain64,hash-alg=sha256,iter-time=100 \
    "$1" "$size" >&2
}

start_nbdkit() {
  truncate -s "$size" "$work/plain.img"
  nbdkit -U "$work/nbdkit.sock" -P "$work/nbdkit.pid" file "$work/plain.img"
  pidfiles+=("$work/nbdkit.pid")
  wait_socket "$work/nbdkit.sock"
  add_target nbdkit "nbd+unix:///?socket=$work/nbdkit.sock"
}

start_nbdkit_luks() {
  luks_image "$work/luks-nbdkit.img"
  printf benchpass > "$work/pass.txt"
  nbdkit -U "$work/nbdkit-luks.sock" -P "$work/nbdkit-luks.pid" file "$work/luks-nbdkit.img" \
    --filter=luks passphrase=+"$work/pass.txt"
  pidfiles+=("$work/nbdkit-luks.pid")
  wait_socket "$work/nbdkit-luks.sock"
  add_target nbdkit-luks "nbd+unix:///?socket=$work/nbdkit-luks.sock"
}

start_qemu_nbd_luks() {
  luks_image "$work/luks-qemu.img"
  qemu-nbd --object secret,id=sec0,data=benchpass -k "$work/qemu.sock" --fork -t -e 8 \
    --pid-file "$work/qemu.pid" --image-opts driver=luks,key-secret=sec0,file.filename="$work/luks-qemu.img"
  pidfiles+=("$work/qemu.pid")
  wait_socket "$work/qemu.sock"
  add_target qemu-nbd-luks "nbd+unix:///?socket=$work/qemu.sock"
}

start_byok_nbd_plain() {
  local server="${NBD_FILE_SERVER:-}"
  if [ -z "$server" ]; then
    cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DBYOK_BENCH=ON \
      -DBYOK_TESTS=OFF >&2
    cmake --build build-bench --target nbd_file_server >&2
    server=build-bench/bench/nbd_file_server
  fi
  truncate -s "$size" "$work/byok-plain.img"
  "$server" --file "$work/byok-plain.img" --unix "$work/byok-plain.sock" --export bench \
    2>"$work/byok-plain.err" &
  echo $! > "$work/byok-plain.pid"
  pidfiles+=("$work/byok-plain.pid")
  wait_socket "$work/byok-plain.sock"
  add_target byok-nbd-plain "nbd+unix:///bench?socket=$work/byok-plain.sock"
}

wanted nbdkit && start_nbdkit
wanted nbdkit-luks && start_nbdkit_luks
wanted qemu-nbd-luks && start_qemu_nbd_luks
wanted byok-nbd-plain && start_byok_nbd_plain
if [ -n "${BYOK_NBD_URI:-}${BYOK_NBD_URI_DOUBLE:-}" ]; then
  [ -n "${BYOK_NBD_URI:-}" ] && byok_target byok "$BYOK_NBD_URI"
  [ -n "${BYOK_NBD_URI_DOUBLE:-}" ] && byok_target byok-double "$BYOK_NBD_URI_DOUBLE"
elif { wanted byok || wanted byok-double; } && [ "${BYOK_DISKS:-1}" = 1 ]; then
  # A byokd with a customer-key and a double-encryption disk, set up through az (byok_disks.sh).
  source bench/nbd/byok_disks.sh
  start_byok_disks
fi
[ ${#order[@]} -gt 0 ] || { echo "no targets" >&2; exit 1; }

# Random data everywhere the workloads touch (zero pages are suspiciously fast).
head -c "$size_bytes" /dev/urandom > "$work/random.img"
for t in "${order[@]}"; do
  export_size=$(nbdinfo --size "${uri[$t]}")
  if [ "$export_size" -lt "$size_bytes" ]; then
    echo "$t: export of $export_size bytes is smaller than SIZE=$size" >&2; exit 1
  fi
  echo "filling $t with $size of random data" >&2
  nbdcopy "$work/random.img" "${uri[$t]}"
done
rm -f "$work/random.img"

# One fio run → MiB/s (1M) or IOPS (4k).
measure() {  # uri rw bs
  fio --name=bench --ioengine=nbd --uri="$1" --rw="$2" --bs="$3" --iodepth=16 --numjobs=1 \
    --time_based --runtime="$runtime" --ramp_time="$ramp" --norandommap --randrepeat=0 \
    --iomem_align=4096 --size="$size_bytes" --output-format=json --output="$work/fio.json" \
    >/dev/null 2>"$work/fio.err" || { cat "$work/fio.err" >&2; return 1; }
  python3 - "$work/fio.json" "$3" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0]
d = job["read"] if job["read"]["io_bytes"] else job["write"]
print(f'{d["bw_bytes"] / 1048576:.0f}' if sys.argv[2] == "1M" else f'{d["iops"]:.0f}')
PY
}

declare -A results=()  # "target workload" → space-separated values
for r in $(seq "$rounds"); do
  for w in "${workloads[@]}"; do
    line="round $r ${w%%:*} ${w#*:}:"
    for t in "${order[@]}"; do
      v=$(measure "${uri[$t]}" "${w%%:*}" "${w#*:}")
      results["$t $w"]+="$v "
      line+=" $t $v"
    done
    echo "$line"
  done
done

median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "median of $rounds runs (fio nbd engine, 1 job, QD16, unix socket, ${runtime}s runs, $size):"
printf '| %-15s | %18s | %19s | %18s | %19s |\n' target "seq read 1M MiB/s" "seq write 1M MiB/s" \
  "rand read 4k IOPS" "rand write 4k IOPS"
printf '|%s|%s|%s|%s|%s|\n' "-----------------" "--------------------" "---------------------" \
  "--------------------" "---------------------"
declare -A med=()
for t in "${order[@]}"; do
  row=()
  for w in "${workloads[@]}"; do
    med["$t $w"]=$(median "${results["$t $w"]}")
    row+=("${med["$t $w"]}")
  done
  printf '| %-15s | %18s | %19s | %18s | %19s |\n' "$t" "${row[@]}"
done
for base in nbdkit nbdkit-luks; do
  [ -n "${uri[$base]:-}" ] || continue
  echo
  echo "ratio vs $base:"
  for t in "${order[@]}"; do
    [ "$t" = "$base" ] && continue
    row=()
    for w in "${workloads[@]}"; do
      row+=("$(awk -v a="${med["$t $w"]}" -v b="${med["$base $w"]}" \
        'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }')")
    done
    printf '| %-15s | %18s | %19s | %18s | %19s |\n' "$t" "${row[@]}"
  done
done
