/// The CNV-W1A1 input quantiser: the int8 code of each 8-bit pixel value.
///
/// Brevitas feeds `x = pixel / 255`, computes `y = 2x - 1` and quantises to 8 bits signed
/// with scale 2^-7: `q = clamp(round_half_even(y * 128), -128, 127)`, all in Float32.
/// Pixels 0...127 give -128...-1, 128...254 give 1...127 and 255 gives 127; 0 never occurs.
public enum CNVInputQuantizer {
    /// The code of every pixel value, built from the definition.
    public static let codes: [Int8] = (0...255).map { code(forPixel: UInt8($0)) }

    /// The code of one pixel value, computed from the definition in Float32.
    public static func code(forPixel pixel: UInt8) -> Int8 {
        let x = Float(pixel) / 255
        let y = 2 * x - 1
        let scaled = (y * 128).rounded(.toNearestOrEven)
        return Int8(min(max(scaled, -128), 127))
    }
}
