import CXRT
import FPGADevice

/// Calls a CXRT function and turns a failure status into a ``DeviceError``.
func check(_ operation: @autoclosure () -> String, _ status: Int32) throws(DeviceError) {
    guard status != 0 else { return }
    let message = String(cString: cxrt_last_error())
    switch cxrt_status(rawValue: UInt32(status)) {
    case CXRT_ERROR_ENVIRONMENT, CXRT_ERROR_NO_DEVICE: throw .unavailable(message)
    case CXRT_ERROR_XCLBIN: throw .invalidXclbin(message)
    default: throw .runtime(operation: operation(), message: message)
    }
}

/// Owns a `cxrt_device`.
///
/// `@unchecked Sendable`: the pointer never changes and is freed once, in deinit; XRT's
/// device object is safe to use from several threads.
final class DeviceHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { cxrt_device_free(pointer) }
}

/// Owns a `cxrt_kernel` opened on one compute unit.
///
/// `@unchecked Sendable`: as ``DeviceHandle``; it is only used on the device actor.
final class KernelHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { cxrt_kernel_free(pointer) }
}

/// A buffer object: its XRT handle and its mapped host side, kept by the device's
/// ``LoadedProgram``.
///
/// `@unchecked Sendable`: the handle and mapping never change and are freed once, in
/// deinit; the host side is only touched on the device actor.
package final class BufferHandle: BufferStorage, @unchecked Sendable {
    let pointer: OpaquePointer
    package let host: UnsafeMutableRawBufferPointer

    init(pointer: OpaquePointer, host: UnsafeMutableRawBufferPointer) {
        self.pointer = pointer
        self.host = host
    }

    deinit { cxrt_bo_free(pointer) }
}

/// A run: its XRT handle, its place in the loaded program (the compute unit and buffers
/// it holds until it ends), and its final state once known.
///
/// `@unchecked Sendable`: `pointer` never changes and is freed once, in deinit; XRT allows
/// waiting on a run from another thread. `final` is only touched on the device actor.
final class RunHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let binding: LoadedProgram<BufferHandle>.Binding
    var final: RunState?

    init(pointer: OpaquePointer, binding: LoadedProgram<BufferHandle>.Binding) {
        self.pointer = pointer
        self.binding = binding
    }

    deinit { cxrt_run_free(pointer) }
}
