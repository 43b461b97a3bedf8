// Linux calls that Swift's Glibc module does not export: epoll, eventfd, timerfd, accept4, pthread_setname_np,
// and glibc's malloc tuning (mallopt, malloc_trim).
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

// The same for pthread_setname_np (names a thread for /proc/<pid>/task/<tid>/comm, at most 15 bytes).
#include <pthread.h>
extern int pthread_setname_np(pthread_t thread, const char *name);
#endif
