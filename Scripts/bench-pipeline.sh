#!/usr/bin/env bash
# The pipeline's ceiling: what this host can feed to cards, measured with EchoJob, the job
# that does no work (issue 13, item 3). Prints each figure with its ratio to its peer and
# target:
#
#   (a) memcpy between two warm 64 MiB buffers, in the same chunks (fpga-transport-bench)
#   (b) EchoJob through an embedded cluster of LOCAL simulated devices (Cluster.map; each
#       node copies every input once): MB/s against 4 GB/s and against (a)
#   (c) iperf3 --bidir on 127.0.0.1: what the loopback carries per direction over TCP
#   (d) EchoJob through two fpga-workers on loopback, MB/s per direction, and both
#       directions summed against 0.8x (c)'s sum (on two cores iperf3 --bidir splits the
#       cores unevenly between its directions, so the sum is the fair comparison)
#
# (a), (b) and (d) are medians of RUNS runs; (c) is one run of IPERF_SECONDS.
#
# Usage: Scripts/bench-pipeline.sh            (from anywhere; `make bench` and
#                                               `make bench-pipeline` run it)
#
# Environment:
#   FPGA_WORKER           fpga-worker binary; built in release mode when unset
#   FPGA_TRANSPORT_BENCH  fpga-transport-bench binary; built when unset
#   SCRATCH_PATH, SWIFT   SwiftPM scratch path (.build) and driver (swift) for those builds
#   SIZE                  bytes through each path, with an optional K, M or G suffix (1G)
#   CHUNK_SIZE            bytes per echo run (1M)
#   LOCAL                 simulated devices of the embedded cluster (2)
#   RUNS                  runs of (a), (b) and (d) (3)
#   IPERF_SECONDS         duration of (c) (10)
#   TOOL_TIMEOUT          seconds any one measured command may take before it is killed (600)
#
# Everything listens on 127.0.0.1 only; the workers share a fresh token (mode 600); an EXIT
# trap stops every process the script started. The script fails when a tool fails or an
# output is wrong (fpga-transport-bench checks every echoed byte), never because of speed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

SIZE=${SIZE:-1G}
CHUNK_SIZE=${CHUNK_SIZE:-1M}
LOCAL=${LOCAL:-2}
RUNS=${RUNS:-3}
IPERF_SECONDS=${IPERF_SECONDS:-10}
TOOL_TIMEOUT=${TOOL_TIMEOUT:-600}
EMBEDDED_TARGET_MBS=4000
REMOTE_TARGET=0.8

BENCH_NAME=bench-pipeline
# shellcheck source=lib/bench-common.sh
source Scripts/lib/bench-common.sh

ensure_packages iperf3 python3
for tool in iperf3 python3; do
    command -v "$tool" >/dev/null || die "missing $tool"
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"

FPGA_WORKER=$(binary FPGA_WORKER fpga-worker)
FPGA_TRANSPORT_BENCH=$(binary FPGA_TRANSPORT_BENCH fpga-transport-bench)

start_work_dir fpga-bench-pipeline

cores=$(nproc)
busy=$(busy_before)
log "$cores cores, $busy% busy with other work before the run; $FPGA_TRANSPORT_BENCH"

# throughput NAME ARGS...: one fpga-transport-bench --mode throughput run; appends each
# path's MB/s to $work/NAME.PATH.
throughput() {
    local name=$1
    shift
    timeout "$TOOL_TIMEOUT" "$FPGA_TRANSPORT_BENCH" --mode throughput --bytes "$SIZE" --chunk-size "$CHUNK_SIZE" "$@" \
        >"$work/$name.txt" 2>"$work/$name.err" || die "fpga-transport-bench $* failed: $(tail -n 3 "$work/$name.err")"
    awk -v out="$work/$name" 'NF == 4 && $4 ~ /^[0-9.]+$/ { print $4 >> (out "." $1) }' "$work/$name.txt"
}

# MARK: (a), (b) embedded

for ((run = 1; run <= RUNS; run++)); do
    log "(a, b) run $run of $RUNS: fpga-transport-bench --local $LOCAL --bytes $SIZE --chunk-size $CHUNK_SIZE"
    throughput embedded --local "$LOCAL"
done
memcpy_rate=$(median <"$work/embedded.memcpy")
embedded_rate=$(median <"$work/embedded.embedded")

# MARK: (c) iperf3

log "(c) iperf3 --bidir"
iperf_bidir "$IPERF_SECONDS"

# MARK: (d) two workers

start_sim_workers 2
for ((run = 1; run <= RUNS; run++)); do
    log "(d) run $run of $RUNS: fpga-transport-bench --workers ${workers[0]},${workers[1]} --bytes $SIZE"
    throughput remote --workers "${workers[0]},${workers[1]}" --token-file "$token"
done
remote_up=$(median <"$work/remote.client->worker")
remote_down=$(median <"$work/remote.worker->client")

# MARK: Summary

embedded_ratio=$(ratio "$embedded_rate" "$EMBEDDED_TARGET_MBS")
up_ratio=$(ratio "$remote_up" "$iperf_up")
down_ratio=$(ratio "$remote_down" "$iperf_down")
iperf_sum=$(awk -v a="$iperf_up" -v b="$iperf_down" 'BEGIN { printf "%.1f", a + b }')
remote_sum=$(awk -v a="$remote_up" -v b="$remote_down" 'BEGIN { printf "%.1f", a + b }')
sum_ratio=$(ratio "$remote_sum" "$iperf_sum")
echo
echo "pipeline ceiling: EchoJob (no work) over $SIZE in $CHUNK_SIZE chunks, $cores cores ($busy% busy before the run),"
echo "$(date -u +%Y-%m-%d), medians of $RUNS runs (iperf3: one run of $IPERF_SECONDS s)"
echo
fmt='%-42s %10s %10s %10s  %s\n'
printf "$fmt" "path" "MB/s" "ratio" "target" ""
printf "$fmt" "memcpy, warm buffers" "$memcpy_rate" "1.00" "" "(the copy every path makes at least once)"
printf "$fmt" "echo, embedded cluster of $LOCAL sim devices" "$embedded_rate" "$(ratio "$embedded_rate" "$memcpy_rate")x" "" \
    "of memcpy"
printf "$fmt" "  against 4 GB/s" "" "${embedded_ratio}x" ">= 1.00x" "$(meets "$embedded_ratio" 1)"
printf "$fmt" "iperf3 --bidir, client->server" "$iperf_up" "1.00" "" "($iperf_up_gbit Gbit/s)"
printf "$fmt" "iperf3 --bidir, server->client" "$iperf_down" "1.00" "" "($iperf_down_gbit Gbit/s)"
printf "$fmt" "iperf3 --bidir, both directions" "$iperf_sum" "1.00" "" ""
printf "$fmt" "echo, client->2 workers" "$remote_up" "${up_ratio}x" "" "(vs iperf3 client->server)"
printf "$fmt" "echo, 2 workers->client" "$remote_down" "${down_ratio}x" "" "(vs iperf3 server->client)"
printf "$fmt" "echo, both directions" "$remote_sum" "${sum_ratio}x" ">= ${REMOTE_TARGET}x" \
    "$(meets "$sum_ratio" "$REMOTE_TARGET") (vs iperf3's both directions)"
echo
echo "MB = 10^6 bytes. The embedded echo copies each input once (as a card's DMA of its result would);"
echo "through workers, both directions carry all the bytes at once, and client, workers and iperf3 share"
echo "the same $cores cores."
