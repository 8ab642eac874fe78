#!/usr/bin/env python3
"""Compares a candidate's classes and logits with Brevitas's (standard library only).

Usage: compare_parity.py CASE_DIR CLASSES [LOGITS] [--max-ulp N] [--label NAME]

CASE_DIR holds expected-classes.txt (one class per line) and expected-logits.bin (10 float32
little-endian per image), as make_parity_case.py writes them. CLASSES is the candidate's file in
the same form as expected-classes.txt (what `fpga-classify -o` writes); LOGITS, when given, is in
the form of expected-logits.bin.

Classes must be equal on every image. Logits must be within --max-ulp units in the last place of
float32 (default 0: bit-identical, since the model format fixes the float32 operations of the
TensorNorm, which are the ones torch performs, each correctly rounded, on exact integer inputs).

Exit status: 0 all equal, 1 any mismatch, 2 unreadable or inconsistent files.
"""

import argparse
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
    return list(struct.unpack(f"<{images * CLASSES}f", data)), data


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
    parser.add_argument("--max-ulp", type=int, default=0)
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
        _, expected_data = read_logits(os.path.join(args.case, "expected-logits.bin"), len(expected))
        _, candidate_data = read_logits(args.logits, len(expected))
        count = len(expected) * CLASSES
        e_bits = struct.unpack(f"<{count}I", expected_data)
        c_bits = struct.unpack(f"<{count}I", candidate_data)
        distances = [ulp_distance(a, b) for a, b in zip(e_bits, c_bits)]
        identical = sum(1 for a, b in zip(e_bits, c_bits) if a == b)
        over = [i for i, d in enumerate(distances) if d > args.max_ulp]
        print(
            f"{args.label}: logits, {count} values: {identical} bit-identical, largest difference "
            f"{max(distances)} ulp, {len(over)} over the tolerance of {args.max_ulp} ulp"
        )
        e_values = struct.unpack(f"<{count}f", expected_data)
        c_values = struct.unpack(f"<{count}f", candidate_data)
        for i in over[:10]:
            print(f"  image {i // CLASSES} class {i % CLASSES}: Brevitas {e_values[i]!r}, {args.label} {c_values[i]!r}")
        if over:
            status = 1
    print(f"{args.label}: {'PASS' if status == 0 else 'FAIL'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
