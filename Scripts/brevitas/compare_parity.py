#!/usr/bin/env python3
"""Compares a candidate's classes and logits with Brevitas's (standard library only).

Usage: compare_parity.py CASE_DIR CLASSES [LOGITS] [--max-ulp N] [--label NAME]

CASE_DIR holds expected-classes.txt (one class per line) and expected-logits.bin (10 float32
little-endian per image), as make_parity_case.py writes them. CLASSES is the candidate's file in
the same form as expected-classes.txt (what `fpga-classify -o` writes); LOGITS, when given, is in
the form of expected-logits.bin.

Classes must be equal on every image. Logits, with --model MODEL_FILE (the converted model, for
its TensorNorm bias b), must satisfy for each logit l (Brevitas) and l' (candidate):

    |l' - l| <= K * 2^-24 * (|l - b| + |l|)          K = --tolerance, default 8

that is, float32 rounding of the TensorNorm's terms. Why not bit-identical: torch (2.13.0+cpu,
every CPU capability) computes the TensorNorm's sqrt(var + eps) one ulp away from the correctly
rounded square root for about one float32 in five, and every logit inherits that relative error
of up to 2^-23 through the division (up to about 2^-22 after the division's and the multiply's own
roundings), while the model format asks for the correctly rounded square root. Where the square
roots agree, an implementation that follows the format's float32 operations is bit-identical; the
report counts bit-identical logits. Without --model, logits must be within --max-ulp ulp
(default 0: bit-identical).

Exit status: 0 all equal, 1 any mismatch, 2 unreadable or inconsistent files.
"""

import argparse
import math
import os
import struct
import sys

CLASSES = 10


def fail(message):
    print(f"compare_parity: error: {message}", file=sys.stderr)
    sys.exit(2)


def read_classes(path):
    try:
        with open(path) as stream:
            lines = stream.read().split("\n")
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")
    if lines and lines[-1] == "":
        lines.pop()
    classes = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text.isdigit() or int(text) >= CLASSES:
            fail(f"{path}: line {number} is {line!r}, not a class index 0...{CLASSES - 1}")
        classes.append(int(text))
    return classes


def read_logits(path, images):
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")
    if len(data) != images * CLASSES * 4:
        fail(f"{path}: {len(data)} bytes, expected {images * CLASSES * 4} ({images} images x {CLASSES} float32)")
    return data


def read_tensor_norm_bias(path):
    """The TensorNorm bias of a version 1 model file: its last 20 bytes are mean, var, weight, bias, eps."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")
    if len(data) < 36 or data[:8] != b"CNVW1A1\x00":
        fail(f"{path}: not a CNV-W1A1 model file")
    _, _, _, bias, _ = struct.unpack("<5f", data[-20:])
    return bias


def ordered(bits):
    """float32 bit patterns to integers in the order of the values (+0 and -0 both 0)."""
    return bits if bits < 0x80000000 else 0x80000000 - bits


def ulp_distance(a_bits, b_bits):
    return abs(ordered(a_bits) - ordered(b_bits))


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("case", metavar="CASE_DIR")
    parser.add_argument("classes", metavar="CLASSES")
    parser.add_argument("logits", metavar="LOGITS", nargs="?")
    parser.add_argument("--model", metavar="MODEL_FILE", help="converted model: relative tolerance on logits")
    parser.add_argument("--tolerance", type=float, default=8.0, metavar="K", help="with --model (default 8)")
    parser.add_argument("--max-ulp", type=int, default=0, help="without --model (default 0)")
    parser.add_argument("--label", default="candidate")
    args = parser.parse_args()

    expected = read_classes(os.path.join(args.case, "expected-classes.txt"))
    candidate = read_classes(args.classes)
    if len(candidate) != len(expected):
        fail(f"{args.classes}: {len(candidate)} classes, expected {len(expected)}")
    mismatches = [i for i, (e, c) in enumerate(zip(expected, candidate)) if e != c]
    print(f"{args.label}: top-1 on {len(expected)} images: {len(expected) - len(mismatches)} match, {len(mismatches)} mismatch")
    for i in mismatches[:10]:
        print(f"  image {i}: Brevitas {expected[i]}, {args.label} {candidate[i]}")
    status = 1 if mismatches else 0

    if args.logits is not None:
        expected_data = read_logits(os.path.join(args.case, "expected-logits.bin"), len(expected))
        candidate_data = read_logits(args.logits, len(expected))
        count = len(expected) * CLASSES
        e_bits = struct.unpack(f"<{count}I", expected_data)
        c_bits = struct.unpack(f"<{count}I", candidate_data)
        e_values = struct.unpack(f"<{count}f", expected_data)
        c_values = struct.unpack(f"<{count}f", candidate_data)
        identical = sum(1 for a, b in zip(e_bits, c_bits) if a == b)
        distances = [ulp_distance(a, b) for a, b in zip(e_bits, c_bits)]
        if args.model is not None:
            bias = read_tensor_norm_bias(args.model)
            # How many units of 2^-24 * (|l - b| + |l|) each difference is.
            scores = []
            for e, c in zip(e_values, c_values):
                scale = (abs(e - bias) + abs(e)) * 2.0**-24
                difference = abs(c - e)
                scores.append(0.0 if difference == 0 else (difference / scale if scale > 0 else math.inf))
            over = [i for i, score in enumerate(scores) if not score <= args.tolerance]
            rule = f"the tolerance of {args.tolerance:g} x 2^-24 x (|l - b| + |l|)"
            worst = f"largest difference {max(distances)} ulp, relative {max(scores):.2f}"
        else:
            over = [i for i, d in enumerate(distances) if d > args.max_ulp]
            rule = f"the tolerance of {args.max_ulp} ulp"
            worst = f"largest difference {max(distances)} ulp"
        print(f"{args.label}: logits, {count} values: {identical} bit-identical, {worst}, {len(over)} over {rule}")
        for i in over[:10]:
            print(f"  image {i // CLASSES} class {i % CLASSES}: Brevitas {e_values[i]!r}, {args.label} {c_values[i]!r}")
        if over:
            status = 1
    print(f"{args.label}: {'PASS' if status == 0 else 'FAIL'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
