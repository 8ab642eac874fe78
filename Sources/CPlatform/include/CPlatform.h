// Small wrappers around Linux-only libc functions that Swift cannot see without
// _GNU_SOURCE. Each returns a plain value; nothing here allocates.
#ifndef C_PLATFORM_H
#define C_PLATFORM_H

/// Names the calling thread (first 15 bytes) for top -H and debuggers.
void cplatform_set_thread_name(const char *name);

/// The number of CPUs this process may run on, or 0 when unknown.
int cplatform_affinity_cpu_count(void);

#endif

/// Renames `from` to `to` only if `to` does not exist (renameat2 with RENAME_NOREPLACE).
/// Returns 0 or -1 with errno set; errno EINVAL or ENOSYS where the file system or kernel
/// lacks the flag.
int cplatform_rename_noreplace(const char *from, const char *to);

/// Asks glibc's allocator to keep blocks below `mmap_threshold` bytes in the heap and
/// to return free heap memory to the kernel only above `trim_threshold` bytes. Returns 1
/// on success, 0 elsewhere (other C libraries).
int cplatform_tune_allocator(long mmap_threshold, long trim_threshold);
