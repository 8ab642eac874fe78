#!/usr/bin/env python3
"""Control for the parity check: writes the model file with float64-only thresholds.

Usage: float64_control.py STATE_DICT MODEL_FILE

The converter moves a threshold to where Brevitas's float32 batch norm puts the step when that
differs from the float64 algebra. This writes the file without that correction, so the parity
harness can show that images do reach those boundaries: on a case whose ties are exercised, this
file disagrees with Brevitas where the converter's file does not.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Samples", "Classify"))
import brevitas_export  # noqa: E402


def main():
    if len(sys.argv) != 3:
        print("usage: float64_control.py STATE_DICT MODEL_FILE", file=sys.stderr)
        return 2
    torch.set_num_threads(2)
    arrays = brevitas_export.check_state_dict(brevitas_export.load_state_dict(sys.argv[1]), sys.argv[1])
    data, _, _ = brevitas_export.build_model_bytes(arrays, float32_check=False)
    brevitas_export.write_atomically(sys.argv[2], data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
