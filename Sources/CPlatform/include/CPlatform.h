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

/// mkstemp(3) with the descriptor close-on-exec from the start (mkostemp with O_CLOEXEC), so a
/// process another thread starts never inherits a partial output file.
int cplatform_mkstemp_cloexec(char *template_path);

/// Asks glibc's allocator to keep blocks below `mmap_threshold` bytes in the heap and
/// to return free heap memory to the kernel only above `trim_threshold` bytes. Returns 1
/// on success, 0 elsewhere (other C libraries).
int cplatform_tune_allocator(long mmap_threshold, long trim_threshold);

/// Signals routed to a pipe, for a tool that turns SIGINT or SIGTERM into an orderly stop.
///
/// Dispatch signal sources cannot do this reliably on Linux: the handler that libdispatch
/// installs is set only when its manager thread gets round to registering the source, and
/// a signal that arrives before then meets whatever disposition was there (the SIG_IGN a
/// caller sets so the signal does not kill the process) and is lost. Here the handler is in
/// place when cplatform_signal_route returns, and all it does is write(2) the signal's
/// number, one byte, to a pipe (async-signal-safe, on whatever thread the kernel picks);
/// a thread of the caller's reads the pipe and acts outside signal context.
///
/// Returns the read end of the process's signal pipe (created on the first call, kept for
/// the life of the process, close-on-exec, reads block), or -1 with errno set.
int cplatform_signal_pipe(void);

/// Catches `signo`: each delivery writes the byte `signo` to the signal pipe. The
/// disposition it replaces is kept for cplatform_signal_restore. Returns 0, or -1 with
/// errno set (the pipe could not be made, or sigaction failed).
int cplatform_signal_route(int signo);

/// Puts back the disposition `signo` had before cplatform_signal_route. Returns 0, or -1
/// with errno set.
int cplatform_signal_restore(int signo);


/// A word the calling thread keeps for itself (C11 `_Thread_local`): a thread pool marks
/// its threads with it, to tell whether work is already on one of them. NULL until set.
void *cplatform_thread_tag(void);
void cplatform_set_thread_tag(void *tag);
