#!/usr/bin/env bash
# Compares fpga-compress with gzip -1, pigz -1 and igzip -1 on one input, one run each;
# then runs Scripts/bench-decompress.sh: fpga-compress -d against igzip -d.
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
#   FPGA_COMPRESS  the binary to measure (.build/release/fpga-compress)
#   OUT_DIR      where inputs, outputs and timings go (bench-out)
#   MEMORY_TEST  1: compress a 2 GiB input with fpga-compress only and report its peak
#                RSS against the 256 MiB target
#   DECOMPRESS_INPUT  the decompression benchmark's input (default: DECOMPRESS_SIZE=64M of
#                mixed data; see Scripts/bench-decompress.sh)
#
# Each tool runs under `/usr/bin/time -f '%e %M'` (wall seconds, peak RSS in KiB) and
# its output is checked with `gzip -t`. The script prints figures and ratios; it never
# fails because something was slow.
set -euo pipefail

cd "$(dirname "$0")/.."

OUT_DIR=${OUT_DIR:-bench-out}
LOCAL=${LOCAL:-2}
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
declare -A seconds rss bytes

run() {
    local name=$1 file=$2 mode=$3
    shift 3
    local timing=$OUT_DIR/time.txt s m
    log "running: $*"
    if [ "$mode" = stdout ]; then
        /usr/bin/time -f '%e %M' -o "$timing" "$@" >"$file"
    else
        /usr/bin/time -f '%e %M' -o "$timing" "$@"
    fi
    read -r s m <"$timing"
    gzip -t "$file"
    names+=("$name")
    seconds[$name]=$s
    rss[$name]=$m
    bytes[$name]=$(stat -c %s "$file")
    log "$name: ${s} s, peak RSS ${m} KiB, ${bytes[$name]} bytes, gzip -t passed"
}

FPGA_OUT=$OUT_DIR/out.fpga.gz
rm -f "$FPGA_OUT"

if [ "$MEMORY_TEST" = 1 ]; then
    run fpga-compress "$FPGA_OUT" file "$FPGA_COMPRESS" --local "$LOCAL" -f -o "$FPGA_OUT" "$INPUT"
    peak_mib=$(awk -v k="${rss[fpga-compress]}" 'BEGIN { printf "%.1f", k / 1024 }')
    echo
    echo "input:        $INPUT ($INPUT_BYTES bytes)"
    echo "command:      $FPGA_COMPRESS --local $LOCAL -f -o $FPGA_OUT $INPUT"
    echo "wall time:    ${seconds[fpga-compress]} s"
    echo "peak RSS:     $peak_mib MiB (target $MEMORY_TARGET_MIB MiB)"
    awk -v p="$peak_mib" -v t="$MEMORY_TARGET_MIB" 'BEGIN {
        printf "result:       %s (%.2f of the target)\n", (p <= t ? "within the target" : "OVER the target"), p / t }'
    rm -f "$FPGA_OUT" "$OUT_DIR/time.txt"
    exit 0
fi

run fpga-compress "$FPGA_OUT" file "$FPGA_COMPRESS" --local "$LOCAL" -f -o "$FPGA_OUT" "$INPUT"
run "gzip -1" "$OUT_DIR/out.gzip.gz" stdout gzip -1 -c "$INPUT"
run "pigz -1 -p 2" "$OUT_DIR/out.pigz.gz" stdout pigz -1 -p 2 -c "$INPUT"
run "igzip -1" "$OUT_DIR/out.igzip.gz" stdout igzip -1 -c "$INPUT"

echo
echo "input: $INPUT ($INPUT_BYTES bytes), $(nproc) cores, fpga-compress --local $LOCAL"
echo
fmt='%-14s %8s %8s %16s %16s %14s %13s\n'
printf "$fmt" tool seconds MB/s "compressed bytes" "size vs gzip -1" "speed vs pigz" "peak RSS MiB"
for name in "${names[@]}"; do
    awk -v fmt="$fmt" -v name="$name" -v s="${seconds[$name]}" -v b="${bytes[$name]}" -v m="${rss[$name]}" \
        -v in_bytes="$INPUT_BYTES" -v gz="${bytes[gzip -1]}" -v pigz="${seconds[pigz -1 -p 2]}" 'BEGIN {
        t = (s > 0 ? s : 0.01)
        printf fmt, name, sprintf("%.2f", s), sprintf("%.1f", in_bytes / 1e6 / t), b, sprintf("%.3f", b / gz),
            sprintf("%.2fx", pigz / t), sprintf("%.1f", m / 1024)
    }'
done
echo
echo "size vs gzip -1: compressed size / gzip -1's (lower is smaller)."
echo "speed vs pigz: pigz's seconds / the tool's (above 1 is faster than pigz -1 -p 2)."

rm -f "$OUT_DIR"/out.*.gz "$OUT_DIR/time.txt"

echo
INPUT="${DECOMPRESS_INPUT:-}" OUT_DIR="$OUT_DIR" LOCAL="$LOCAL" FPGA_COMPRESS="$FPGA_COMPRESS" \
    Scripts/bench-decompress.sh
