#!/usr/bin/env bash
# Parity with Brevitas: a seeded random CNV-W1A1 is run by Brevitas (the reference) and, from the
# model file the converter writes, by an integer implementation; classes and logits must agree.
#
# Usage: Scripts/brevitas-parity.sh [OUT_DIR]          (default .build/brevitas-parity)
#
# Environment:
#   SEED           seed of the random model and images (2025)
#   IMAGES         number of images, at least 256 (512): the edge images all 0, 255, 127 and 128
#                  first, then noise, smooth, block, near-127/128 and saturated images
#   BREVITAS_VENV  the virtual environment (.build/brevitas-venv), made by Scripts/brevitas-venv.sh
#   PARITY_CANDIDATE
#                  optional executable checked too, run as
#                    $PARITY_CANDIDATE IMAGES_BIN MODEL_FILE CLASSES_OUT LOGITS_OUT
#                  (raw NHWC uint8 images in; one class per line and 10 float32 LE logits per
#                  image out), for the Swift kernel once it exists
#
# Steps: the virtual environment (prints "skipped: <reason>" and exits 0 where torch or Brevitas
# cannot be installed: the check is then not run, and says so); the case (state_dict.pt,
# images.bin, expected-classes.txt, expected-logits.bin); brevitas_export.py to model.cnv; the
# numpy integer reference on model.cnv, compared with Brevitas (top-1 on every image, logits to
# float32 rounding: see Scripts/brevitas/compare_parity.py for the tolerance and why it is not 0);
# two controls showing the comparison can fail (a model file with float64-only thresholds must
# disagree with Brevitas; a logit twice the tolerance off and a changed class must be caught);
# then the candidate, if any. Exit status 0 only when every comparison passes.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=${1:-.build/brevitas-parity}
SEED=${SEED:-2025}
IMAGES=${IMAGES:-512}
VENV=${BREVITAS_VENV:-.build/brevitas-venv}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2

status=0
Scripts/brevitas-venv.sh "$VENV" || status=$?
if [ "$status" -eq 3 ]; then
    echo "brevitas parity: skipped (no torch or Brevitas here); nothing was compared"
    exit 0
elif [ "$status" -ne 0 ]; then
    exit "$status"
fi
py="$VENV/bin/python"

rm -rf "$OUT"
mkdir -p "$OUT"
"$py" Scripts/brevitas/make_parity_case.py "$OUT" --seed "$SEED" --images "$IMAGES"
"$py" Samples/Classify/brevitas_export.py "$OUT/state_dict.pt" "$OUT/model.cnv"
"$py" Scripts/brevitas/cnv_reference.py "$OUT/model.cnv" "$OUT/images.bin" \
    "$OUT/reference-classes.txt" "$OUT/reference-logits.bin"

failed=0
compare() {
    python3 Scripts/brevitas/compare_parity.py "$OUT" --model "$OUT/model.cnv" "$@"
}
compare "$OUT/reference-classes.txt" "$OUT/reference-logits.bin" --label numpy-reference || failed=1

# Control 1: without the float32 correction the thresholds sit where float64 algebra puts them;
# this case's images reach those boundaries, so Brevitas must disagree with that file somewhere.
"$py" Scripts/brevitas/float64_control.py "$OUT/state_dict.pt" "$OUT/model-float64.cnv"
"$py" Scripts/brevitas/cnv_reference.py "$OUT/model-float64.cnv" "$OUT/images.bin" \
    "$OUT/float64-classes.txt" "$OUT/float64-logits.bin" >/dev/null
if compare "$OUT/float64-classes.txt" "$OUT/float64-logits.bin" --label float64-only-control \
    >"$OUT/float64-control.txt"; then
    echo "control: float64-only thresholds agree with Brevitas: this case does not exercise the boundaries"
    failed=1
else
    echo "control: float64-only thresholds disagree with Brevitas, as they must: $(grep -m1 'top-1' "$OUT/float64-control.txt")"
fi

# Control 2: one logit twice the tolerance off, and one class changed, must each be caught.
"$py" - "$OUT" <<'EOF'
import sys, numpy as np
out = sys.argv[1]
logits = np.fromfile(f"{out}/expected-logits.bin", dtype="<f4").copy()
bias = float(np.fromfile(f"{out}/model.cnv", dtype="<f4")[-2])
l = float(logits[37])
logits[37] = np.float32(l + 2 * 8 * 2.0**-24 * (abs(l - bias) + abs(l)))
logits.tofile(f"{out}/control-logits.bin")
classes = [int(line) for line in open(f"{out}/expected-classes.txt")]
classes[5] = (classes[5] + 1) % 10
open(f"{out}/control-classes.txt", "w").write("".join(f"{c}\n" for c in classes))
EOF
if compare "$OUT/expected-classes.txt" "$OUT/control-logits.bin" --label control >/dev/null; then
    echo "control: a logit twice the tolerance off was not caught"
    failed=1
elif compare "$OUT/control-classes.txt" --label control >/dev/null; then
    echo "control: a changed class was not caught"
    failed=1
else
    echo "control: a logit twice the tolerance off and a changed class are both caught"
fi

if [ -n "${PARITY_CANDIDATE:-}" ]; then
    "$PARITY_CANDIDATE" "$OUT/images.bin" "$OUT/model.cnv" "$OUT/candidate-classes.txt" "$OUT/candidate-logits.bin"
    compare "$OUT/candidate-classes.txt" "$OUT/candidate-logits.bin" --label "$(basename "$PARITY_CANDIDATE")" ||
        failed=1
fi

if [ "$failed" -ne 0 ]; then
    echo "brevitas parity: FAILED"
    exit 1
fi
echo "brevitas parity: passed ($IMAGES images, seed $SEED; case in $OUT)"
