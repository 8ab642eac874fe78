#include "CBinaryNet.h"

#include <string.h>

#if defined(__x86_64__)
    #include <immintrin.h>
    #define CBN_X86 1
#else
    #define CBN_X86 0
#endif

// Output bits are stored a byte at a time into 64-bit words: channel c lands in bit
// c % 64 of word c / 64 only on a little-endian CPU.
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    #error "CBinaryNet assumes a little-endian CPU"
#endif

#define CBN_INLINE static inline __attribute__((always_inline))
// The largest window: conv5, 3 x 3 x 256 bits.
#define MAX_TAPS 36
// Output positions a dense kernel takes at once (they share each weight load).
#define BLOCK 4

static const size_t trace_sizes[CBN_TRACE_COUNT] = {900, 784, 196, 288, 200, 50, 36, 4, 8, 8};

size_t cbn_trace_words(int index) {
    return index >= 0 && index < CBN_TRACE_COUNT ? trace_sizes[index] : 0;
}

/// Computes one layer's output bytes for n (1...BLOCK) windows of L->taps words each.
typedef void (*dense_fn)(const cbn_binary_layer *L, const uint64_t *const *windows, int n, uint8_t *const *outputs);
/// conv0 over one image's int16 codes (32 x 32 x 3) into 30 x 30 words.
typedef void (*conv0_fn)(const cbn_network *network, const int16_t *codes, uint64_t *out);

// MARK: Plain C (portable and popcnt)

// Inlined into callers compiled for different targets, so each gets its own code.
CBN_INLINE void dense_scalar_body(
    const cbn_binary_layer *L, const uint64_t *const *windows, int n, uint8_t *const *outputs) {
    const int taps = L->taps;
    const int groups = L->cout / 8;
    for (int p = 0; p < n; p++) {
        const uint64_t *a = windows[p];
        for (int g = 0; g < groups; g++) {
            const uint64_t *w = L->weights + (size_t)g * taps * 8;
            int64_t d[8] = {0};
            for (int t = 0; t < taps; t++) {
                const uint64_t x = a[t];
                for (int l = 0; l < 8; l++) d[l] += __builtin_popcountll(x ^ w[t * 8 + l]);
            }
            unsigned bits = 0;
            for (int l = 0; l < 8; l++) bits |= (unsigned)(d[l] >= L->thresholds[g * 8 + l]) << l;
            outputs[p][g] = (uint8_t)(bits ^ L->invert[g]);
        }
    }
}

CBN_INLINE void conv0_scalar_body(const cbn_network *network, const int16_t *codes, uint64_t *out) {
    for (int y = 0; y < 30; y++) {
        for (int x = 0; x < 30; x++) {
            int32_t acc[64] = {0};
            for (int ky = 0; ky < 3; ky++) {
                // The 9 codes of window row ky are contiguous: (kx, c) in NHWC order.
                const int16_t *row = codes + ((y + ky) * 32 + x) * 3;
                for (int j = 0; j < 9; j++) {
                    const int32_t q = row[j];
                    const int16_t *w = network->conv0_weights + (ky * 9 + j) * 64;
                    for (int c = 0; c < 64; c++) acc[c] += q * w[c];
                }
            }
            uint64_t bits = 0;
            for (int c = 0; c < 64; c++) bits |= (uint64_t)(acc[c] >= network->conv0_thresholds[c]) << c;
            out[y * 30 + x] = bits ^ network->conv0_invert;
        }
    }
}

static void dense_portable(const cbn_binary_layer *L, const uint64_t *const *windows, int n, uint8_t *const *outputs) {
    dense_scalar_body(L, windows, n, outputs);
}

static void conv0_portable(const cbn_network *network, const int16_t *codes, uint64_t *out) {
    conv0_scalar_body(network, codes, out);
}

#if CBN_X86

__attribute__((target("popcnt"))) static void dense_popcnt(
    const cbn_binary_layer *L, const uint64_t *const *windows, int n, uint8_t *const *outputs) {
    dense_scalar_body(L, windows, n, outputs);
}

// MARK: AVX2

// Per-byte popcounts of v (each 0...8), from a 16-entry nibble table.
__attribute__((target("avx2"))) CBN_INLINE __m256i popcount_bytes_avx2(__m256i v) {
    const __m256i table = _mm256_setr_epi8(
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i lo = _mm256_and_si256(v, low);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
    return _mm256_add_epi8(_mm256_shuffle_epi8(table, lo), _mm256_shuffle_epi8(table, hi));
}

__attribute__((target("avx2"))) static void dense_avx2(
    const cbn_binary_layer *L, const uint64_t *const *windows, int n, uint8_t *const *outputs) {
    const int taps = L->taps;
    const int groups = L->cout / 8;
    const __m256i zero = _mm256_setzero_si256();
    for (int p = 0; p < n; p++) {
        const uint64_t *a = windows[p];
        for (int g = 0; g < groups; g++) {
            const uint64_t *w = L->weights + (size_t)g * taps * 8;
            __m256i s0 = zero, s1 = zero;
            int t = 0;
            while (t < taps) {
                // Byte counts grow by at most 8 a tap: fold them into 64-bit sums every 31.
                const int end = t + 31 < taps ? t + 31 : taps;
                __m256i b0 = zero, b1 = zero;
                for (; t < end; t++) {
                    const __m256i x = _mm256_set1_epi64x((long long)a[t]);
                    const __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + t * 8));
                    const __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + t * 8 + 4));
                    b0 = _mm256_add_epi8(b0, popcount_bytes_avx2(_mm256_xor_si256(x, w0)));
                    b1 = _mm256_add_epi8(b1, popcount_bytes_avx2(_mm256_xor_si256(x, w1)));
                }
                s0 = _mm256_add_epi64(s0, _mm256_sad_epu8(b0, zero));
                s1 = _mm256_add_epi64(s1, _mm256_sad_epu8(b1, zero));
            }
            const __m256i t0 = _mm256_loadu_si256((const __m256i *)(L->thresholds + g * 8));
            const __m256i t1 = _mm256_loadu_si256((const __m256i *)(L->thresholds + g * 8 + 4));
            // Lanes where disagreements < threshold.
            const unsigned below0 = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(t0, s0)));
            const unsigned below1 = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(t1, s1)));
            const unsigned bits = ~(below0 | below1 << 4) & 0xffu;
            outputs[p][g] = (uint8_t)(bits ^ L->invert[g]);
        }
    }
}

// 32 bits: lane i set where a[i] < b[i], for 16 + 16 int16 lanes (a0/b0 first).
__attribute__((target("avx2"))) CBN_INLINE uint32_t below_mask_avx2(__m256i a0, __m256i b0, __m256i a1, __m256i b1) {
    const __m256i packed = _mm256_packs_epi16(_mm256_cmpgt_epi16(b0, a0), _mm256_cmpgt_epi16(b1, a1));
    // packs interleaves 128-bit halves: restore lane order.
    return (uint32_t)_mm256_movemask_epi8(_mm256_permute4x64_epi64(packed, 0xd8));
}

__attribute__((target("avx2"))) static void conv0_avx2(const cbn_network *network, const int16_t *codes, uint64_t *out) {
    const int16_t *weights = network->conv0_weights;
    const __m256i th0 = _mm256_loadu_si256((const __m256i *)(network->conv0_thresholds));
    const __m256i th1 = _mm256_loadu_si256((const __m256i *)(network->conv0_thresholds + 16));
    const __m256i th2 = _mm256_loadu_si256((const __m256i *)(network->conv0_thresholds + 32));
    const __m256i th3 = _mm256_loadu_si256((const __m256i *)(network->conv0_thresholds + 48));
    for (int y = 0; y < 30; y++) {
        for (int x = 0; x < 30; x++) {
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
            for (int ky = 0; ky < 3; ky++) {
                const int16_t *row = codes + ((y + ky) * 32 + x) * 3;
                for (int j = 0; j < 9; j++) {
                    const __m256i q = _mm256_set1_epi16(row[j]);
                    const int16_t *w = weights + (ky * 9 + j) * 64;
                    a0 = _mm256_add_epi16(a0, _mm256_mullo_epi16(q, _mm256_loadu_si256((const __m256i *)w)));
                    a1 = _mm256_add_epi16(a1, _mm256_mullo_epi16(q, _mm256_loadu_si256((const __m256i *)(w + 16))));
                    a2 = _mm256_add_epi16(a2, _mm256_mullo_epi16(q, _mm256_loadu_si256((const __m256i *)(w + 32))));
                    a3 = _mm256_add_epi16(a3, _mm256_mullo_epi16(q, _mm256_loadu_si256((const __m256i *)(w + 48))));
                }
            }
            const uint64_t below =
                (uint64_t)below_mask_avx2(a0, th0, a1, th1) | (uint64_t)below_mask_avx2(a2, th2, a3, th3) << 32;
            out[y * 30 + x] = ~below ^ network->conv0_invert;
        }
    }
}

// MARK: AVX-512 (F, BW, VPOPCNTDQ)

#define CBN_AVX512 __attribute__((target("avx512f,avx512bw,avx512vpopcntdq")))

CBN_AVX512 CBN_INLINE __m512i xor_popcount_avx512(__m512i w, uint64_t a) {
    return _mm512_popcnt_epi64(_mm512_xor_si512(w, _mm512_set1_epi64((long long)a)));
}

CBN_AVX512 static void dense_avx512(
    const cbn_binary_layer *L, const uint64_t *const *windows, int n, uint8_t *const *outputs) {
    const int taps = L->taps;
    const int groups = L->cout / 8;
    if (n == BLOCK) {
        const uint64_t *a0 = windows[0], *a1 = windows[1], *a2 = windows[2], *a3 = windows[3];
        for (int g = 0; g < groups; g++) {
            const uint64_t *w = L->weights + (size_t)g * taps * 8;
            __m512i d0 = _mm512_setzero_si512(), d1 = d0, d2 = d0, d3 = d0;
            for (int t = 0; t < taps; t++) {
                const __m512i wv = _mm512_loadu_si512(w + t * 8);
                d0 = _mm512_add_epi64(d0, xor_popcount_avx512(wv, a0[t]));
                d1 = _mm512_add_epi64(d1, xor_popcount_avx512(wv, a1[t]));
                d2 = _mm512_add_epi64(d2, xor_popcount_avx512(wv, a2[t]));
                d3 = _mm512_add_epi64(d3, xor_popcount_avx512(wv, a3[t]));
            }
            const __m512i th = _mm512_loadu_si512(L->thresholds + g * 8);
            const uint8_t inv = L->invert[g];
            outputs[0][g] = (uint8_t)(_mm512_cmpge_epi64_mask(d0, th) ^ inv);
            outputs[1][g] = (uint8_t)(_mm512_cmpge_epi64_mask(d1, th) ^ inv);
            outputs[2][g] = (uint8_t)(_mm512_cmpge_epi64_mask(d2, th) ^ inv);
            outputs[3][g] = (uint8_t)(_mm512_cmpge_epi64_mask(d3, th) ^ inv);
        }
        return;
    }
    for (int p = 0; p < n; p++) {
        const uint64_t *a = windows[p];
        for (int g = 0; g < groups; g++) {
            const uint64_t *w = L->weights + (size_t)g * taps * 8;
            __m512i d = _mm512_setzero_si512();
            for (int t = 0; t < taps; t++) d = _mm512_add_epi64(d, xor_popcount_avx512(_mm512_loadu_si512(w + t * 8), a[t]));
            const __m512i th = _mm512_loadu_si512(L->thresholds + g * 8);
            outputs[p][g] = (uint8_t)(_mm512_cmpge_epi64_mask(d, th) ^ L->invert[g]);
        }
    }
}

CBN_AVX512 static void conv0_avx512(const cbn_network *network, const int16_t *codes, uint64_t *out) {
    const int16_t *weights = network->conv0_weights;
    const __m512i th0 = _mm512_loadu_si512(network->conv0_thresholds);
    const __m512i th1 = _mm512_loadu_si512(network->conv0_thresholds + 32);
    for (int y = 0; y < 30; y++) {
        for (int x = 0; x < 30; x++) {
            __m512i a0 = _mm512_setzero_si512(), a1 = a0;
            for (int ky = 0; ky < 3; ky++) {
                const int16_t *row = codes + ((y + ky) * 32 + x) * 3;
                for (int j = 0; j < 9; j++) {
                    const __m512i q = _mm512_set1_epi16(row[j]);
                    const int16_t *w = weights + (ky * 9 + j) * 64;
                    a0 = _mm512_add_epi16(a0, _mm512_mullo_epi16(q, _mm512_loadu_si512(w)));
                    a1 = _mm512_add_epi16(a1, _mm512_mullo_epi16(q, _mm512_loadu_si512(w + 32)));
                }
            }
            const uint64_t bits =
                (uint64_t)_mm512_cmpge_epi16_mask(a0, th0) | (uint64_t)_mm512_cmpge_epi16_mask(a1, th1) << 32;
            out[y * 30 + x] = bits ^ network->conv0_invert;
        }
    }
}

#endif  // CBN_X86

unsigned cbn_supported_kernels(void) {
    unsigned kernels = 1u << CBN_KERNEL_PORTABLE;
#if CBN_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("popcnt")) kernels |= 1u << CBN_KERNEL_POPCNT;
    if (__builtin_cpu_supports("avx2")) kernels |= 1u << CBN_KERNEL_AVX2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vpopcntdq")) {
        kernels |= 1u << CBN_KERNEL_AVX512;
    }
#endif
    return kernels;
}

// MARK: Layers shared by every variant

// A 3x3 binary conv over an NHWC bit tensor of h x w pixels and cw words per pixel.
static void conv_binary(
    const cbn_binary_layer *L, dense_fn dense, const uint64_t *in, int h, int w, int cw, uint64_t *out) {
    const int oh = h - 2, ow = w - 2, out_bytes = L->cout / 8;
    uint64_t windows[BLOCK][MAX_TAPS];
    const uint64_t *window_pointers[BLOCK] = {windows[0], windows[1], windows[2], windows[3]};
    uint8_t *output_pointers[BLOCK];
    int n = 0;
    for (int y = 0; y < oh; y++) {
        for (int x = 0; x < ow; x++) {
            // Each window row is 3 pixels x cw words, contiguous in NHWC.
            for (int ky = 0; ky < 3; ky++) {
                memcpy(windows[n] + ky * 3 * cw, in + ((size_t)(y + ky) * w + x) * cw, sizeof(uint64_t) * 3 * cw);
            }
            output_pointers[n] = (uint8_t *)out + ((size_t)y * ow + x) * out_bytes;
            if (++n == BLOCK) {
                dense(L, window_pointers, n, output_pointers);
                n = 0;
            }
        }
    }
    if (n > 0) dense(L, window_pointers, n, output_pointers);
}

// 2x2 max pool, stride 2, on +-1 bits: OR.
static void pool_or(const uint64_t *in, int h, int w, int cw, uint64_t *out) {
    for (int y = 0; y < h / 2; y++) {
        for (int x = 0; x < w / 2; x++) {
            const uint64_t *top = in + ((size_t)(2 * y) * w + 2 * x) * cw;
            const uint64_t *bottom = top + (size_t)w * cw;
            uint64_t *o = out + ((size_t)y * (w / 2) + x) * cw;
            for (int k = 0; k < cw; k++) o[k] = top[k] | top[cw + k] | bottom[k] | bottom[cw + k];
        }
    }
}

static void dense_layer(const cbn_binary_layer *L, dense_fn dense, const uint64_t *in, uint64_t *out) {
    const uint64_t *windows[1] = {in};
    uint8_t *outputs[1] = {(uint8_t *)out};
    dense(L, windows, 1, outputs);
}

void cbn_infer(
    const cbn_network *network, int kernel, const uint8_t *images, size_t count, int32_t *accumulators,
    uint64_t *const *trace) {
    dense_fn dense = dense_portable;
    conv0_fn conv0 = conv0_portable;
#if CBN_X86
    switch (kernel) {
    case CBN_KERNEL_POPCNT: dense = dense_popcnt; break;
    case CBN_KERNEL_AVX2:
        dense = dense_avx2;
        conv0 = conv0_avx2;
        break;
    case CBN_KERNEL_AVX512:
        dense = dense_avx512;
        conv0 = conv0_avx512;
        break;
    default: break;
    }
#else
    (void)kernel;
#endif
    const cbn_binary_layer *L = network->layers;
    int16_t codes[CBN_IMAGE_BYTES];
    uint64_t b0[900], b1[784], p1[196], b2[288], b3[200], p2[50], b4[36], b5[4], f0[8], f1[8];
    const uint64_t *traced[CBN_TRACE_COUNT] = {b0, b1, p1, b2, b3, p2, b4, b5, f0, f1};
    for (size_t i = 0; i < count; i++) {
        const uint8_t *image = images + i * CBN_IMAGE_BYTES;
        for (int k = 0; k < CBN_IMAGE_BYTES; k++) codes[k] = network->input_codes[image[k]];
        conv0(network, codes, b0);
        conv_binary(&L[0], dense, b0, 30, 30, 1, b1);
        pool_or(b1, 28, 28, 1, p1);
        conv_binary(&L[1], dense, p1, 14, 14, 1, b2);
        conv_binary(&L[2], dense, b2, 12, 12, 2, b3);
        pool_or(b3, 10, 10, 2, p2);
        conv_binary(&L[3], dense, p2, 5, 5, 2, b4);
        conv_binary(&L[4], dense, b4, 3, 3, 4, b5);
        dense_layer(&L[5], dense, b5, f0);
        dense_layer(&L[6], dense, f0, f1);
        int32_t *acc = accumulators + i * CBN_CLASSES;
        for (int c = 0; c < CBN_CLASSES; c++) {
            const uint64_t *w = network->fc2_weights + c * 8;
            int disagreements = 0;
            for (int t = 0; t < 8; t++) disagreements += __builtin_popcountll(f1[t] ^ w[t]);
            acc[c] = 512 - 2 * disagreements;
        }
        if (trace) {
            for (int k = 0; k < CBN_TRACE_COUNT; k++) {
                if (trace[k]) memcpy(trace[k] + i * trace_sizes[k], traced[k], sizeof(uint64_t) * trace_sizes[k]);
            }
        }
    }
}
