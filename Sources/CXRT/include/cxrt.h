// CXRT: a plain C API over XRT's C++ API (xrt::device, xrt::xclbin, xrt::kernel, xrt::bo,
// xrt::run) for Swift.
//
// Every function catches every exception XRT throws and reports it as a status code plus a
// message (cxrt_last_error(), per thread), so no C++ exception ever reaches Swift. Nothing
// here is variadic. Handles are opaque; each *_free function accepts NULL.
//
// XRT reads its environment once per process; cxrt_prepare() must run before anything else
// touches XRT (every function that opens a device calls it).
#ifndef CXRT_H
#define CXRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes. CXRT_OK is zero; every other value is a failure described by
/// cxrt_last_error().
typedef enum cxrt_status {
    CXRT_OK = 0,
    /// The environment cannot run XRT (XILINX_XRT unset or not a directory, ...).
    CXRT_ERROR_ENVIRONMENT = 1,
    /// No device at that index or PCIe address.
    CXRT_ERROR_NO_DEVICE = 2,
    /// The xclbin bytes are not a well-formed xclbin, or XRT refused them.
    CXRT_ERROR_XCLBIN = 3,
    /// No kernel or compute unit of that name.
    CXRT_ERROR_KERNEL = 4,
    /// An argument index or value XRT refused.
    CXRT_ERROR_ARGUMENT = 5,
    /// A buffer object could not be allocated, mapped or synced.
    CXRT_ERROR_BUFFER = 6,
    /// A run could not be started or waited for.
    CXRT_ERROR_RUN = 7,
    /// A NULL handle or pointer where one is required.
    CXRT_ERROR_INVALID_HANDLE = 8,
    /// Any other exception XRT threw.
    CXRT_ERROR_OTHER = 9,
} cxrt_status;

typedef struct cxrt_device cxrt_device;
typedef struct cxrt_kernel cxrt_kernel;
typedef struct cxrt_bo cxrt_bo;
typedef struct cxrt_run cxrt_run;

/// The message of the last failure on the calling thread (empty after a success). Valid
/// until the next CXRT call on the same thread.
const char *cxrt_last_error(void);

/// Prepares the process environment for XRT, once: checks that XILINX_XRT names a
/// directory and, when XRT_INI_PATH is unset, sets XRT's Runtime.runtime_log to "null"
/// (XRT's banner and its abort-prone logging path stay off). Idempotent; the first
/// result is returned again on later calls.
int cxrt_prepare(void);

/// Whether XCL_EMULATION_MODE is set (noop, sw_emu or hw_emu): devices then exist
/// without hardware.
int cxrt_is_emulation(void);

/// The number of devices XRT finds (0 under the noop shim).
int cxrt_device_count(uint32_t *count);

/// Opens device `index`. Under hardware mode, fails with CXRT_ERROR_NO_DEVICE unless XRT
/// enumerates a device at that index.
int cxrt_device_open(uint32_t index, cxrt_device **device);

/// Opens the device at PCIe address `bdf` (`0000:65:00.1`).
int cxrt_device_open_bdf(const char *bdf, cxrt_device **device);

void cxrt_device_free(cxrt_device *device);

/// Copies a device property into `buffer` (NUL-terminated, truncated to `capacity`):
/// key 0 is the name, key 1 the PCIe address.
int cxrt_device_info(cxrt_device *device, int key, char *buffer, size_t capacity);

/// Loads an xclbin from `size` bytes in memory, after checking the container's layout
/// (magic, lengths, section table) so XRT never reads past the end. Writes the xclbin's
/// 16-byte UUID to `uuid`.
int cxrt_device_load_xclbin(cxrt_device *device, const void *bytes, size_t size, uint8_t uuid[16]);

/// Opens a kernel (or `name:{instance}` compute unit) of the loaded xclbin `uuid`.
int cxrt_kernel_open(cxrt_device *device, const uint8_t uuid[16], const char *name, cxrt_kernel **kernel);

void cxrt_kernel_free(cxrt_kernel *kernel);

/// The memory group of argument `index` (XRT's kernel.group_id()).
int cxrt_kernel_group_id(cxrt_kernel *kernel, uint32_t index, int32_t *group);

/// Allocates a buffer object of `size` bytes in memory group `group`, and maps its host
/// side (`*host`, valid until the buffer is freed).
int cxrt_bo_alloc(cxrt_device *device, size_t size, int32_t group, cxrt_bo **bo, void **host);

void cxrt_bo_free(cxrt_bo *bo);

/// Syncs `size` bytes at `offset`: to the device when `to_device` is non-zero, from it
/// otherwise.
int cxrt_bo_sync(cxrt_bo *bo, int to_device, size_t size, size_t offset);

/// A new run of `kernel`, its arguments unset.
int cxrt_run_create(cxrt_kernel *kernel, cxrt_run **run);

void cxrt_run_free(cxrt_run *run);

/// Sets argument `index` to a buffer object.
int cxrt_run_set_buffer(cxrt_run *run, uint32_t index, cxrt_bo *bo);

/// Sets scalar argument `index` to the low `byte_size` bytes (1, 2, 4 or 8) of `value`.
int cxrt_run_set_scalar(cxrt_run *run, uint32_t index, uint64_t value, uint32_t byte_size);

int cxrt_run_start(cxrt_run *run);

/// Waits for the run; `timeout_ms` 0 waits without limit. `*state` receives XRT's
/// ert_cmd_state (4 completed, 5 error, 6 abort, ...); a state below 4 or 7 (submitted)
/// means the time ran out first.
int cxrt_run_wait(cxrt_run *run, uint32_t timeout_ms, int32_t *state);

/// Test hook: the next `count` calls to cxrt_run_wait in this process do not wait and
/// report ERT_CMD_STATE_TIMEOUT (8). XRT's noop shim completes every run at once and
/// ignores wait timeouts, so this is the only honest way to exercise a host's timeout
/// handling without a card. Never used outside tests.
void cxrt_testing_fail_next_waits(uint32_t count);

#ifdef __cplusplus
}
#endif

#endif
