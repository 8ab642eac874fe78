// Bit-packed XNOR-popcount inference for the CNV-W1A1 binarized CNN.
//
// Activations are bit-packed NHWC: for each pixel, C bits in C/64 little-endian 64-bit
// words, channel c at bit c % 64 of word c / 64, bit 1 meaning +1. The caller (the Swift
// engine) repacks the model into the layouts below once, at load; these functions only
// read the network, so any number of threads may run them at once on the same network.
#ifndef C_BINARY_NET_H
#define C_BINARY_NET_H

#include <stddef.h>
#include <stdint.h>

/// Kernel variants, chosen at run time (see cbn_supported_kernels).
enum {
    /// Plain C, any CPU.
    CBN_KERNEL_PORTABLE = 0,
    /// Plain C compiled for the x86-64 popcnt instruction.
    CBN_KERNEL_POPCNT = 1,
    /// AVX2: nibble-table popcounts, 4 channels per vector.
    CBN_KERNEL_AVX2 = 2,
    /// AVX-512 with VPOPCNTDQ and BW: 8 channels per vector.
    CBN_KERNEL_AVX512 = 3,
};

/// Sizes, in 64-bit words per image, of the bit tensors a trace receives, in order:
/// conv0 30x30x64, conv1 28x28x64, pool 14x14x64, conv2 12x12x128, conv3 10x10x128,
/// pool 5x5x128, conv4 3x3x256, conv5 1x1x256, fc0 512, fc1 512.
#define CBN_TRACE_COUNT 10
#define CBN_CLASSES 10
#define CBN_IMAGE_BYTES 3072

/// One binary layer (conv1..conv5, fc0, fc1).
typedef struct cbn_binary_layer {
    /// [cout / 8][taps][8]: word t of the weights of output channel g * 8 + l is at
    /// (g * taps + t) * 8 + l. A conv's taps are (ky, kx, input word) in that order.
    const uint64_t *weights;
    /// [cout]: the output bit of channel c is (disagreements >= thresholds[c]) XOR the
    /// invert bit, where disagreements = popcount(input XOR weights) over all taps.
    const int64_t *thresholds;
    /// [cout / 8]: bit l of byte g inverts channel g * 8 + l.
    const uint8_t *invert;
    /// 64-bit words per window: 9 * cin / 64 for a conv, in / 64 for a dense layer.
    int32_t taps;
    int32_t cout;
} cbn_binary_layer;

/// The whole network, repacked.
typedef struct cbn_network {
    /// [27][64] int16 +1/-1; tap = (ky * 3 + kx) * 3 + c (NHWC window order).
    const int16_t *conv0_weights;
    /// [64]: the output bit of channel c is (acc >= conv0_thresholds[c]) XOR bit c of
    /// conv0_invert, where acc = sum of code * weight.
    const int16_t *conv0_thresholds;
    uint64_t conv0_invert;
    /// conv1, conv2, conv3, conv4, conv5, fc0, fc1.
    cbn_binary_layer layers[7];
    /// [10][8] words: fc2's weights per class; acc = 512 - 2 * disagreements.
    const uint64_t *fc2_weights;
    /// The int8 input code of each pixel value.
    int8_t input_codes[256];
} cbn_network;

/// Bit i is set when kernel variant i runs on this CPU. Bit 0 (portable) is always set.
unsigned cbn_supported_kernels(void);

/// The number of 64-bit words per image in trace tensor `index` (0..9), or 0.
size_t cbn_trace_words(int index);

/// Runs `count` images (NHWC uint8, 3072 bytes each) through the network with kernel
/// variant `kernel` (which must be supported) and writes 10 int32 fc2 accumulators per
/// image to `accumulators`. `trace` is NULL, or CBN_TRACE_COUNT pointers (each NULL or
/// room for count * cbn_trace_words(i) words) that receive each layer's bit tensor.
void cbn_infer(
    const cbn_network *network, int kernel, const uint8_t *images, size_t count, int32_t *accumulators,
    uint64_t *const *trace);

#endif
