import CPlatform

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Facts about the host's processors.
public enum ProcessorInfo {
    /// The number of cores this process may run on (at least 1).
    public static var activeCores: Int {
        let allowed = Int(cplatform_affinity_cpu_count())
        if allowed > 0 { return allowed }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
