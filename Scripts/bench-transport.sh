#!/usr/bin/env bash
# Measures remote workers on loopback, one run of each, and prints the figures with their
# ratios to the targets:
#
#   (a) iperf3 --bidir on 127.0.0.1: what the loopback carries per direction over TCP
#   (b) fpga-transport-bench throughput: EchoJob over SIZE bytes through two fpga-workers,
#       MB/s per direction, against 0.7x iperf3's per-direction rate
#   (c) fpga-compress --workers A,B against fpga-compress --local 2 on the same input,
#       against 0.75x the local rate
#   (d) fpga-transport-bench latency: one 4 KiB chunk at a time through one worker, the
#       median round trip against 1 ms
#
# Usage: Scripts/bench-transport.sh            (from anywhere, or via `make bench-transport`)
#
# Environment:
#   FPGA_WORKER           fpga-worker binary; built in release mode when unset
#   FPGA_COMPRESS         fpga-compress binary; built when unset
#   FPGA_TRANSPORT_BENCH  fpga-transport-bench binary; built when unset
#   SCRATCH_PATH          SwiftPM scratch path for those builds (.build)
#   SWIFT                 the swift driver (swift)
#   INPUT                 input of (c); default: bench-out/corpus-SIZE, the corpus of
#                         Scripts/bench-compress.sh, reused when present, else generated
#   SIZE                  bytes echoed in (b), and of the generated corpus: a number with an
#                         optional K, M or G suffix (1G)
#   CHUNK_SIZE            chunk size of (b) and (c) (1M)
#   IPERF_SECONDS         duration of (a) (10)
#   LATENCY_SAMPLES       timed round trips per path in (d) (2000)
#   OUT_DIR               where the corpus and outputs go (bench-out)
#   TOOL_TIMEOUT          seconds any one measured command may take before it is killed (600)
#
# Everything listens on 127.0.0.1 only. The workers share a fresh token (mode 600). An
# EXIT trap kills every process the script started. The script fails when a tool fails
# or an output is wrong, never because something was slow.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

SWIFT=${SWIFT:-swift}
SCRATCH_PATH=${SCRATCH_PATH:-}
OUT_DIR=${OUT_DIR:-bench-out}
SIZE=${SIZE:-1G}
SIZE_BYTES=$(numfmt --from=iec "$SIZE")
CHUNK_SIZE=${CHUNK_SIZE:-1M}
IPERF_SECONDS=${IPERF_SECONDS:-10}
LATENCY_SAMPLES=${LATENCY_SAMPLES:-2000}
TOOL_TIMEOUT=${TOOL_TIMEOUT:-600}
ECHO_TARGET=0.7
COMPRESS_TARGET=0.75
LATENCY_TARGET_US=1000

BENCH_NAME=bench-transport
# shellcheck source=lib/bench-common.sh
source Scripts/lib/bench-common.sh

# MARK: Tools

ensure_packages iperf3 python3 gzip time
for tool in iperf3 python3 gzip /usr/bin/time numfmt; do
    command -v "$tool" >/dev/null || die "missing $tool"
done

FPGA_WORKER=$(binary FPGA_WORKER fpga-worker)
FPGA_COMPRESS=$(binary FPGA_COMPRESS fpga-compress)
FPGA_TRANSPORT_BENCH=$(binary FPGA_TRANSPORT_BENCH fpga-transport-bench)

# MARK: Processes

start_work_dir fpga-bench-transport

cores=$(nproc)
log "$cores cores; binaries: $FPGA_WORKER, $FPGA_COMPRESS, $FPGA_TRANSPORT_BENCH"
busy=$(busy_before)
log "CPUs busy with other work before the run: $busy% (of $cores cores)"

# MARK: (a) iperf3

log "(a) iperf3 --bidir"
iperf_bidir "$IPERF_SECONDS"

# MARK: Workers

start_sim_workers 2
both="${workers[0]},${workers[1]}"

# MARK: (b) echo throughput

log "(b) fpga-transport-bench --mode throughput --workers $both --bytes $SIZE --chunk-size $CHUNK_SIZE"
timeout "$TOOL_TIMEOUT" "$FPGA_TRANSPORT_BENCH" --mode throughput --workers "$both" --token-file "$token" --bytes "$SIZE" \
    --chunk-size "$CHUNK_SIZE" | tee "$work/throughput.txt"
echo_up=$(awk 'NF == 4 && $1 == "client->worker" { print $4 }' "$work/throughput.txt")
echo_down=$(awk 'NF == 4 && $1 == "worker->client" { print $4 }' "$work/throughput.txt")
[ -n "$echo_up" ] && [ -n "$echo_down" ] || die "no throughput figures from fpga-transport-bench"

# MARK: (c) compression

mkdir -p "$OUT_DIR"
if [ -z "${INPUT:-}" ]; then
    INPUT=$OUT_DIR/corpus-$SIZE
    if [ ! -f "$INPUT" ] || [ "$(stat -c %s "$INPUT")" != "$SIZE_BYTES" ]; then
        make_corpus "$INPUT" "$SIZE_BYTES"
    fi
fi
[ -f "$INPUT" ] || die "no such input: $INPUT"
input_bytes=$(stat -c %s "$INPUT")
cat "$INPUT" >/dev/null

# compress NAME OUTPUT ARGS...: times fpga-compress; sets seconds[NAME] and rss[NAME].
declare -A seconds rss
compress() {
    local name=$1 output=$2 s m
    shift 2
    log "(c) fpga-compress $* -q -f --chunk-size $CHUNK_SIZE -o $output $INPUT"
    /usr/bin/time -f '%e %M' -o "$work/time.txt" timeout "$TOOL_TIMEOUT" "$FPGA_COMPRESS" "$@" -q -f --chunk-size "$CHUNK_SIZE" \
        -o "$output" "$INPUT" 2>"$work/$name.err" || die "fpga-compress $* failed: $(tail -n 3 "$work/$name.err")"
    read -r s m <"$work/time.txt"
    seconds[$name]=$s
    rss[$name]=$m
}
remote_out=$OUT_DIR/out.remote.gz
local_out=$OUT_DIR/out.local.gz
compress remote "$remote_out" --workers "$both" --token-file "$token"
compress local "$local_out" --local 2
gzip -t "$remote_out" || die "gzip -t rejected $remote_out"
cmp -s "$remote_out" "$local_out" || die "the remote output differs from the local one"
log "(c) outputs identical, gzip -t passed ($(stat -c %s "$remote_out") bytes)"
rm -f "$remote_out" "$local_out"
remote_rate=$(awk -v b="$input_bytes" -v s="${seconds[remote]}" 'BEGIN { printf "%.1f", b / 1e6 / (s > 0 ? s : 0.01) }')
local_rate=$(awk -v b="$input_bytes" -v s="${seconds[local]}" 'BEGIN { printf "%.1f", b / 1e6 / (s > 0 ? s : 0.01) }')

# MARK: (d) latency

log "(d) fpga-transport-bench --mode latency --workers ${workers[0]} --latency-samples $LATENCY_SAMPLES"
timeout "$TOOL_TIMEOUT" "$FPGA_TRANSPORT_BENCH" --mode latency --workers "${workers[0]}" --token-file "$token" \
    --latency-samples "$LATENCY_SAMPLES" | tee "$work/latency.txt"
latency_echo=$(awk 'NF == 5 && $1 == "echo/cluster" { print $3 }' "$work/latency.txt")
latency_gzip=$(awk 'NF == 5 && $1 == "gzip/cluster" { print $3 }' "$work/latency.txt")
latency_node=$(awk 'NF == 5 && $1 == "echo/node" { print $3 }' "$work/latency.txt")
[ -n "$latency_echo" ] || die "no latency figures from fpga-transport-bench"

# MARK: Summary

echo_up_ratio=$(ratio "$echo_up" "$iperf_up")
echo_down_ratio=$(ratio "$echo_down" "$iperf_down")
compress_ratio=$(ratio "$remote_rate" "$local_rate")
echo
echo "remote workers on loopback: $cores cores ($busy% busy with other work before the run), $(date -u +%Y-%m-%d),"
echo "two fpga-workers with one sim device each"
echo
fmt='%-44s %12s %10s %10s  %s\n'
printf "$fmt" "throughput" "MB/s" "ratio" "target" ""
printf "$fmt" "iperf3 --bidir, client->server" "$iperf_up" "1.00" "" "($iperf_up_gbit Gbit/s)"
printf "$fmt" "iperf3 --bidir, server->client" "$iperf_down" "1.00" "" "($iperf_down_gbit Gbit/s)"
printf "$fmt" "echo, client->workers ($SIZE)" "$echo_up" "${echo_up_ratio}x" ">= ${ECHO_TARGET}x" \
    "$(meets "$echo_up_ratio" "$ECHO_TARGET") (vs iperf3 client->server)"
printf "$fmt" "echo, workers->client ($SIZE)" "$echo_down" "${echo_down_ratio}x" ">= ${ECHO_TARGET}x" \
    "$(meets "$echo_down_ratio" "$ECHO_TARGET") (vs iperf3 server->client)"
printf "$fmt" "fpga-compress --local 2" "$local_rate" "1.00" "" \
    "(${seconds[local]} s, peak RSS $((rss[local] / 1024)) MiB)"
printf "$fmt" "fpga-compress --workers A,B" "$remote_rate" "${compress_ratio}x" ">= ${COMPRESS_TARGET}x" \
    "$(meets "$compress_ratio" "$COMPRESS_TARGET") (${seconds[remote]} s, peak RSS $((rss[remote] / 1024)) MiB)"
echo
printf "$fmt" "latency, one 4 KiB chunk (median)" "us" "ratio" "target" ""
printf "$fmt" "echo through Cluster.run" "$latency_echo" "$(ratio "$latency_echo" "$LATENCY_TARGET_US")" \
    "<= 1.00" "$(awk -v v="$latency_echo" -v t="$LATENCY_TARGET_US" 'BEGIN { print (v <= t ? "meets" : "above") }') 1 ms"
printf "$fmt" "gzip through Cluster.run" "$latency_gzip" "$(ratio "$latency_gzip" "$LATENCY_TARGET_US")" "" ""
printf "$fmt" "echo through WorkerNode.run" "$latency_node" "$(ratio "$latency_node" "$LATENCY_TARGET_US")" "" ""
echo
echo "input of the compression: $INPUT ($input_bytes bytes); MB = 10^6 bytes; ratios of the latency are"
echo "median / 1 ms (below 1 is faster). One run each: client, workers and iperf3 share the same $cores cores."
