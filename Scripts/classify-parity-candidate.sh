#!/usr/bin/env bash
# The Swift side of the Brevitas parity check: Scripts/brevitas-parity.sh runs it as
#   PARITY_CANDIDATE IMAGES_BIN MODEL_FILE CLASSES_OUT LOGITS_OUT
# and compares its classes and logits with Brevitas's.
#
# The classes come from the cluster (fpga-classify on two simulated FPGAs: the FINN dataflow
# behind idma0/odma0, the model's weights bound), the logits from the same model's CNVEngine
# on this host (fpga-classify --logits).
#
# Environment: FPGA_CLASSIFY, the fpga-classify binary (default .build/release/fpga-classify).
set -euo pipefail

if [ "$#" -ne 4 ]; then
    echo "usage: $0 IMAGES_BIN MODEL_FILE CLASSES_OUT LOGITS_OUT" >&2
    exit 2
fi
cd "$(dirname "$0")/.."
FPGA_CLASSIFY=${FPGA_CLASSIFY:-.build/release/fpga-classify}
if [ ! -x "$FPGA_CLASSIFY" ]; then
    echo "$0: $FPGA_CLASSIFY is not built (swift build -c release --static-swift-stdlib --product fpga-classify)" >&2
    exit 2
fi
exec "$FPGA_CLASSIFY" "$1" --model "$2" --format raw --local 2 --force -o "$3" --logits "$4"
