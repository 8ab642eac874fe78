#!/usr/bin/env bash
# Compares `fpga-compress -d` with `igzip -d` in the same run: on a foreign single-member
# file (`gzip -1` output, which no reader can split without an index: one core), on a
# foreign multi-member file (the input cut into 1 MiB pieces, each `gzip -6`, concatenated:
# members found by their headers and inflated in parallel) and on fpga-compress's own
# multi-member file (indexed members, inflated in parallel).
#
# Usage: Scripts/bench-decompress.sh   (bench-compress.sh runs it last; `make bench`)
#
# Environment:
#   INPUT          the original file; when unset, DECOMPRESS_SIZE bytes of mixed data are
#                  written to OUT_DIR/decompress (C headers, then shared libraries)
#   DECOMPRESS_SIZE  size of that input (64M)
#   RUNS           runs of each command, alternating; the medians are reported (5)
#   LOCAL          fpga-compress --local for the own file (2)
#   FPGA_COMPRESS  the binary to measure (.build/release/fpga-compress)
#   FPGA_COMPRESS_BEFORE  another fpga-compress (an older build) measured alongside, optional
#   OUT_DIR        where inputs, outputs and timings go (bench-out)
#   BENCH_VERBOSE  when set, every run's wall seconds are printed too
#
# Every output is compared with the original (`cmp`); before each command the last output
# is removed and `sync` runs, outside the timing. Wall and CPU (user + system)
# seconds are what `/usr/bin/time -f '%e %U %S'` gives, to the microsecond (wait4's
# rusage, measured by a few lines of Python). Speed vs igzip is igzip's median
# wall time divided by the tool's: above 1 is faster. The script never fails on speed.
set -euo pipefail

cd "$(dirname "$0")/.."

OUT_DIR=${OUT_DIR:-bench-out}
RUNS=${RUNS:-5}
LOCAL=${LOCAL:-2}
DECOMPRESS_SIZE=${DECOMPRESS_SIZE:-64M}
FPGA_COMPRESS=${FPGA_COMPRESS:-.build/release/fpga-compress}
FPGA_COMPRESS_BEFORE=${FPGA_COMPRESS_BEFORE:-}

BENCH_NAME=bench-decompress
# shellcheck source=lib/bench-common.sh
source Scripts/lib/bench-common.sh

ensure_packages gzip isal python3
for tool in gzip igzip python3 cmp numfmt; do
    command -v "$tool" >/dev/null || die "missing $tool"
done
[ -x "$FPGA_COMPRESS" ] || die "no fpga-compress at $FPGA_COMPRESS (make bench builds it)"

mkdir -p "$OUT_DIR"
work=$OUT_DIR/decompress
mkdir -p "$work"
if [ -z "${INPUT:-}" ]; then
    # Mixed data: C headers (text) for the first half, shared libraries (machine code)
    # for the second, in name order: the same bytes on the same machine.
    INPUT=$work/original-$DECOMPRESS_SIZE
    total=$(numfmt --from=iec "$DECOMPRESS_SIZE")
    if [ ! -f "$INPUT" ] || [ "$(stat -c %s "$INPUT")" != "$total" ]; then
        lib_dir=/usr/lib/$(uname -m)-linux-gnu
        [ -d "$lib_dir" ] || lib_dir=/usr/lib
        log "writing $total bytes of headers and libraries to $INPUT"
        {
            (tar -C / --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - usr/include 2>/dev/null || true) |
                head -c $((total / 2))
            (find "$lib_dir" -maxdepth 1 -type f -name '*.so*' | sort | xargs cat 2>/dev/null || true) |
                head -c $((total - total / 2))
        } >"$INPUT.tmp"
        mv "$INPUT.tmp" "$INPUT"
    fi
fi
[ -f "$INPUT" ] || die "no such input: $INPUT"
INPUT_BYTES=$(stat -c %s "$INPUT")

foreign=$work/foreign.gz
multi=$work/multi.gz
own=$work/own.gz
log "making the foreign files (gzip -1; 1 MiB pieces, gzip -6) and the own file (fpga-compress --local $LOCAL)"
gzip -1 -c "$INPUT" >"$foreign"
split -b 1M --filter='gzip -6' "$INPUT" >"$multi"
"$FPGA_COMPRESS" -q -f --local "$LOCAL" -o "$own" "$INPUT"
members=$(python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
count = offset = 0
while offset < len(data):
    count += 1
    offset += int.from_bytes(data[offset + 16:offset + 20], "little")
print(count)' "$own" 2>/dev/null || echo "?")

declare -A walls cpus
# Runs a command with standard output to a file; writes "wall user system" seconds to a
# file, with microseconds: /usr/bin/time prints hundredths, too coarse for runs of 0.05 s.
timed() {
    python3 -c '
import os, subprocess, sys, time
timing, out = sys.argv[1], sys.argv[2]
with open(out, "wb") as sink:
    start = time.perf_counter()
    child = subprocess.Popen(sys.argv[3:], stdout=sink)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
with open(timing, "w") as f:
    f.write("%.4f %.4f %.4f\n" % (wall, usage.ru_utime, usage.ru_stime))
sys.exit(os.waitstatus_to_exitcode(status))' "$@"
}

# measure KEY COMMAND...: one timed run, output checked against the original.
measure() {
    local key=$1 timing=$work/time.txt out=$work/out e u s
    shift
    # A fair start for every command: the last output's pages freed and nothing dirty
    # left for the kernel to write back while this one runs (writeback throttles
    # whichever command happens to cross the dirty threshold, the same one every round).
    rm -f "$out"
    sync
    timed "$timing" "$out" "$@"
    cmp -s "$out" "$INPUT" || die "$key: output differs from the original"
    read -r e u s <"$timing"
    walls[$key]+="$e "
    cpus[$key]+="$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }') "
}

keys=()
add() { keys+=("$1"); }
add "foreign: igzip -d"
add "foreign: fpga-compress -d"
if [ -n "$FPGA_COMPRESS_BEFORE" ]; then add "foreign: before -d"; fi
add "multi: igzip -d"
add "multi: fpga-compress -d"
if [ -n "$FPGA_COMPRESS_BEFORE" ]; then add "multi: before -d"; fi
add "own: igzip -d"
add "own: fpga-compress -d"
if [ -n "$FPGA_COMPRESS_BEFORE" ]; then add "own: before -d"; fi

cat "$INPUT" "$foreign" "$multi" "$own" >/dev/null # page cache
# round KIND FILE RUN: one run of each command on FILE, starting from a different command each
# run, so that no command always runs right after the same one: which command ran just before
# moved these 0.05-0.1 s figures by more than the changes they measure (on the benchmark's
# virtual machine, whose host backs guest memory lazily; the cause is not proven).
round() {
    local kind=$1 file=$2 run=$3 i
    local -a order=(igzip new)
    if [ -n "$FPGA_COMPRESS_BEFORE" ]; then order+=(before); fi
    for ((i = 0; i < ${#order[@]}; i++)); do
        case ${order[(run - 1 + i) % ${#order[@]}]} in
            igzip) measure "$kind: igzip -d" igzip -d -c "$file" ;;
            new) measure "$kind: fpga-compress -d" "$FPGA_COMPRESS" -d -q -c --local "$LOCAL" "$file" ;;
            before) measure "$kind: before -d" "$FPGA_COMPRESS_BEFORE" -d -q -c --local "$LOCAL" "$file" ;;
        esac
    done
}

log "$RUNS alternating runs of each command, in rotating order"
for ((run = 1; run <= RUNS; run++)); do
    round foreign "$foreign" "$run"
    round multi "$multi" "$run"
    round own "$own" "$run"
done

if [ -n "${BENCH_VERBOSE:-}" ]; then for key in "${keys[@]}"; do echo "$key: ${walls[$key]}"; done; fi
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
echo
echo "decompression: $INPUT ($INPUT_BYTES bytes), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "foreign: $(stat -c %s "$foreign") bytes, one member (gzip -1); multi: $(stat -c %s "$multi") bytes, $(((INPUT_BYTES + 1048575) / 1048576)) members (gzip -6 each); own: $(stat -c %s "$own") bytes, $members members"
echo "medians of $RUNS alternating runs; every output compared with the original (cmp)"
echo
fmt='%-28s %9s %9s %8s %15s %13s\n'
printf "$fmt" command "wall s" "CPU s" "MB/s" "speed vs igzip" "CPU vs igzip"
for key in "${keys[@]}"; do
    wall=$(med "${walls[$key]}")
    cpu=$(med "${cpus[$key]}")
    reference="${key%%:*}: igzip -d"
    ref_wall=$(med "${walls[$reference]}")
    ref_cpu=$(med "${cpus[$reference]}")
    printf "$fmt" "$key" "$wall" "$cpu" "$(awk -v b="$INPUT_BYTES" -v t="$wall" 'BEGIN { printf "%.1f", (t > 0 ? b / 1e6 / t : 0) }')" \
        "$(ratio "$ref_wall" "$wall")x" "$(ratio "$cpu" "$ref_cpu")x"
done
echo
foreign_ratio=$(ratio "$(med "${walls[foreign: igzip -d]}")" "$(med "${walls[foreign: fpga-compress -d]}")")
multi_ratio=$(ratio "$(med "${walls[multi: igzip -d]}")" "$(med "${walls[multi: fpga-compress -d]}")")
own_ratio=$(ratio "$(med "${walls[own: igzip -d]}")" "$(med "${walls[own: fpga-compress -d]}")")
echo "foreign single-member: ${foreign_ratio}x igzip -d ($(meets "$foreign_ratio" 0.95) the 0.95x target; one core: no index)"
echo "foreign multi-member:  ${multi_ratio}x igzip -d (members found by their headers, inflated in parallel)"
echo "own file, --local $LOCAL:  ${own_ratio}x igzip -d ($(meets "$own_ratio" 1.7) the 1.7x target)"
echo "speed vs igzip: igzip -d's wall time / the command's. CPU vs igzip: the command's CPU time / igzip -d's."

rm -f "$work/out" "$work/time.txt"
