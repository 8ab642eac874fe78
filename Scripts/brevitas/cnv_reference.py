#!/usr/bin/env python3
"""Plain integer CNV-W1A1 inference from a model file (format version 1) alone, with numpy.

Usage: cnv_reference.py MODEL_FILE IMAGES_BIN CLASSES_OUT LOGITS_OUT

IMAGES_BIN holds uint8 NHWC 32x32x3 images back to back. CLASSES_OUT gets one class index per
line; LOGITS_OUT 10 float32 little-endian logits per image. Prints, per layer, the share of +1
outputs and how often an accumulator hit its channel's threshold exactly (acc == T).

Written from the format description only (it imports neither torch, brevitas nor the converter),
so that it checks the converter and, later, stands beside the Swift kernel. The dot products are
float64 matrix products of small integers (|acc| <= 3456 < 2^53), hence exact.
"""

import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")  # the machine's 2 cores; before numpy loads BLAS
import numpy as np  # noqa: E402

MAGIC = b"CNVW1A1\x00"
# name, Cin, Cout, convolution?
LAYERS = [
    ("conv0", 3, 64, True),
    ("conv1", 64, 64, True),
    ("conv2", 64, 128, True),
    ("conv3", 128, 128, True),
    ("conv4", 128, 256, True),
    ("conv5", 256, 256, True),
    ("fc0", 256, 512, False),
    ("fc1", 512, 512, False),
    ("fc2", 512, 10, False),
]
POOL_AFTER = {"conv1", "conv3"}
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
IMAGE_BYTES = 32 * 32 * 3


class ModelError(Exception):
    pass


def fan_in(cin, conv):
    return cin * 9 if conv else cin


def expected_size():
    size = 16
    for i, (_, cin, cout, conv) in enumerate(LAYERS):
        size += cout * fan_in(cin, conv) // 8 + (20 if i == len(LAYERS) - 1 else 8 * cout)
    return size


def read_model(path):
    data = open(path, "rb").read()
    if len(data) != expected_size():
        raise ModelError(f"{path}: {len(data)} bytes, a version 1 model file has {expected_size()}")
    if data[:8] != MAGIC:
        raise ModelError(f"{path}: bad magic {data[:8]!r}")
    version, reserved = np.frombuffer(data, dtype="<u4", count=2, offset=8)
    if version != 1 or reserved != 0:
        raise ModelError(f"{path}: version {version}, reserved {reserved}; expected 1 and 0")
    offset = 16
    layers = []
    for i, (name, cin, cout, conv) in enumerate(LAYERS):
        k = fan_in(cin, conv)
        count = cout * k // 8
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8, count=count, offset=offset), bitorder="little")
        offset += count
        weights = np.where(bits.reshape(cout, k) == 1, 1.0, -1.0)  # row o, column (ci, ky, kx) or j
        if i < len(LAYERS) - 1:
            table = np.frombuffer(data, dtype="<i4", count=2 * cout, offset=offset).reshape(cout, 2).astype(np.int64)
            offset += 8 * cout
            if not np.all(np.isin(table[:, 1], (1, -1))):
                raise ModelError(f"{path}: {name} has a direction other than +1 or -1")
            layers.append((name, weights, table[:, 0], table[:, 1]))
        else:
            norm = np.frombuffer(data, dtype="<f4", count=5, offset=offset)
            offset += 20
            layers.append((name, weights, norm))
    assert offset == len(data)
    return layers


def input_code_table():
    """q(p) = clamp(round_half_even((2 * (p / 255) - 1) * 128), -128, 127), each step in float32."""
    p = np.arange(256, dtype=np.float32)
    x = p / np.float32(255)
    y = np.float32(2) * x - np.float32(1)
    q = np.clip(np.rint(y * np.float32(128)), -128, 127).astype(np.int64)  # rint: half to even
    assert q[0] == -128 and q[127] == -1 and q[128] == 1 and q[254] == 127 and q[255] == 127
    assert not np.any(q == 0)
    return q


def conv_acc(x, weights):
    """x [B, C, H, W] (codes or +-1), weights [Cout, C*9] in (ci, ky, kx) order -> acc [B, Cout, H-2, W-2]."""
    b, c, h, w = x.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))  # [B, C, H', W', 3, 3]
    columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(b * (h - 2) * (w - 2), c * 9)
    acc = columns.astype(np.float64) @ weights.T
    return np.rint(acc).astype(np.int64).reshape(b, h - 2, w - 2, -1).transpose(0, 3, 1, 2)


class Stats:
    def __init__(self):
        self.ones = {}
        self.total = {}
        self.hits = {}

    def add(self, name, acc, thresholds, out, channel_axis):
        shape = [1] * acc.ndim
        shape[channel_axis] = -1
        t = thresholds.reshape(shape)
        live = (t != INT32_MIN) & (t != INT32_MAX)
        self.ones[name] = self.ones.get(name, 0) + int(out.sum())
        self.total[name] = self.total.get(name, 0) + out.size
        self.hits[name] = self.hits.get(name, 0) + int(((acc == t) & live).sum())


def threshold(acc, thresholds, directions, channel_axis):
    shape = [1] * acc.ndim
    shape[channel_axis] = -1
    t = thresholds.reshape(shape)
    d = directions.reshape(shape)
    return np.where(d == 1, acc >= t, acc <= t)


def infer(layers, images, stats):
    """uint8 [B, 32, 32, 3] -> (fc2 accumulators [B, 10], logits float32 [B, 10])."""
    table = input_code_table()
    x = table[images].transpose(0, 3, 1, 2)  # [B, 3, 32, 32] int8 codes
    for name, weights, thresholds, directions in layers[:6]:
        acc = conv_acc(x, weights)
        bits = threshold(acc, thresholds, directions, 1)
        stats.add(name, acc, thresholds, bits, 1)
        if name in POOL_AFTER:  # 2x2 max of +-1 values: OR of the +1 bits
            b, c, h, w = bits.shape
            bits = bits.reshape(b, c, h // 2, 2, w // 2, 2).any(axis=(3, 5))
        x = np.where(bits, 1, -1)
    x = x.reshape(x.shape[0], -1)  # [B, 256, 1, 1] -> [B, 256]
    for name, weights, thresholds, directions in layers[6:8]:
        acc = np.rint(x.astype(np.float64) @ weights.T).astype(np.int64)
        bits = threshold(acc, thresholds, directions, 1)
        stats.add(name, acc, thresholds, bits, 1)
        x = np.where(bits, 1, -1)
    _, weights, norm = layers[8]
    acc = np.rint(x.astype(np.float64) @ weights.T).astype(np.int64)
    mean, var, weight, bias, eps = (np.float32(v) for v in norm)
    # Each step one float32 operation, in the format's order.
    logits = ((acc.astype(np.float32) - mean) / np.sqrt(var + eps)) * weight + bias
    assert logits.dtype == np.float32
    return acc, logits


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    model_path, images_path, classes_path, logits_path = argv[1:]
    try:
        layers = read_model(model_path)
    except (OSError, ModelError) as error:
        print(f"cnv_reference: error: {error}", file=sys.stderr)
        return 1
    raw = np.fromfile(images_path, dtype=np.uint8)
    if raw.size == 0 or raw.size % IMAGE_BYTES != 0:
        print(f"cnv_reference: error: {images_path}: {raw.size} bytes is not a multiple of {IMAGE_BYTES}", file=sys.stderr)
        return 1
    images = raw.reshape(-1, 32, 32, 3)
    stats = Stats()
    classes = []
    logits = []
    for start in range(0, len(images), 16):
        _, batch_logits = infer(layers, images[start : start + 16], stats)
        logits.append(batch_logits)
        classes.append(np.argmax(batch_logits, axis=1))  # first maximum: lowest index wins ties
    logits = np.concatenate(logits)
    classes = np.concatenate(classes)
    with open(classes_path, "w") as stream:
        stream.write("".join(f"{c}\n" for c in classes))
    logits.astype("<f4").tofile(logits_path)
    print(f"cnv_reference: {len(images)} images; per layer: share of +1 outputs, accumulators equal to the threshold")
    for name, *_ in layers[:8]:
        share = stats.ones[name] / stats.total[name]
        print(f"  {name:5s}  +1 {share:6.1%}   acc == T {stats.hits[name]:9d}")
    ties = int(np.sum(np.sum(logits == logits.max(axis=1, keepdims=True), axis=1) > 1))
    print(f"  fc2 logits: {ties} image(s) with a tie for the top class")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
