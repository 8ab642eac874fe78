#define _GNU_SOURCE
#include "CPlatform.h"
#include <pthread.h>
#include <sched.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

void cplatform_set_thread_name(const char *name) {
#ifdef __linux__
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = '\0';
    pthread_setname_np(pthread_self(), truncated);
#else
    (void)name;
#endif
}

int cplatform_affinity_cpu_count(void) {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
    return 0;
}

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

int cplatform_rename_noreplace(const char *from, const char *to) {
#if defined(__linux__) && defined(RENAME_NOREPLACE)
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
#else
    errno = ENOSYS;
    return -1;
#endif
}

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int cplatform_tune_allocator(long mmap_threshold, long trim_threshold) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) && mallopt(M_TRIM_THRESHOLD, (int)trim_threshold);
#else
    (void)mmap_threshold;
    (void)trim_threshold;
    return 0;
#endif
}

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

// The signal pipe: both ends close-on-exec; the write end non-blocking, so a handler never
// waits (a full pipe already holds more wake-ups than a reader needs). Set once, under
// pthread_once, before any handler that reads them is installed; never closed.
static int signal_pipe_read = -1;
static int signal_pipe_write = -1;
static int signal_pipe_error = 0;
static pthread_once_t signal_pipe_once = PTHREAD_ONCE_INIT;
// The dispositions cplatform_signal_route replaced, and whether each is held.
static struct sigaction signal_previous[NSIG];
static int signal_routed[NSIG];
static pthread_mutex_t signal_lock = PTHREAD_MUTEX_INITIALIZER;

static void signal_pipe_create(void) {
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0) {
        signal_pipe_error = errno;
        return;
    }
    int flags = fcntl(ends[1], F_GETFL);
    if (flags < 0 || fcntl(ends[1], F_SETFL, flags | O_NONBLOCK) != 0) {
        signal_pipe_error = errno;
        close(ends[0]);
        close(ends[1]);
        return;
    }
    signal_pipe_read = ends[0];
    signal_pipe_write = ends[1];
}

int cplatform_signal_pipe(void) {
    pthread_once(&signal_pipe_once, signal_pipe_create);
    if (signal_pipe_read < 0) {
        errno = signal_pipe_error;
        return -1;
    }
    return signal_pipe_read;
}

// Only async-signal-safe calls; errno is preserved for the code the signal interrupted.
static void signal_pipe_handler(int signo) {
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    while (write(signal_pipe_write, &byte, 1) < 0 && errno == EINTR) {
    }
    errno = saved;
}

int cplatform_signal_route(int signo) {
    if (signo <= 0 || signo >= NSIG) {
        errno = EINVAL;
        return -1;
    }
    if (cplatform_signal_pipe() < 0) return -1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = signal_pipe_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    pthread_mutex_lock(&signal_lock);
    struct sigaction previous;
    int result = sigaction(signo, &action, &previous);
    if (result == 0 && !signal_routed[signo]) {
        signal_previous[signo] = previous;
        signal_routed[signo] = 1;
    }
    pthread_mutex_unlock(&signal_lock);
    return result;
}

int cplatform_signal_restore(int signo) {
    if (signo <= 0 || signo >= NSIG) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&signal_lock);
    int result = 0;
    if (signal_routed[signo]) {
        result = sigaction(signo, &signal_previous[signo], NULL);
        if (result == 0) signal_routed[signo] = 0;
    }
    pthread_mutex_unlock(&signal_lock);
    return result;
}

int cplatform_mkstemp_cloexec(char *template_path) { return mkostemp(template_path, O_CLOEXEC); }

static _Thread_local void *thread_tag;

void *cplatform_thread_tag(void) { return thread_tag; }

void cplatform_set_thread_tag(void *tag) { thread_tag = tag; }
