#!/usr/bin/env bash
# Compares fpga-compress with gzip -1, pigz -1 and igzip -1 on one input (medians of RUNS
# runs each, alternating), then runs Scripts/bench-decompress.sh: fpga-compress -d against
# igzip -d. Prints each tool's wall and CPU seconds and their ratios to igzip -1 measured in
# the same run, against issue 13's targets: fpga-compress --local 2 at least 1.8x igzip -1's
# single-thread speed, at most 1.1x its CPU seconds per byte.
#
# Usage: Scripts/bench-compress.sh            (from the repository root, or via `make bench`)
#
# Environment:
#   INPUT        file to compress; when unset, a corpus of SIZE bytes is generated at
#                bench-out/corpus-SIZE (a tar of /usr/include text and shared libraries
#                from /usr/lib, repeated and cut to SIZE) and reused by later runs
#   SIZE         size of the generated input: bytes, or with a K, M or G suffix (1G;
#                2G with MEMORY_TEST=1)
#   LOCAL        simulated devices for fpga-compress --local (2)
#   RUNS         runs of each compressor; medians are reported (3)
#   FPGA_COMPRESS  the binary to measure (.build/release/fpga-compress)
#   OUT_DIR      where inputs, outputs and timings go (bench-out)
#   MEMORY_TEST  1: compress a 2 GiB input with fpga-compress only and report its peak
#                RSS against the 256 MiB target
#   DECOMPRESS_INPUT  the decompression benchmark's input (default: DECOMPRESS_SIZE=64M of
#                mixed data; see Scripts/bench-decompress.sh)
#
# Each tool runs under `/usr/bin/time -f '%e %M %U %S'` (wall seconds, peak RSS in KiB,
# user and system CPU seconds), after its old output is removed and `sync` has written
# everything back, and its output is checked with `gzip -t`. The script prints figures and ratios; it never
# fails because something was slow.
set -euo pipefail

cd "$(dirname "$0")/.."

OUT_DIR=${OUT_DIR:-bench-out}
LOCAL=${LOCAL:-2}
RUNS=${RUNS:-3}
SPEED_TARGET=1.8
CPU_TARGET=1.1
MEMORY_TEST=${MEMORY_TEST:-0}
MEMORY_TARGET_MIB=256
FPGA_COMPRESS=${FPGA_COMPRESS:-.build/release/fpga-compress}

if [ "$MEMORY_TEST" = 1 ]; then
    SIZE=${SIZE:-2G}
else
    SIZE=${SIZE:-1G}
fi
SIZE_BYTES=$(numfmt --from=iec "$SIZE")

BENCH_NAME=bench
# shellcheck source=lib/bench-common.sh
source Scripts/lib/bench-common.sh

ensure_packages gzip pigz isal time
for tool in gzip pigz igzip /usr/bin/time numfmt; do
    command -v "$tool" >/dev/null || { log "missing $tool"; exit 1; }
done
if [ ! -x "$FPGA_COMPRESS" ]; then
    log "building fpga-compress"
    swift build -c release --static-swift-stdlib --product fpga-compress
fi

mkdir -p "$OUT_DIR"
if [ -z "${INPUT:-}" ]; then
    INPUT=$OUT_DIR/corpus-$SIZE
    if [ ! -f "$INPUT" ] || [ "$(stat -c %s "$INPUT")" != "$SIZE_BYTES" ]; then
        make_corpus "$INPUT" "$SIZE_BYTES"
    fi
fi
[ -f "$INPUT" ] || { log "no such input: $INPUT"; exit 1; }
INPUT_BYTES=$(stat -c %s "$INPUT")
# Read the input once so that every tool starts with it in the page cache.
cat "$INPUT" >/dev/null

names=()
declare -A seconds cpu rss bytes samples cpu_samples

# run NAME FILE MODE COMMAND...: one timed run; MODE stdout sends the command's standard
# output to FILE. Adds the run's wall and CPU seconds to NAME's samples.
run() {
    local name=$1 file=$2 mode=$3
    shift 3
    local timing=$OUT_DIR/time.txt s m u k
    # Every tool starts without its old output and with no other output still being
    # written back: replacing a 300 MB file costs whoever unlinks it (fpga-compress renames
    # over it; a shell's > truncates it before the timed process starts), and writeback
    # of an earlier run's output takes CPU from the next run.
    rm -f "$file"
    sync
    log "running: $*"
    if [ "$mode" = stdout ]; then
        /usr/bin/time -f '%e %M %U %S' -o "$timing" "$@" >"$file"
    else
        /usr/bin/time -f '%e %M %U %S' -o "$timing" "$@"
    fi
    read -r s m u k <"$timing"
    gzip -t "$file"
    [[ " ${names[*]} " == *" $name "* ]] || names+=("$name")
    samples[$name]+="$s "
    cpu_samples[$name]+="$(awk -v u="$u" -v k="$k" 'BEGIN { print u + k }') "
    rss[$name]=$m
    bytes[$name]=$(stat -c %s "$file")
    log "$name: ${s} s, CPU $(awk -v u="$u" -v k="$k" 'BEGIN { print u + k }') s, peak RSS ${m} KiB, ${bytes[$name]} bytes, gzip -t passed"
}

FPGA_OUT=$OUT_DIR/out.fpga.gz
rm -f "$FPGA_OUT"

if [ "$MEMORY_TEST" = 1 ]; then
    run fpga-compress "$FPGA_OUT" file "$FPGA_COMPRESS" --local "$LOCAL" -f -o "$FPGA_OUT" "$INPUT"
    peak_mib=$(awk -v k="${rss[fpga-compress]}" 'BEGIN { printf "%.1f", k / 1024 }')
    echo
    echo "input:        $INPUT ($INPUT_BYTES bytes)"
    echo "command:      $FPGA_COMPRESS --local $LOCAL -f -o $FPGA_OUT $INPUT"
    echo "wall time:    ${samples[fpga-compress]% } s"
    echo "peak RSS:     $peak_mib MiB (target $MEMORY_TARGET_MIB MiB)"
    awk -v p="$peak_mib" -v t="$MEMORY_TARGET_MIB" 'BEGIN {
        printf "result:       %s (%.2f of the target)\n", (p <= t ? "within the target" : "OVER the target"), p / t }'
    rm -f "$FPGA_OUT" "$OUT_DIR/time.txt"
    exit 0
fi

# Alternating runs, so that a change in the machine's load reaches every tool alike, each round
# starting from a different tool, so that none always runs right after the same one.
run_tool() {
    case $1 in
        0) run fpga-compress "$FPGA_OUT" file "$FPGA_COMPRESS" --local "$LOCAL" -f -o "$FPGA_OUT" "$INPUT" ;;
        1) run "gzip -1" "$OUT_DIR/out.gzip.gz" stdout gzip -1 -c "$INPUT" ;;
        2) run "pigz -1 -p 2" "$OUT_DIR/out.pigz.gz" stdout pigz -1 -p 2 -c "$INPUT" ;;
        3) run "igzip -1" "$OUT_DIR/out.igzip.gz" stdout igzip -1 -c "$INPUT" ;;
    esac
}
for ((round = 1; round <= RUNS; round++)); do
    log "round $round of $RUNS"
    for ((tool = 0; tool < 4; tool++)); do run_tool $(((round - 1 + tool) % 4)); done
done
for name in "${names[@]}"; do
    seconds[$name]=$(tr ' ' '\n' <<<"${samples[$name]}" | grep . | median)
    cpu[$name]=$(tr ' ' '\n' <<<"${cpu_samples[$name]}" | grep . | median)
done

echo
echo "input: $INPUT ($INPUT_BYTES bytes), $(nproc) cores, fpga-compress --local $LOCAL, medians of $RUNS runs"
echo
fmt='%-14s %8s %8s %7s %11s %11s %10s %16s %10s %13s\n'
printf "$fmt" tool seconds MB/s "CPU s" "vs igzip -1" "CPU vs igz" "vs pigz" "compressed bytes" "vs gzip -1" "peak RSS MiB"
for name in "${names[@]}"; do
    awk -v fmt="$fmt" -v name="$name" -v s="${seconds[$name]}" -v c="${cpu[$name]}" -v b="${bytes[$name]}" \
        -v m="${rss[$name]}" -v in_bytes="$INPUT_BYTES" -v gz="${bytes[gzip -1]}" -v pigz="${seconds[pigz -1 -p 2]}" \
        -v igz="${seconds[igzip -1]}" -v igz_cpu="${cpu[igzip -1]}" 'BEGIN {
        t = (s > 0 ? s : 0.01)
        printf fmt, name, sprintf("%.2f", s), sprintf("%.1f", in_bytes / 1e6 / t), sprintf("%.2f", c),
            sprintf("%.2fx", igz / t), sprintf("%.2fx", (igz_cpu > 0 ? c / igz_cpu : 0)), sprintf("%.2fx", pigz / t),
            b, sprintf("%.3f", b / gz), sprintf("%.1f", m / 1024)
    }'
done
echo
echo "vs igzip -1: igzip -1's seconds / the tool's (above 1 is faster); CPU vs igz: the tool's CPU seconds"
echo "(user + system) / igzip -1's; vs pigz: pigz -1 -p 2's seconds / the tool's; vs gzip -1: compressed size"
echo "/ gzip -1's (lower is smaller)."
speed=$(ratio "${seconds[igzip -1]}" "${seconds[fpga-compress]}")
cpu_ratio=$(ratio "${cpu[fpga-compress]}" "${cpu[igzip -1]}")
echo "fpga-compress --local $LOCAL: ${speed}x igzip -1's speed (target ${SPEED_TARGET}x: $(meets "$speed" "$SPEED_TARGET")),"
echo "    ${cpu_ratio}x its CPU seconds per byte (target at most ${CPU_TARGET}x: $(meets "$CPU_TARGET" "$cpu_ratio"))"

rm -f "$OUT_DIR"/out.*.gz "$OUT_DIR/time.txt"

echo
INPUT="${DECOMPRESS_INPUT:-}" OUT_DIR="$OUT_DIR" LOCAL="$LOCAL" FPGA_COMPRESS="$FPGA_COMPRESS" \
    Scripts/bench-decompress.sh
