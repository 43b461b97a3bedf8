// Linux calls that Swift's Glibc module does not export: epoll, eventfd, timerfd, accept4, gettid,
// pthread_setname_np, glibc's malloc tuning (mallopt, malloc_trim), and posix_spawn's close-every-other-descriptor
// action.
#ifndef ROSTER_CLINUXSHIM_H
#define ROSTER_CLINUXSHIM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <malloc.h>
#include <spawn.h>

// glibc declares accept4 only under _GNU_SOURCE, which the Glibc module is not built with; the symbol is
// always present, so a plain prototype makes it callable (it sets SOCK_NONBLOCK|SOCK_CLOEXEC atomically).
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

// The same for glibc 2.34's posix_spawn_file_actions_addclosefrom_np (also _GNU_SOURCE only): the child of a
// test or tool must not inherit the parent's sockets.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

// The same for pthread_setname_np (names a thread for /proc/<pid>/task/<tid>/comm, at most 15 bytes).
#include <pthread.h>
extern int pthread_setname_np(pthread_t thread, const char *name);

// The calling thread's kernel ID (gettid is _GNU_SOURCE too), for per-thread setpriority.
#include <sys/syscall.h>
#include <unistd.h>
static inline int roster_gettid(void) {
    return (int)syscall(SYS_gettid);
}

// Opens an existing file for writes that go to the device without the page cache and are durable when the write
// returns (O_DIRECT | O_DSYNC; O_DIRECT is _GNU_SOURCE only, so shim.c defines it). -1 with errno on failure.
extern int roster_open_direct_synced(const char *path);
#endif
