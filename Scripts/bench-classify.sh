#!/usr/bin/env bash
# Measures fpga-classify against Brevitas on the same CNV-W1A1 model and images, in one run,
# and prints the figures with their ratios to the targets:
#
#   (a) Brevitas (Scripts/bench-brevitas.py): images/s at batch 1, 32 and 256, torch on 2 threads
#   (b) fpga-classify --local 2 (two simulated FPGAs running the FINN dataflow with the model's
#       weights): images/s of the classification itself (the tool's summary) and of the whole
#       command (process start, model and image reading included); the best of RUNS runs;
#       against 4x Brevitas's best batch and 3,000 images/s
#   (e) the end-to-end fixed cost of 100 images through two fpga-worker processes on loopback
#       (each --device sim --model): the wall time of the whole fpga-classify --workers A,B
#       command, and the classification inside it; median of FIXED_RUNS runs; against 20 ms
#
# Usage: Scripts/bench-classify.sh               (from anywhere, or via `make bench-classify`)
#
# Environment:
#   FPGA_CLASSIFY   fpga-classify binary; built in release mode when unset
#   FPGA_WORKER     fpga-worker binary; built in release mode when unset
#   SCRATCH_PATH    SwiftPM scratch path for those builds (.build)
#   SWIFT           the swift driver (swift)
#   BREVITAS_VENV   the virtual environment of Scripts/brevitas-venv.sh (.build/brevitas-venv)
#   SEED            model and image seed (2025, the parity check's)
#   IMAGES          images fpga-classify classifies in (b): the 512 images Brevitas is measured
#                   on, repeated (32768)
#   RUNS            runs of (b) (3)
#   FIXED_RUNS      runs of (e) (11)
#   BREVITAS_SECONDS  minimum seconds per Brevitas batch size (5)
#
# Where torch or Brevitas cannot be installed, (a) prints "skipped: ..." and (b) and (e) run on a
# random model file written here (same format, seeded) and random images: ours is measured alone
# and no ratio to Brevitas is printed. Everything listens on 127.0.0.1; an EXIT trap kills every
# process the script started. Fails when a tool fails, never because something was slow.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

SWIFT=${SWIFT:-swift}
SCRATCH_PATH=${SCRATCH_PATH:-}
VENV=${BREVITAS_VENV:-.build/brevitas-venv}
SEED=${SEED:-2025}
IMAGES=${IMAGES:-32768}
RUNS=${RUNS:-3}
FIXED_RUNS=${FIXED_RUNS:-11}
BREVITAS_SECONDS=${BREVITAS_SECONDS:-5}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2

BENCH_NAME=bench-classify
# shellcheck source=lib/bench-common.sh
source Scripts/lib/bench-common.sh

FPGA_CLASSIFY=$(binary FPGA_CLASSIFY fpga-classify)
FPGA_WORKER=$(binary FPGA_WORKER fpga-worker)

start_work_dir fpga-bench-classify

now_ns() { date +%s%N; }
# The "N images/s" figure of an fpga-classify summary line in FILE.
summary_rate() { sed -n 's/.*: [0-9]* images, \([0-9.]*\) images\/s, \([0-9.]*\) s.*/\1/p' "$1" | tail -n 1; }
summary_seconds() { sed -n 's/.*: [0-9]* images, \([0-9.]*\) images\/s, \([0-9.]*\) s.*/\2/p' "$1" | tail -n 1; }

cores=$(nproc)
log "$cores cores; binaries: $FPGA_CLASSIFY, $FPGA_WORKER"

# MARK: (a) Brevitas, and the model and images

venv_status=0
Scripts/brevitas-venv.sh "$VENV" >"$work/venv.out" 2>&1 || venv_status=$?
brevitas_best=""
if [ "$venv_status" -eq 0 ]; then
    py="$VENV/bin/python"
    log "Brevitas at batch 1, 32, 256 (torch on 2 threads, at least $BREVITAS_SECONDS s each)"
    "$py" Scripts/bench-brevitas.py --seed "$SEED" --seconds "$BREVITAS_SECONDS" --json "$work/brevitas.json" \
        --state-dict "$work/state_dict.pt" | tee "$work/brevitas.out"
    "$py" Samples/Classify/brevitas_export.py "$work/state_dict.pt" "$work/model.cnv" >"$work/export.out"
    brevitas_best=$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["best"]["images_per_second"])' \
        "$work/brevitas.json")
    # The images Brevitas was measured on, repeated to IMAGES.
    "$py" - "$work/images.bin" "$SEED" "$IMAGES" <<'PY'
import sys, os
sys.path.insert(0, os.path.join("Scripts", "brevitas"))
import numpy as np
from random_cnv import make_images
path, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = make_images(seed, 512)
np.resize(base, (count, 32, 32, 3)).astype(np.uint8).tofile(path)
PY
    source="Brevitas's seed-$SEED model (converted) and its 512 images, repeated"
else
    grep -m1 '^skipped:' "$work/venv.out" || cat "$work/venv.out"
    [ "$venv_status" -eq 3 ] || die "Scripts/brevitas-venv.sh failed with status $venv_status"
    log "Brevitas skipped: measuring fpga-classify alone on a random model"
    python3 - "$work/model.cnv" "$work/images.bin" "$SEED" "$IMAGES" <<'PY'
import random, struct, sys
path, images, seed, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
# (output channels, fan-in) per layer, as the model format lists them.
layers = [(64, 27), (64, 576), (128, 576), (128, 1152), (256, 1152), (256, 2304), (512, 256), (512, 512),
          (10, 512)]
out = bytearray(b"CNVW1A1\0" + struct.pack("<II", 1, 0))
for index, (cout, fan_in) in enumerate(layers):
    out += rng.randbytes(cout * fan_in // 8)
    if index < len(layers) - 1:
        for _ in range(cout):
            out += struct.pack("<ii", rng.randint(-8, 8), rng.choice((1, -1)))
out += struct.pack("<5f", 0.0, 1.0, 1.0, 0.0, 1e-4)
open(path, "wb").write(out)
open(images, "wb").write(rng.randbytes(count * 3072))
PY
    source="a random model file (seed $SEED) and $IMAGES random images"
fi
head -c $((100 * 3072)) "$work/images.bin" >"$work/images-100.bin"

# MARK: (b) fpga-classify --local 2

log "fpga-classify --local 2 on $IMAGES images, best of $RUNS"
best_rate=0
best_wall=0
for run in $(seq "$RUNS"); do
    started=$(now_ns)
    "$FPGA_CLASSIFY" "$work/images.bin" --model "$work/model.cnv" --format raw --local 2 2>"$work/local-$run.err"
    ended=$(now_ns)
    rate=$(summary_rate "$work/local-$run.err")
    [ -n "$rate" ] || die "no summary from fpga-classify: $(cat "$work/local-$run.err")"
    wall=$(awk -v n="$IMAGES" -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f", n / ((b - a) / 1e9) }')
    log "run $run: $(cat "$work/local-$run.err")"
    best_rate=$(awk -v a="$best_rate" -v b="$rate" 'BEGIN { print (b > a ? b : a) }')
    best_wall=$(awk -v a="$best_wall" -v b="$wall" 'BEGIN { print (b > a ? b : a) }')
done

# MARK: (e) fixed cost through two workers

token="$work/token"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$token"
chmod 600 "$token"
addresses=()
for index in 0 1; do
    "$FPGA_WORKER" --listen 127.0.0.1:0 --device sim --model "$work/model.cnv" --token-file "$token" \
        >"$work/worker$index.out" 2>"$work/worker$index.err" &
    pids+=($!)
    deadline=$((SECONDS + 10))
    until grep -q '^listening on ' "$work/worker$index.out" 2>/dev/null; do
        kill -0 "${pids[-1]}" 2>/dev/null || die "worker $index exited before it was ready"
        [ "$SECONDS" -lt "$deadline" ] || die "worker $index was not ready within 10 s"
        sleep 0.05
    done
    addresses+=("$(sed -n 's/^listening on //p' "$work/worker$index.out")")
done
workers="${addresses[0]},${addresses[1]}"
log "100 images through two workers ($workers), median of $FIXED_RUNS runs (one warm-up first)"
"$FPGA_CLASSIFY" "$work/images-100.bin" --model "$work/model.cnv" --format raw --workers "$workers" \
    --token-file "$token" --force -o "$work/fixed-classes.txt" 2>"$work/fixed-warmup.err"
: >"$work/fixed-wall.txt"
: >"$work/fixed-inside.txt"
for run in $(seq "$FIXED_RUNS"); do
    started=$(now_ns)
    "$FPGA_CLASSIFY" "$work/images-100.bin" --model "$work/model.cnv" --format raw --workers "$workers" \
        --token-file "$token" 2>"$work/fixed-$run.err"
    ended=$(now_ns)
    awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.2f\n", (b - a) / 1e6 }' >>"$work/fixed-wall.txt"
    awk -v s="$(summary_seconds "$work/fixed-$run.err")" 'BEGIN { printf "%.1f\n", s * 1000 }' \
        >>"$work/fixed-inside.txt"
done
fixed_wall=$(median <"$work/fixed-wall.txt")
fixed_inside=$(median <"$work/fixed-inside.txt")
log "last: $(cat "$work/fixed-$FIXED_RUNS.err")"
# The same classes through the workers as on local devices.
"$FPGA_CLASSIFY" "$work/images-100.bin" --model "$work/model.cnv" --format raw --local 2 -q \
    -o "$work/local-classes.txt"
cmp -s "$work/fixed-classes.txt" "$work/local-classes.txt" || die "the workers' classes differ from local ones"

# MARK: Report

echo
echo "fpga-classify against Brevitas: $source; $cores cores"
fmt="%-58s %12s %8s %8s\n"
printf "$fmt" "measurement" "value" "ratio" "target"
if [ -n "$brevitas_best" ]; then
    printf "$fmt" "Brevitas, best batch (torch, 2 threads)" "$brevitas_best/s" "" ""
    printf "$fmt" "fpga-classify --local 2, classification" "$best_rate/s" "$(ratio "$best_rate" "$brevitas_best")x" "4x"
    printf "$fmt" "fpga-classify --local 2, whole command" "$best_wall/s" "$(ratio "$best_wall" "$brevitas_best")x" "4x"
else
    printf "$fmt" "fpga-classify --local 2, classification" "$best_rate/s" "" ""
    printf "$fmt" "fpga-classify --local 2, whole command" "$best_wall/s" "" ""
fi
printf "$fmt" "fpga-classify --local 2, classification vs 3,000 images/s" "$best_rate/s" \
    "$(ratio "$best_rate" 3000)x" "1x"
printf "$fmt" "100 images via 2 remote workers, whole command (median)" "$fixed_wall ms" \
    "$(ratio "$fixed_wall" 20)x" "<= 1x"
printf "$fmt" "100 images via 2 remote workers, classify call (median)" "$fixed_inside ms" \
    "$(ratio "$fixed_inside" 20)x" "<= 1x"
echo
echo "ratios: ours / Brevitas's best batch (target >= 4), ours / 3,000 images/s (target >= 1), fixed cost /"
echo "20 ms (target <= 1). One run; the tools, the workers and torch share the same $cores cores."
