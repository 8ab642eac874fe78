#!/usr/bin/env python3
"""Converts a Brevitas CNV-W1A1 state dict into a CNV-W1A1 model file (format version 1).

Usage: python3 Samples/Classify/brevitas_export.py STATE_DICT MODEL_FILE [-v]

STATE_DICT is what `torch.save(model.state_dict())` writes for the CNV of
`brevitas_examples.bnn_pynq` with the cnv_1w1a configuration (a checkpoint of that package's
trainer, a dict whose "state_dict" entry is the state dict, and keys with DataParallel's
"module." prefix are accepted too). MODEL_FILE is written atomically: to a temporary file in the
same folder, renamed into place only when complete.

Needs torch and numpy, not brevitas.

Each batch norm followed by the binary activation becomes one integer threshold with a direction.
The threshold is derived in float64 from the parameters as Brevitas holds them (float32), then the
layer's batch norm is evaluated in float32 by torch, the way Brevitas evaluates it in eval mode, on
every accumulator value the layer can produce (which includes T-1, T and T+1). Where float32
rounding puts the step elsewhere than the float64 derivation, the converter writes the float32
step, because the file must reproduce what Brevitas computes; it says so on standard error.
"""

import argparse
import math
import os
import sys
import tempfile

MAGIC = b"CNVW1A1\x00"
FORMAT_VERSION = 1
BN_EPS = 1e-4
TENSOR_NORM_EPS = 1e-4
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

# (name, kind, cin, cout, weight key, batch-norm or TensorNorm prefix)
LAYERS = [
    ("conv0", "conv", 3, 64, "conv_features.1.weight", "conv_features.2"),
    ("conv1", "conv", 64, 64, "conv_features.4.weight", "conv_features.5"),
    ("conv2", "conv", 64, 128, "conv_features.8.weight", "conv_features.9"),
    ("conv3", "conv", 128, 128, "conv_features.11.weight", "conv_features.12"),
    ("conv4", "conv", 128, 256, "conv_features.15.weight", "conv_features.16"),
    ("conv5", "conv", 256, 256, "conv_features.18.weight", "conv_features.19"),
    ("fc0", "fc", 256, 512, "linear_features.0.weight", "linear_features.1"),
    ("fc1", "fc", 512, 512, "linear_features.3.weight", "linear_features.4"),
    ("fc2", "fc", 512, 10, "linear_features.6.weight", "linear_features.7"),
]
BN_FIELDS = ("weight", "bias", "running_mean", "running_var")
# conv0's accumulator is the real pre-batch-norm value times 128 (int8 input codes, scale 2^-7).
CONV0_UNIT = 128
INPUT_CODE_MIN = -128
INPUT_CODE_MAX = 127


class ExportError(Exception):
    """A problem with the input or the output, reported as one line."""


def fan_in(kind, cin):
    return cin * 9 if kind == "conv" else cin


def model_file_size():
    size = len(MAGIC) + 8
    for index, (_, kind, cin, cout, _, _) in enumerate(LAYERS):
        size += cout * fan_in(kind, cin) // 8
        size += 5 * 4 if index == len(LAYERS) - 1 else cout * 8
    return size


def expected_keys():
    keys = {}
    for _, kind, cin, cout, weight_key, norm in LAYERS:
        keys[weight_key] = (cout, cin, 3, 3) if kind == "conv" else (cout, cin)
        size = 1 if norm == "linear_features.7" else cout
        for field in BN_FIELDS:
            keys[f"{norm}.{field}"] = (size,)
    return keys


def optional_keys():
    """Keys a state dict may hold and the conversion does not use (batch norm's counters)."""
    return {f"{norm}.num_batches_tracked" for _, _, _, _, _, norm in LAYERS[:-1]}


def load_state_dict(path):
    import torch

    if not os.path.exists(path):
        raise ExportError(f"cannot read state dict {path}: no such file")
    if os.path.isdir(path):
        raise ExportError(f"cannot read state dict {path}: is a directory")
    try:
        with open(path, "rb") as stream:
            head = stream.read(4)
    except OSError as error:
        raise ExportError(f"cannot read state dict {path}: {error.strerror or error}") from None
    # torch.save writes a zip archive (PK..), or a bare pickle (protocol byte 0x80) in its legacy format.
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):
        raise ExportError(f"cannot read state dict {path}: not a file written by torch.save")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a file it cannot unpickle
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = next((line for line in lines if "error:" in line.lower()), lines[0] if lines else type(error).__name__)
        if len(detail) > 120 and ". " in detail:
            detail = detail[: detail.index(". ")]
        raise ExportError(f"cannot read state dict {path}: {detail}") from None
    if isinstance(loaded, dict) and "state_dict" in loaded and isinstance(loaded["state_dict"], dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict):
        raise ExportError(f"{path} does not hold a state dict (found {type(loaded).__name__})")
    if loaded and all(isinstance(k, str) and k.startswith("module.") for k in loaded):
        loaded = {k[len("module."):]: v for k, v in loaded.items()}
    return loaded


def check_state_dict(state, path):
    """Checks keys, types, shapes and values; returns float32 numpy arrays by key."""
    import numpy as np
    import torch

    expected = expected_keys()
    optional = optional_keys()
    for key in expected:
        if key not in state:
            raise ExportError(f"{path}: missing key {key} (not a Brevitas CNV-W1A1 state dict?)")
    for key in state:
        if key not in expected and key not in optional:
            raise ExportError(f"{path}: unexpected key {key} (not a Brevitas CNV-W1A1 state dict?)")
    arrays = {}
    for key, shape in expected.items():
        value = state[key]
        if not isinstance(value, torch.Tensor):
            raise ExportError(f"{path}: {key} is a {type(value).__name__}, not a tensor")
        if not value.is_floating_point():
            raise ExportError(f"{path}: {key} has dtype {value.dtype}, expected a floating-point tensor")
        if tuple(value.shape) != shape:
            raise ExportError(f"{path}: {key} has shape {tuple(value.shape)}, expected {shape}")
        # Brevitas's model holds its parameters in float32: load_state_dict casts to that.
        array = value.detach().to(torch.float32).contiguous().numpy().copy()
        if not np.all(np.isfinite(array)):
            raise ExportError(f"{path}: {key} holds a non-finite value (NaN or infinity)")
        if key.endswith(".running_var") and np.any(array < 0):
            raise ExportError(f"{path}: {key} holds a negative variance")
        arrays[key] = array
    return arrays


def pack_weights(weights):
    """Bit i of the packed bytes (LSB first) is 1 iff the i-th weight in PyTorch order is >= 0."""
    import numpy as np

    bits = (weights.reshape(-1) >= 0).astype(np.uint8)  # -0.0 >= 0: Brevitas maps it to +1 too
    return np.packbits(bits, bitorder="little").tobytes()


def accumulator_range(index, kind, cin):
    k = fan_in(kind, cin)
    if index == 0:
        return k * INPUT_CODE_MIN, k * -INPUT_CODE_MIN
    return -k, k


def float64_thresholds(gamma, beta, mean, var, unit):
    """Integer thresholds and directions from the float64 algebra of batch norm followed by sign.

    bn(x) = (x - mean) / sqrt(var + eps) * gamma + beta >= 0
      gamma > 0: x >= mean - beta * sqrt(var + eps) / gamma  -> acc >= ceil(t * unit)
      gamma < 0: x <= mean - beta * sqrt(var + eps) / gamma  -> acc <= floor(t * unit)
      gamma = 0: constant sign(beta) (sign(0) = +1)
    """
    result = []
    for g, b, m, v in zip(gamma.astype(float), beta.astype(float), mean.astype(float), var.astype(float)):
        if g == 0:
            result.append((INT32_MIN if b >= 0 else INT32_MAX, 1))
            continue
        t = (m - b * math.sqrt(v + BN_EPS) / g) * unit
        if not math.isfinite(t):
            t = math.copysign(float(2**40), t)
        step = math.ceil(t) if g > 0 else math.floor(t)
        result.append((max(INT32_MIN, min(INT32_MAX, step)), 1 if g > 0 else -1))
    return result


def float32_decisions(kind, gamma, beta, mean, var, accs, unit):
    """Brevitas's eval-mode BatchNorm + binary activation in float32, as booleans (+1 = True).

    Shape [accs, channels] for fc layers (BatchNorm1d on [N, C]) and [1, C, 1, accs] for conv layers
    (BatchNorm2d on NCHW), each channel seeing every accumulator value.
    """
    import numpy as np
    import torch
    import torch.nn.functional as F

    channels = gamma.shape[0]
    values = torch.from_numpy(accs.astype(np.float32)) / unit  # exact: unit is 1 or 2^7
    if kind == "conv":
        x = values.view(1, 1, 1, -1).expand(1, channels, 1, values.numel()).contiguous()
    else:
        x = values.view(-1, 1).expand(values.numel(), channels).contiguous()
    with torch.no_grad():
        y = F.batch_norm(
            x,
            torch.from_numpy(mean),
            torch.from_numpy(var),
            torch.from_numpy(gamma),
            torch.from_numpy(beta),
            training=False,
            momentum=0.1,
            eps=BN_EPS,
        )
        # ClampedBinaryQuant: clamp to [-scale, scale] with scale 1, then +1 where >= 0.
        y = torch.clamp(y, -1.0, 1.0).ge(0.0)
    y = y.numpy()
    return y.reshape(channels, -1) if kind == "conv" else y.T.copy()


def decide(threshold, direction, accs):
    import numpy as np

    return accs >= threshold if direction == 1 else accs <= threshold


def float32_step(name, channel, direction, row, accs):
    """The threshold that reproduces one channel's float32 decisions over accs (a contiguous range)."""
    import numpy as np

    lo, hi = int(accs[0]), int(accs[-1])
    changes = np.flatnonzero(row[1:] != row[:-1])
    if len(changes) > 1 or (len(changes) == 1 and row[0] == (direction == 1)):
        raise ExportError(
            f"{name} channel {channel}: batch norm + sign in float32 is not a threshold function "
            f"of the accumulator (parameters out of float32's range?)"
        )
    if len(changes) == 1:
        first_after = int(accs[changes[0] + 1])
        return (first_after, 1) if direction == 1 else (first_after - 1, -1)
    # Constant over the whole range: put the step outside it.
    if row[0]:
        return (lo - 1, 1) if direction == 1 else (hi + 1, -1)
    return (hi + 2, 1) if direction == 1 else (lo - 2, -1)


def derive_layer_thresholds(index, arrays, adjustments, float32_check=True):
    import numpy as np

    name, kind, cin, cout, _, norm = LAYERS[index]
    gamma, beta, mean, var = (arrays[f"{norm}.{field}"] for field in BN_FIELDS)
    unit = CONV0_UNIT if index == 0 else 1
    lo, hi = accumulator_range(index, kind, cin)
    # One value beyond each end, so that a step at the edge of the range is pinned down too.
    accs = np.arange(lo - 1, hi + 2, dtype=np.int64)
    # The values the accumulator can take: every integer for conv0; for +-1 layers a sum of K terms
    # of +-1, so the integers of K's parity. Thresholds that differ only on the other integers are
    # equivalent; the float64 one is kept then.
    reachable = (accs >= lo) & (accs <= hi)
    if index > 0:
        reachable &= (accs - fan_in(kind, cin)) % 2 == 0
    f64 = float64_thresholds(gamma, beta, mean, var, unit)
    if not float32_check:  # diagnostics only: the float64 algebra alone
        return f64
    f32 = float32_decisions(kind, gamma, beta, mean, var, accs, unit)
    result = []
    for channel, (threshold, direction) in enumerate(f64):
        row = f32[channel]
        if np.array_equal(decide(threshold, direction, accs)[reachable], row[reachable]):
            result.append((threshold, direction))
            continue
        if gamma[channel] == 0:
            # Constant in float32 too (x * 0 + beta); only the sign of a zero can differ.
            constant = bool(row[0])
            if not np.all(row == constant):
                raise ExportError(f"{name} channel {channel}: gamma is 0 but float32 output is not constant")
            fixed = (INT32_MIN if constant else INT32_MAX, 1)
        else:
            fixed = float32_step(name, channel, direction, row, accs)
        adjustments.append((name, channel, threshold, direction, fixed[0], fixed[1]))
        result.append(fixed)
    # The boundary cases, explicitly: acc = T-1, T, T+1 against the float32 evaluation.
    for channel, (threshold, direction) in enumerate(result):
        if lo - 1 <= threshold <= hi + 1:
            for acc in (threshold - 1, threshold, threshold + 1):
                if lo - 1 <= acc <= hi + 1 and reachable[acc - (lo - 1)]:
                    want = bool(f32[channel][acc - (lo - 1)])
                    got = acc >= threshold if direction == 1 else acc <= threshold
                    if want != got:
                        raise ExportError(f"{name} channel {channel}: threshold check failed at acc {acc}")
    return result


def build_model_bytes(arrays, log=None, float32_check=True):
    """The model file's bytes. float32_check=False skips the float32 evaluation (for diagnostics:
    such a file does not reproduce Brevitas where float32 rounding moves a step)."""
    import numpy as np

    adjustments = []
    constant_channels = 0
    out = bytearray(MAGIC)
    out += FORMAT_VERSION.to_bytes(4, "little") + (0).to_bytes(4, "little")
    for index, (name, kind, cin, cout, weight_key, norm) in enumerate(LAYERS):
        out += pack_weights(arrays[weight_key])
        if index < len(LAYERS) - 1:
            entries = derive_layer_thresholds(index, arrays, adjustments, float32_check)
            table = np.array(entries, dtype="<i4").reshape(-1)
            constant_channels += sum(1 for t, _ in entries if t in (INT32_MIN, INT32_MAX))
            out += table.tobytes()
        else:
            mean, var, weight, bias = (arrays[f"{norm}.{field}"][0] for field in ("running_mean", "running_var", "weight", "bias"))
            eps = np.float32(TENSOR_NORM_EPS)
            if not np.float32(var) + eps > 0:
                raise ExportError(f"{norm}.running_var + eps is not positive")
            out += np.array([mean, var, weight, bias, eps], dtype="<f4").tobytes()
    if len(out) != model_file_size():
        raise ExportError(f"internal error: built {len(out)} bytes, format says {model_file_size()}")
    if log is not None:
        for name, channel, t64, d64, t32, d32 in adjustments:
            log(
                f"{name} channel {channel}: float64 threshold {d64:+d}/{t64} differs from Brevitas's "
                f"float32 evaluation; wrote {d32:+d}/{t32}"
            )
    return bytes(out), adjustments, constant_channels


def write_atomically(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ExportError(f"cannot write {path}: is a directory")
    if not os.path.isdir(directory):
        raise ExportError(f"cannot write {path}: folder {directory} does not exist")
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)


def convert(state_dict_path, model_path, verbose=False):
    """Converts; returns (bytes written, thresholds moved to float32's step, constant channels)."""
    state = load_state_dict(state_dict_path)
    arrays = check_state_dict(state, state_dict_path)
    log = (lambda line: print(f"brevitas_export: {line}", file=sys.stderr)) if verbose else None
    data, adjustments, constants = build_model_bytes(arrays, log)
    write_atomically(model_path, data)
    return len(data), adjustments, constants


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="brevitas_export.py",
        description="Convert a Brevitas CNV-W1A1 state dict into a CNV-W1A1 model file (format version 1).",
    )
    parser.add_argument("state_dict", metavar="STATE_DICT", help="file written by torch.save(model.state_dict())")
    parser.add_argument("model", metavar="MODEL_FILE", help="model file to write")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every threshold moved to float32's step")
    args = parser.parse_args(argv)
    try:
        import numpy  # noqa: F401
        import torch
    except ImportError as error:
        print(f"brevitas_export: error: needs torch and numpy ({error})", file=sys.stderr)
        return 1
    torch.set_num_threads(min(2, torch.get_num_threads()))
    try:
        size, adjustments, constants = convert(args.state_dict, args.model, args.verbose)
    except ExportError as error:
        print(f"brevitas_export: error: {error}", file=sys.stderr)
        return 1
    print(
        f"brevitas_export: wrote {args.model} ({size} bytes): {len(adjustments)} threshold(s) set from "
        f"Brevitas's float32 evaluation instead of float64, {constants} constant channel(s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
