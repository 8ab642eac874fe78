#!/usr/bin/env python3
"""Brevitas CNV-W1A1 in eval mode: images per second at batch 1, 32 and 256, torch on 2 threads.

Usage (inside the Brevitas virtual environment, see Scripts/brevitas-venv.sh, or `make bench-brevitas`):
  .build/brevitas-venv/bin/python Scripts/bench-brevitas.py [--seed N] [--seconds S] [--json FILE]

The model is the parity check's seeded random CNV-W1A1 (Scripts/brevitas/random_cnv.py, same
default seed), so the Swift kernel can be measured on the same model in the same run: convert
the state dict this writes with --state-dict using Samples/Classify/brevitas_export.py. Each batch
size runs one warm-up batch, then whole batches until at least --seconds have passed; the time
covers uint8 NHWC -> float pixel / 255 -> logits, as a user feeding raw images pays it. Prints a
table; --json also writes the figures. One run, not a test: nothing fails for being slow.
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "brevitas"))
from random_cnv import build_random_cnv, make_images  # noqa: E402

BATCHES = (1, 32, 256)
THREADS = 2


def measure(model, images, batch, seconds):
    def run(start):
        chunk = torch.from_numpy(images[start : start + batch]).permute(0, 3, 1, 2).contiguous()
        return model(chunk.to(torch.float32) / 255.0)

    count = len(images) // batch
    with torch.inference_mode():
        run(0)  # warm-up: first-call allocation and dispatch
        done = 0
        started = time.perf_counter()
        while True:
            run((done % count) * batch)
            done += 1
            elapsed = time.perf_counter() - started
            if elapsed >= seconds and done >= 3:
                break
    return done * batch / elapsed, done * batch, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seed", type=int, default=2025, help="model seed (the parity check's default)")
    parser.add_argument("--seconds", type=float, default=5.0, help="minimum time per batch size")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--state-dict", metavar="FILE", help="also save the model's state dict here")
    args = parser.parse_args()

    torch.set_num_threads(THREADS)
    model = build_random_cnv(args.seed)
    if args.state_dict:
        torch.save(model.state_dict(), args.state_dict)
    images = make_images(args.seed, 512)

    import brevitas

    print(
        f"Brevitas {brevitas.__version__} CNV-W1A1 eval, torch {torch.__version__} on {torch.get_num_threads()} "
        f"threads, {os.cpu_count()} cores ({platform.processor() or platform.machine()}), seed {args.seed}"
    )
    print(f"{'batch':>5}  {'images':>7}  {'seconds':>7}  {'images/s':>9}")
    rows = []
    for batch in BATCHES:
        rate, count, elapsed = measure(model, images, batch, args.seconds)
        rows.append({"batch": batch, "images": count, "seconds": round(elapsed, 3), "images_per_second": round(rate, 1)})
        print(f"{batch:>5}  {count:>7}  {elapsed:>7.2f}  {rate:>9.1f}")
    best = max(rows, key=lambda row: row["images_per_second"])
    print(f"best: {best['images_per_second']:.1f} images/s at batch {best['batch']}")
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(
                {
                    "brevitas": brevitas.__version__,
                    "torch": torch.__version__,
                    "threads": THREADS,
                    "seed": args.seed,
                    "rows": rows,
                    "best": best,
                },
                stream,
                indent=2,
            )
            stream.write("\n")


if __name__ == "__main__":
    main()
