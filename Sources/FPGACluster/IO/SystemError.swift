#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The text of an errno value, as `strerror` gives it.
func systemErrorMessage(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
