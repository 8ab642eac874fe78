#!/usr/bin/env bash
# Creates (or reuses) the Python virtual environment with a CPU-only torch and Brevitas that the
# Brevitas parity check and benchmark run in.
#
# Usage: Scripts/brevitas-venv.sh [VENV_DIR]        (default .build/brevitas-venv)
#
# Installs "torch==<the highest +cpu build pip can see>" "numpy<2" "setuptools<81" brevitas.
# PyPI's default torch needs CUDA libraries; the CPU-only build comes from pip's configured
# find-links folder, and `pip index versions torch` lists it, so the +cpu version is picked from
# that list (BREVITAS_TORCH_VERSION overrides it). An environment whose recorded requirements match
# and whose packages import is reused.
#
# Exit status: 0 ready (last line "brevitas venv: ready ..."); 3 when torch or Brevitas cannot be
# installed or imported here, after printing "skipped: <reason>"; anything else is a bug.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${1:-.build/brevitas-venv}
LOG="$VENV.log"
started=$SECONDS

skip() {
    echo "skipped: $*"
    exit 3
}

ready() {
    echo "brevitas venv: ready in $((SECONDS - started)) s ($1): $("$VENV/bin/python" -c '
import brevitas, numpy, torch
print(f"torch {torch.__version__}, brevitas {brevitas.__version__}, numpy {numpy.__version__}")')"
    exit 0
}

imports_work() {
    "$VENV/bin/python" -c 'import torch, numpy, brevitas_examples.bnn_pynq.models' >/dev/null 2>&1
}

command -v python3 >/dev/null || skip "python3 is not installed"
mkdir -p "$(dirname "$VENV")"

if [ -x "$VENV/bin/python" ] && [ -f "$VENV/.requirements" ] && imports_work &&
    { [ -z "${BREVITAS_TORCH_VERSION:-}" ] || grep -qxF "torch==$BREVITAS_TORCH_VERSION" "$VENV/.requirements"; }; then
    ready "reused $(tr '\n' ' ' <"$VENV/.requirements" | sed 's/ $//')"
fi

rm -rf "$VENV"
: >"$LOG"
python3 -m venv "$VENV" >>"$LOG" 2>&1 || skip "python3 -m venv failed (see $LOG; on Debian: apt-get install python3-venv)"
pip=("$VENV/bin/pip" --disable-pip-version-check --no-input)

torch_version=${BREVITAS_TORCH_VERSION:-}
if [ -z "$torch_version" ]; then
    listing=$("${pip[@]}" index versions torch 2>>"$LOG") || skip "pip index versions torch failed (see $LOG)"
    echo "$listing" >>"$LOG"
    # The highest version carrying the +cpu local label, compared as versions.
    torch_version=$(printf '%s\n' "$listing" | "$VENV/bin/python" -c '
import sys
from pip._vendor.packaging.version import InvalidVersion, Version
versions = []
for line in sys.stdin:
    if line.startswith("Available versions:"):
        for text in line.split(":", 1)[1].split(","):
            try:
                version = Version(text.strip())
            except InvalidVersion:
                continue
            if version.local == "cpu":
                versions.append(version)
print(max(versions) if versions else "")')
    [ -n "$torch_version" ] || skip "no CPU-only torch build (+cpu) is available to pip here (pip index versions torch lists none)"
fi

requirements=("torch==$torch_version" "numpy<2" "setuptools<81" "brevitas")
echo "brevitas venv: installing ${requirements[*]} into $VENV"
if ! "${pip[@]}" install "${requirements[@]}" >>"$LOG" 2>&1; then
    reason=$(grep -E '^ERROR' "$LOG" | tail -n 1 || true)
    skip "pip could not install ${requirements[*]}: ${reason:-see $LOG}"
fi
if ! imports_work; then
    reason=$("$VENV/bin/python" -c 'import torch, numpy, brevitas_examples.bnn_pynq.models' 2>&1 | tail -n 1 || true)
    skip "torch or brevitas does not import: $reason"
fi
printf '%s\n' "${requirements[@]}" >"$VENV/.requirements"
ready "created"
