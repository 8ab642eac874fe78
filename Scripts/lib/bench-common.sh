# Shell functions the benchmark scripts share. Source it after setting BENCH_NAME (the
# prefix of log lines) and, for the functions that use them, OUT_DIR, SWIFT and
# SCRATCH_PATH.
#
#   log, die                 a line on stderr prefixed by BENCH_NAME; die also exits 1
#   as_root, ensure_packages install missing Debian packages (sudo when not root)
#   make_corpus TARGET SIZE  the benchmark corpus (the same bytes on the same machine)
#   binary VARIABLE PRODUCT  a binary given in $VARIABLE, else a release build of PRODUCT
#   start_work_dir NAME      a temporary folder in $work and an EXIT trap that stops every
#                            process whose pid is in the array $pids and removes $work,
#                            printing the last lines of $work/*.err when the script fails
#   free_port                a free TCP port on 127.0.0.1
#   wait_for FILE PATTERN PID WHAT   waits up to 10 s for PATTERN in FILE while PID lives
#   iperf_bidir SECONDS      iperf3 --bidir on 127.0.0.1; sets iperf_up, iperf_down (MB/s)
#                            and iperf_up_gbit, iperf_down_gbit
#   start_sim_workers N      N fpga-workers ($FPGA_WORKER) with one sim device each on
#                            127.0.0.1, sharing a fresh token $token; sets the array $workers
#   busy_before              the share (%) of the CPUs other processes kept busy over 2 s
#   ratio A B, meets RATIO TARGET, median (numbers on stdin)

log() { echo "$BENCH_NAME: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs Debian packages that are missing (one apt-get update for all).
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    fi
}

# Writes a corpus of SIZE bytes to TARGET: header text and shared libraries in one tar,
# concatenated with itself and cut to size. File order and tar metadata are fixed, so
# the same machine produces the same bytes.
make_corpus() {
    local target=$1 size=$2
    local lib_dir=/usr/lib/$(uname -m)-linux-gnu
    [ -d "$lib_dir" ] || lib_dir=/usr/lib
    local tar_file=$OUT_DIR/corpus.tar list=$OUT_DIR/corpus.list
    # Shared libraries of at most 4 MiB each, in name order, up to 64 MiB of them.
    find "$lib_dir" -maxdepth 1 -type f -name '*.so*' -size -4M -printf '%s %P\n' | sort -k2 |
        # awk reads to the end instead of exiting at the cap: an early exit could kill sort
        # with SIGPIPE, which pipefail turns into a failed benchmark (make bench: Error 141).
        awk -v cap=$((64 << 20)) -v dir="${lib_dir#/}" '{ total += $1; if (total <= cap) print dir "/" $2 }' \
            >"$list"
    log "building the corpus from /usr/include and $(wc -l <"$list") libraries in $lib_dir"
    tar -C / --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$tar_file" \
        usr/include -T "$list" 2>/dev/null || [ -s "$tar_file" ]
    local tar_size copies rest i
    tar_size=$(stat -c %s "$tar_file")
    copies=$((size / tar_size))
    rest=$((size % tar_size))
    log "corpus tar: $tar_size bytes; writing $copies copies and $rest bytes to $target"
    {
        for ((i = 0; i < copies; i++)); do cat "$tar_file"; done
        head -c "$rest" "$tar_file"
    } >"$target.tmp"
    mv "$target.tmp" "$target"
    rm -f "$tar_file" "$list"
}

# binary VARIABLE PRODUCT: the binary in $VARIABLE when set, else builds PRODUCT.
binary() {
    local variable=$1 product=$2 given build_dir=${SCRATCH_PATH:-.build}
    local swiftpm_flags=()
    [ -n "${SCRATCH_PATH:-}" ] && swiftpm_flags=(--scratch-path "$SCRATCH_PATH")
    given=${!variable:-}
    if [ -n "$given" ]; then
        [ -x "$given" ] || die "$variable=$given is not an executable"
        realpath "$given"
        return
    fi
    log "building $product (release)"
    # The Makefile's release flags: the same build, whichever target made it.
    "${SWIFT:-swift}" build -c release --static-swift-stdlib --product "$product" "${swiftpm_flags[@]}" >&2
    realpath "$build_dir/release/$product"
}

start_work_dir() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/$1-XXXXXX")
    pids=()
    trap stop_processes EXIT
    trap 'exit 130' INT TERM
}

stop_processes() {
    local status=$? pid
    set +e
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "$status" -ne 0 ]; then
        for file in "$work"/*.err; do
            [ -s "$file" ] && { log "--- $(basename "$file") (last lines)"; tail -n 15 "$file" >&2; }
        done
    fi
    rm -rf "$work"
    exit "$status"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for FILE PATTERN PID WHAT: waits up to 10 s for a line matching PATTERN in FILE.
wait_for() {
    local file=$1 pattern=$2 pid=$3 what=$4 deadline=$((SECONDS + 10))
    until grep -q "$pattern" "$file" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || die "$what exited before it was ready"
        [ "$SECONDS" -lt "$deadline" ] || die "$what was not ready within 10 s"
        sleep 0.05
    done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
meets() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "meets" : "below") }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# iperf_bidir SECONDS: what the loopback carries per direction over TCP, both at once, as the
# receiving sides counted it (MB = 10^6 bytes). Needs $work, $pids and TOOL_TIMEOUT.
iperf_bidir() {
    local seconds=$1 port
    port=$(free_port)
    iperf3 -s -B 127.0.0.1 -p "$port" --forceflush >"$work/iperf3-server.out" 2>"$work/iperf3-server.err" &
    pids+=($!)
    wait_for "$work/iperf3-server.out" "Server listening" "${pids[-1]}" "iperf3 -s"
    log "iperf3 -c 127.0.0.1 -p $port --bidir -t $seconds -J"
    timeout "${TOOL_TIMEOUT:-600}" iperf3 -c 127.0.0.1 -p "$port" --bidir -t "$seconds" -J >"$work/iperf3.json" \
        2>"$work/iperf3.err" || die "iperf3 failed: $(head -c 300 "$work/iperf3.json")"
    read -r iperf_up iperf_down iperf_up_gbit iperf_down_gbit < <(python3 - "$work/iperf3.json" <<'EOF'
import json, sys
end = json.load(open(sys.argv[1]))["end"]
up = end["sum_received"]["bits_per_second"]                   # client -> server
down = end["sum_received_bidir_reverse"]["bits_per_second"]   # server -> client
print(f"{up / 8e6:.1f} {down / 8e6:.1f} {up / 1e9:.2f} {down / 1e9:.2f}")
EOF
    )
    log "iperf3: $iperf_up_gbit Gbit/s ($iperf_up MB/s) client->server, $iperf_down_gbit Gbit/s ($iperf_down MB/s) server->client"
    kill -TERM "${pids[-1]}" 2>/dev/null || true
}

# start_sim_workers N: N fpga-workers on 127.0.0.1 ports the system picks, each with one
# simulated device, sharing a fresh token (mode 600) in $token.
start_sim_workers() {
    local count=$1 index
    token=$work/token
    head -c 32 /dev/urandom | base64 >"$token"
    chmod 600 "$token"
    workers=()
    for ((index = 1; index <= count; index++)); do
        "$FPGA_WORKER" --listen 127.0.0.1:0 --device sim --token-file "$token" \
            >"$work/worker$index.out" 2>"$work/worker$index.err" &
        pids+=($!)
        wait_for "$work/worker$index.out" '^listening on ' "${pids[-1]}" "worker$index"
        workers+=("$(sed -n 's/^listening on //p' "$work/worker$index.out" | head -n 1)")
    done
    log "workers: ${workers[*]}"
}

# busy_before: the share of the CPUs that other processes kept busy over 2 s before a run:
# figures taken on a machine that is not idle are lower than it could reach.
busy_before() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    sleep 2
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
        printf "%.0f", (y[2] > x[2] ? 100 * (y[1] - x[1]) / (y[2] - x[2]) : 0) }'
}
