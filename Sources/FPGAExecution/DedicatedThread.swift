import CPlatform

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Starts a detached POSIX thread running `body`.
///
/// Swift's cooperative pool has one thread per core; anything that blocks (a device
/// wait, a file read, a long compression) runs on threads started here instead.
public func startDedicatedThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        // `@unchecked Sendable`: written once before the thread starts and read once by it.
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
    let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attributes, 4 << 20)
    #if canImport(Darwin)
        var thread: pthread_t?
    #else
        var thread = pthread_t()
    #endif
    let result = pthread_create(
        &thread, &attributes,
        { raw in
            #if canImport(Darwin)
                let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
            #else
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            #endif
            cplatform_set_thread_name(box.name)
            box.body()
            return nil
        }, box)
    pthread_attr_destroy(&attributes)
    precondition(result == 0, "pthread_create failed with \(result)")
}
