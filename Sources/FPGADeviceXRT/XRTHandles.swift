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

/// A buffer object: its XRT handle and its mapped host side.
///
/// `@unchecked Sendable`: the handle and mapping never change and are freed once, in
/// deinit; `runsUsing` is only touched on the device actor.
final class BufferHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let host: UnsafeMutableRawBufferPointer
    let group: Int
    var runsUsing = 0

    init(pointer: OpaquePointer, host: UnsafeMutableRawBufferPointer, group: Int) {
        self.pointer = pointer
        self.host = host
        self.group = group
    }

    deinit { cxrt_bo_free(pointer) }
}

/// A run: its XRT handle, the buffers and compute unit it holds until it ends, and its
/// final state once known.
///
/// `@unchecked Sendable`: `pointer` never changes and is freed once, in deinit; XRT allows
/// waiting on a run from another thread. Every other property is only touched on the
/// device actor.
final class RunHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let buffers: [BufferHandle]
    let unit: ComputeUnitState
    var final: RunState?

    init(pointer: OpaquePointer, buffers: [BufferHandle], unit: ComputeUnitState) {
        self.pointer = pointer
        self.buffers = buffers
        self.unit = unit
    }

    deinit { cxrt_run_free(pointer) }
}

/// One compute unit of the loaded xclbin: its XRT kernel handle (opened on first use as
/// `kernel:{instance}`) and the runs in flight on it.
///
/// `@unchecked Sendable`: only touched on the device actor.
final class ComputeUnitState: @unchecked Sendable {
    let name: String
    var kernel: KernelHandle?
    var pending = 0

    init(name: String) { self.name = name }
}
