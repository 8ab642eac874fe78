// The C API of cxrt.h over XRT's C++ API. Every entry point runs its body inside guard(),
// which turns any exception into a status code and a per-thread message.
#include "cxrt.h"

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>
#include <experimental/xrt_ini.h>
#include <experimental/xrt_system.h>
#include <experimental/xrt_xclbin.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <sys/stat.h>

struct cxrt_device {
    xrt::device device;
};

struct cxrt_kernel {
    xrt::kernel kernel;
};

struct cxrt_bo {
    xrt::bo bo;
};

struct cxrt_run {
    xrt::run run;
};

namespace {

thread_local std::string last_error;

// A failure with a status code of our choosing (XRT's own exceptions get one by context).
struct failure : std::runtime_error {
    cxrt_status status;
    failure(cxrt_status status, const std::string &message) : std::runtime_error(message), status(status) {}
};

// Runs `body`; any exception becomes `fallback` (or the failure's own status) plus a message.
template <typename Body> int guard(cxrt_status fallback, Body body) {
    last_error.clear();
    try {
        body();
        return CXRT_OK;
    } catch (const failure &error) {
        last_error = error.what();
        return error.status;
    } catch (const std::system_error &error) {
        last_error = error.what();
        if (last_error.empty()) last_error = error.code().message();
        return fallback;
    } catch (const std::exception &error) {
        last_error = error.what();
        if (last_error.empty()) last_error = "XRT failed without a message";
        return fallback;
    } catch (...) {
        last_error = "XRT threw an exception that is not a std::exception";
        return CXRT_ERROR_OTHER;
    }
}

template <typename T> T *require(T *handle, const char *what) {
    if (!handle) throw failure(CXRT_ERROR_INVALID_HANDLE, std::string("NULL ") + what);
    return handle;
}

std::once_flag prepared;
int prepare_status = CXRT_OK;
std::string prepare_message;

void prepare_once() {
    const char *root = std::getenv("XILINX_XRT");
    if (!root || !*root) {
        prepare_status = CXRT_ERROR_ENVIRONMENT;
        prepare_message = "XILINX_XRT is not set: point it at the XRT installation (for example /opt/xilinx/xrt)";
        return;
    }
    struct stat info;
    if (stat(root, &info) != 0 || !S_ISDIR(info.st_mode)) {
        prepare_status = CXRT_ERROR_ENVIRONMENT;
        prepare_message = std::string("XILINX_XRT names ") + root + ", which is not a directory";
        return;
    }
    // Without an ini file of the user's, keep XRT's runtime log off: it prints a banner and
    // its error-logging path can abort the process. xrt::ini::set only works before XRT
    // first reads its configuration, which is why this runs before anything else.
    const char *ini = std::getenv("XRT_INI_PATH");
    if (!ini || !*ini) {
        try {
            xrt::ini::set("Runtime.runtime_log", "null");
        } catch (const std::exception &error) {
            prepare_status = CXRT_ERROR_ENVIRONMENT;
            prepare_message = std::string("could not configure XRT: ") + error.what();
        }
    }
}

void prepare_or_throw() {
    std::call_once(prepared, prepare_once);
    if (prepare_status != CXRT_OK) throw failure(static_cast<cxrt_status>(prepare_status), prepare_message);
}

bool emulation() {
    const char *mode = std::getenv("XCL_EMULATION_MODE");
    return mode && *mode;
}

uint64_t read_u64(const unsigned char *p) {
    uint64_t value;
    std::memcpy(&value, p, sizeof value);
    return value;
}

// The bounds XRT relies on without checking: the magic, the file length in the header,
// and every section inside the buffer. (The Swift AXLF parser checks the contents; this
// only keeps XRT from reading past the end when called directly.)
void check_container(const void *bytes, size_t size) {
    if (!bytes) throw failure(CXRT_ERROR_INVALID_HANDLE, "NULL xclbin bytes");
    const size_t header_end = sizeof(axlf) - sizeof(axlf_section_header);
    if (size < sizeof(axlf))
        throw failure(CXRT_ERROR_XCLBIN, "xclbin of " + std::to_string(size) + " bytes is shorter than its header");
    auto top = static_cast<const axlf *>(bytes);
    if (std::memcmp(top->m_magic, "xclbin2", 8) != 0) throw failure(CXRT_ERROR_XCLBIN, "no xclbin2 magic");
    if (top->m_header.m_length != size)
        throw failure(
            CXRT_ERROR_XCLBIN, "header length " + std::to_string(top->m_header.m_length) + " but " +
                                   std::to_string(size) + " bytes given");
    const uint64_t sections = top->m_header.m_numSections;
    if (sections == 0 || sections > (size - header_end) / sizeof(axlf_section_header))
        throw failure(CXRT_ERROR_XCLBIN, "section table does not fit in the file");
    auto base = static_cast<const unsigned char *>(bytes) + header_end;
    for (uint64_t index = 0; index < sections; ++index) {
        auto entry = base + index * sizeof(axlf_section_header);
        uint64_t offset = read_u64(entry + offsetof(axlf_section_header, m_sectionOffset));
        uint64_t length = read_u64(entry + offsetof(axlf_section_header, m_sectionSize));
        if (offset > size || length > size - offset)
            throw failure(CXRT_ERROR_XCLBIN, "section " + std::to_string(index) + " lies outside the file");
    }
}

std::atomic<uint32_t> failing_waits{0};

} // namespace

extern "C" {

const char *cxrt_last_error(void) { return last_error.c_str(); }

int cxrt_prepare(void) {
    return guard(CXRT_ERROR_ENVIRONMENT, [] { prepare_or_throw(); });
}

int cxrt_is_emulation(void) { return emulation() ? 1 : 0; }

int cxrt_device_count(uint32_t *count) {
    return guard(CXRT_ERROR_OTHER, [&] {
        require(count, "count");
        prepare_or_throw();
        *count = static_cast<uint32_t>(xrt::system::enumerate_devices());
    });
}

int cxrt_device_open(uint32_t index, cxrt_device **device) {
    return guard(CXRT_ERROR_NO_DEVICE, [&] {
        require(device, "device");
        *device = nullptr;
        prepare_or_throw();
        if (!emulation()) {
            auto found = xrt::system::enumerate_devices();
            if (index >= found)
                throw failure(
                    CXRT_ERROR_NO_DEVICE, "no XRT device " + std::to_string(index) + " (XRT found " +
                                              std::to_string(found) + ")");
        }
        *device = new cxrt_device{xrt::device(index)};
    });
}

int cxrt_device_open_bdf(const char *bdf, cxrt_device **device) {
    return guard(CXRT_ERROR_NO_DEVICE, [&] {
        require(device, "device");
        require(bdf, "bdf");
        *device = nullptr;
        prepare_or_throw();
        if (!emulation() && xrt::system::enumerate_devices() == 0)
            throw failure(CXRT_ERROR_NO_DEVICE, std::string("no XRT device at ") + bdf + " (XRT found none)");
        *device = new cxrt_device{xrt::device(std::string(bdf))};
    });
}

void cxrt_device_free(cxrt_device *device) {
    try {
        delete device;
    } catch (...) {
    }
}

int cxrt_device_info(cxrt_device *device, int key, char *buffer, size_t capacity) {
    return guard(CXRT_ERROR_OTHER, [&] {
        require(device, "device");
        require(buffer, "buffer");
        if (capacity == 0) throw failure(CXRT_ERROR_ARGUMENT, "empty buffer");
        std::string value;
        switch (key) {
        case 0: value = device->device.get_info<xrt::info::device::name>(); break;
        case 1: value = device->device.get_info<xrt::info::device::bdf>(); break;
        default: throw failure(CXRT_ERROR_ARGUMENT, "unknown device info key " + std::to_string(key));
        }
        size_t count = value.size() < capacity - 1 ? value.size() : capacity - 1;
        std::memcpy(buffer, value.data(), count);
        buffer[count] = 0;
    });
}

int cxrt_device_load_xclbin(cxrt_device *device, const void *bytes, size_t size, uint8_t uuid[16]) {
    return guard(CXRT_ERROR_XCLBIN, [&] {
        require(device, "device");
        require(uuid, "uuid");
        check_container(bytes, size);
        xrt::xclbin program(static_cast<const axlf *>(bytes));
        auto id = device->device.load_xclbin(program);
        std::memcpy(uuid, id.get(), 16);
    });
}

int cxrt_kernel_open(cxrt_device *device, const uint8_t uuid[16], const char *name, cxrt_kernel **kernel) {
    return guard(CXRT_ERROR_KERNEL, [&] {
        require(device, "device");
        require(uuid, "uuid");
        require(name, "name");
        require(kernel, "kernel");
        *kernel = nullptr;
        xuid_t raw;
        std::memcpy(raw, uuid, 16);
        *kernel = new cxrt_kernel{xrt::kernel(device->device, xrt::uuid(raw), std::string(name))};
    });
}

void cxrt_kernel_free(cxrt_kernel *kernel) {
    try {
        delete kernel;
    } catch (...) {
    }
}

int cxrt_kernel_group_id(cxrt_kernel *kernel, uint32_t index, int32_t *group) {
    return guard(CXRT_ERROR_ARGUMENT, [&] {
        require(kernel, "kernel");
        require(group, "group");
        *group = kernel->kernel.group_id(static_cast<int>(index));
    });
}

int cxrt_bo_alloc(cxrt_device *device, size_t size, int32_t group, cxrt_bo **bo, void **host) {
    return guard(CXRT_ERROR_BUFFER, [&] {
        require(device, "device");
        require(bo, "bo");
        require(host, "host");
        *bo = nullptr;
        *host = nullptr;
        if (size == 0) throw failure(CXRT_ERROR_BUFFER, "a buffer object needs a positive size");
        if (group < 0) throw failure(CXRT_ERROR_BUFFER, "memory group " + std::to_string(group) + " is negative");
        auto handle = new cxrt_bo{xrt::bo(device->device, size, static_cast<xrt::memory_group>(group))};
        try {
            *host = handle->bo.map();
        } catch (...) {
            delete handle;
            throw;
        }
        if (!*host) {
            delete handle;
            throw failure(CXRT_ERROR_BUFFER, "XRT mapped the buffer object at NULL");
        }
        *bo = handle;
    });
}

void cxrt_bo_free(cxrt_bo *bo) {
    try {
        delete bo;
    } catch (...) {
    }
}

int cxrt_bo_sync(cxrt_bo *bo, int to_device, size_t size, size_t offset) {
    return guard(CXRT_ERROR_BUFFER, [&] {
        require(bo, "bo");
        auto total = bo->bo.size();
        if (offset > total || size > total - offset)
            throw failure(CXRT_ERROR_BUFFER, "sync range outside the buffer object");
        bo->bo.sync(to_device ? XCL_BO_SYNC_BO_TO_DEVICE : XCL_BO_SYNC_BO_FROM_DEVICE, size, offset);
    });
}

int cxrt_run_create(cxrt_kernel *kernel, cxrt_run **run) {
    return guard(CXRT_ERROR_RUN, [&] {
        require(kernel, "kernel");
        require(run, "run");
        *run = nullptr;
        *run = new cxrt_run{xrt::run(kernel->kernel)};
    });
}

void cxrt_run_free(cxrt_run *run) {
    try {
        delete run;
    } catch (...) {
    }
}

int cxrt_run_set_buffer(cxrt_run *run, uint32_t index, cxrt_bo *bo) {
    return guard(CXRT_ERROR_ARGUMENT, [&] {
        require(run, "run");
        require(bo, "bo");
        run->run.set_arg(static_cast<int>(index), bo->bo);
    });
}

int cxrt_run_set_scalar(cxrt_run *run, uint32_t index, uint64_t value, uint32_t byte_size) {
    return guard(CXRT_ERROR_ARGUMENT, [&] {
        require(run, "run");
        auto argument = static_cast<int>(index);
        switch (byte_size) {
        case 1: run->run.set_arg(argument, static_cast<uint8_t>(value)); break;
        case 2: run->run.set_arg(argument, static_cast<uint16_t>(value)); break;
        case 4: run->run.set_arg(argument, static_cast<uint32_t>(value)); break;
        case 8: run->run.set_arg(argument, value); break;
        default: throw failure(CXRT_ERROR_ARGUMENT, "unsupported scalar size " + std::to_string(byte_size));
        }
    });
}

int cxrt_run_start(cxrt_run *run) {
    return guard(CXRT_ERROR_RUN, [&] {
        require(run, "run");
        run->run.start();
    });
}

int cxrt_run_wait(cxrt_run *run, uint32_t timeout_ms, int32_t *state) {
    return guard(CXRT_ERROR_RUN, [&] {
        require(run, "run");
        require(state, "state");
        uint32_t pending = failing_waits.load();
        while (pending > 0) {
            if (failing_waits.compare_exchange_weak(pending, pending - 1)) {
                *state = ERT_CMD_STATE_TIMEOUT;
                return;
            }
        }
        *state = static_cast<int32_t>(run->run.wait(std::chrono::milliseconds(timeout_ms)));
    });
}

void cxrt_testing_fail_next_waits(uint32_t count) { failing_waits.store(count); }

} // extern "C"
