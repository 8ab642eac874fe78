#!/usr/bin/env python3
"""Writes a Brevitas parity case into a folder (run inside the Brevitas virtual environment).

Usage: make_parity_case.py OUT_DIR [--seed N] [--images N]

OUT_DIR gets:
  state_dict.pt          torch.save(model.state_dict()) of a seeded random CNV-W1A1 (random_cnv.py)
  images.bin             the images, uint8 NHWC 32x32x3 back to back (edge images first)
  expected-classes.txt   Brevitas's top-1 class per image, one per line
  expected-logits.bin    Brevitas's logits, 10 float32 little-endian per image
  case.txt               seed, image count and the versions used

It also checks Brevitas's input quantiser against the model format's 256-entry input code table.
"""

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from random_cnv import brevitas_logits, build_random_cnv, make_images  # noqa: E402


def check_input_table(model):
    """Brevitas's QuantIdentity on 2 * (p / 255) - 1 gives code / 128 with the format's codes."""
    p = torch.arange(256, dtype=torch.float32).view(1, 1, 1, 256) / 255.0
    with torch.no_grad():
        quantised = model.conv_features[0](2.0 * p - torch.tensor([1.0]))
    codes = (quantised.view(-1) * 128).numpy()
    x = np.arange(256, dtype=np.float32) / np.float32(255)
    table = np.clip(np.rint((np.float32(2) * x - np.float32(1)) * np.float32(128)), -128, 127)
    if not np.array_equal(codes, table):
        bad = np.flatnonzero(codes != table)
        raise SystemExit(f"make_parity_case: Brevitas's input codes differ from the format's table at pixels {bad[:8]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("out", metavar="OUT_DIR")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--tensor-norm-sign", type=float, default=1.0, choices=(1.0, -1.0))
    args = parser.parse_args()
    if args.images < 256:
        parser.error("--images: at least 256")
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)

    model = build_random_cnv(args.seed, args.tensor_norm_sign)
    check_input_table(model)
    torch.save(model.state_dict(), os.path.join(args.out, "state_dict.pt"))
    images = make_images(args.seed, args.images)
    images.tofile(os.path.join(args.out, "images.bin"))
    logits = brevitas_logits(model, images)
    # torch.argmax returns the first maximal index: the lowest class wins ties.
    classes = torch.argmax(torch.from_numpy(logits), dim=1).numpy()
    logits.astype("<f4").tofile(os.path.join(args.out, "expected-logits.bin"))
    with open(os.path.join(args.out, "expected-classes.txt"), "w") as stream:
        stream.write("".join(f"{c}\n" for c in classes))

    import brevitas

    with open(os.path.join(args.out, "case.txt"), "w") as stream:
        stream.write(
            f"seed {args.seed}\nimages {args.images}\ntensor_norm_sign {args.tensor_norm_sign:+.0f}\n"
            f"torch {torch.__version__}\nbrevitas {brevitas.__version__}\nnumpy {np.__version__}\n"
        )
    histogram = np.bincount(classes, minlength=10)
    print(
        f"make_parity_case: seed {args.seed}, {args.images} images, Brevitas classes per index {histogram.tolist()}; "
        f"input quantiser matches the format's code table"
    )


if __name__ == "__main__":
    main()
