"""A seeded random Brevitas CNV-W1A1 with batch-norm statistics that exercise the thresholds, and test images.

Used by make_parity_case.py and bench-brevitas.py (run inside the Brevitas virtual environment).

Batch norm per channel, with K the fan-in, sd the accumulator's typical spread (sqrt(K) for +-1
layers, about 384 for conv0 on random pixels) and unit 128 for conv0 (1 elsewhere):
  running_mean  an integer accumulator value near the middle of the distribution (so that images
                hit it exactly), divided by unit; a few channels far outside the range (constant output)
  running_var   (sd / unit)^2 times a factor in [0.25, 4]
  weight        +-[0.2, 2] with either sign; about 3% exactly 0 (constant channels)
  bias          0 for about 40% (the threshold is exactly the mean: BN output 0, sign +1),
                a value putting the float64 threshold on an integer a few steps from the mean for
                about 30% (float32 rounding decides which side those fall), random otherwise
Weights: uniform in [-1, 1] (CNV's own initialisation), with about 0.5% set to +0.0 or -0.0
(Brevitas's binary quantiser maps both to +1).
"""

import numpy as np

FAN_INS = {
    "conv_features.2": (27, 384.0, 128),
    "conv_features.5": (576, 24.0, 1),
    "conv_features.9": (576, 24.0, 1),
    "conv_features.12": (1152, 34.0, 1),
    "conv_features.16": (1152, 34.0, 1),
    "conv_features.19": (2304, 48.0, 1),
    "linear_features.1": (256, 16.0, 1),
    "linear_features.4": (512, 22.6, 1),
}
WEIGHT_KEYS = [
    "conv_features.1.weight",
    "conv_features.4.weight",
    "conv_features.8.weight",
    "conv_features.11.weight",
    "conv_features.15.weight",
    "conv_features.18.weight",
    "linear_features.0.weight",
    "linear_features.3.weight",
    "linear_features.6.weight",
]
BN_EPS = 1e-4


def _parity(value, fan_in, unit):
    """+-1 layers' accumulators have the parity of the fan-in: keep the mean reachable."""
    if unit == 1 and (value - fan_in) % 2 != 0:
        value += 1
    return value


def _batch_norm_statistics(rng, channels, fan_in, spread, unit):
    gamma = np.empty(channels)
    beta = np.empty(channels)
    mean = np.empty(channels)
    var = np.empty(channels)
    limit = fan_in * 128 if unit != 1 else fan_in
    for c in range(channels):
        mean_acc = _parity(int(round(rng.normal(0.0, 0.5 * spread))), fan_in, unit)
        kind = rng.random()
        if kind < 0.02:
            mean_acc = int(rng.choice([-1, 1])) * (limit + int(rng.integers(2, 50)))
        sigma_real = spread / unit * np.sqrt(rng.uniform(0.25, 4.0))
        var[c] = sigma_real**2
        g = rng.uniform(0.2, 2.0) * rng.choice([-1.0, 1.0])
        if rng.random() < 0.03:
            g = 0.0 if rng.random() < 0.5 else -0.0
        gamma[c] = g
        sigma = np.sqrt(np.float64(np.float32(var[c])) + BN_EPS)
        if kind < 0.40:
            beta[c] = 0.0
        elif kind < 0.70 and g != 0:
            # Threshold (mean_acc + d) / unit exactly in float64, before rounding beta to float32.
            d = int(rng.integers(-4, 5)) * (2 if unit == 1 else 1)
            beta[c] = -(d / unit) * g / sigma
        else:
            beta[c] = rng.normal(0.0, 1.0) * max(abs(g), 0.2)
        mean[c] = mean_acc / unit
    return gamma, beta, mean, var


def build_random_cnv(seed, tensor_norm_weight_sign=1.0):
    """Brevitas CNV-W1A1 (cnv_1w1a, not pretrained) with seeded weights and statistics, in eval mode."""
    import torch
    from brevitas_examples.bnn_pynq.models import cnv_1w1a

    torch.manual_seed(seed)
    model = cnv_1w1a(pretrained=False)
    rng = np.random.default_rng(seed)
    state = model.state_dict()
    for key in WEIGHT_KEYS:
        weights = state[key].numpy().copy()
        flat = weights.reshape(-1)
        zeros = rng.random(flat.size) < 0.005
        flat[zeros] = np.where(rng.random(int(zeros.sum())) < 0.5, 0.0, -0.0)
        state[key] = torch.from_numpy(weights)
    for prefix, (fan_in, spread, unit) in FAN_INS.items():
        channels = state[prefix + ".weight"].numel()
        gamma, beta, mean, var = _batch_norm_statistics(rng, channels, fan_in, spread, unit)
        state[prefix + ".weight"] = torch.from_numpy(gamma.astype(np.float32))
        state[prefix + ".bias"] = torch.from_numpy(beta.astype(np.float32))
        state[prefix + ".running_mean"] = torch.from_numpy(mean.astype(np.float32))
        state[prefix + ".running_var"] = torch.from_numpy(var.astype(np.float32))
    norm = "linear_features.7"
    state[norm + ".running_mean"] = torch.tensor([rng.normal(0.0, 4.0)], dtype=torch.float32)
    state[norm + ".running_var"] = torch.tensor([rng.uniform(100.0, 600.0)], dtype=torch.float32)
    state[norm + ".weight"] = torch.tensor([tensor_norm_weight_sign * rng.uniform(0.5, 2.0)], dtype=torch.float32)
    state[norm + ".bias"] = torch.tensor([rng.normal(0.0, 0.5)], dtype=torch.float32)
    model.load_state_dict(state, strict=True)
    model.eval()
    return model


def make_images(seed, count):
    """count uint8 images, NHWC 32x32x3: the edge images (all 0, 255, 127, 128) first, then a mix of
    uniform noise, smooth images, blocks, images near the 127/128 boundary and saturated ones."""
    if count < 4:
        raise ValueError("at least the 4 edge images")
    rng = np.random.default_rng(seed + 1_000_003)
    images = np.empty((count, 32, 32, 3), dtype=np.uint8)
    for i, value in enumerate((0, 255, 127, 128)):
        images[i] = value
    for i in range(4, count):
        kind = i % 5
        if kind == 0:
            image = rng.integers(0, 256, size=(32, 32, 3))
        elif kind == 1:
            coarse = rng.uniform(0, 255, size=(4, 4, 3))
            image = np.kron(coarse, np.ones((8, 8, 1))) + rng.normal(0, 12, size=(32, 32, 3))
        elif kind == 2:
            coarse = rng.integers(0, 256, size=(8, 8, 3))
            image = np.kron(coarse, np.ones((4, 4, 1)))
        elif kind == 3:
            image = rng.integers(125, 131, size=(32, 32, 3))
        else:
            image = rng.choice([0, 255], size=(32, 32, 3))
        images[i] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return images


def brevitas_logits(model, images, batch=64):
    """float32 logits of uint8 NHWC images, fed as Brevitas's training pipeline does: pixel / 255."""
    import torch

    outputs = []
    with torch.no_grad():
        for start in range(0, len(images), batch):
            chunk = torch.from_numpy(images[start : start + batch]).permute(0, 3, 1, 2).contiguous()
            x = chunk.to(torch.float32) / 255.0
            outputs.append(model(x).to(torch.float32).numpy())
    return np.concatenate(outputs, axis=0)
