// Linux calls that Swift's Glibc module does not export: epoll, eventfd, timerfd, accept4, gettid, and glibc's
// malloc tuning (mallopt, malloc_trim).
#ifndef ROSTER_CLINUXSHIM_H
#define ROSTER_CLINUXSHIM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <malloc.h>

// glibc declares accept4 only under _GNU_SOURCE, which the Glibc module is not built with; the symbol is
// always present, so a plain prototype makes it callable (it sets SOCK_NONBLOCK|SOCK_CLOEXEC atomically).
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

// The calling thread's kernel ID (gettid is _GNU_SOURCE too), for per-thread setpriority.
#include <sys/syscall.h>
#include <unistd.h>
static inline int roster_gettid(void) {
    return (int)syscall(SYS_gettid);
}
#endif
