// Linux calls that Swift's Glibc module does not export: epoll, eventfd, timerfd.
#ifndef ROSTER_CLINUXSHIM_H
#define ROSTER_CLINUXSHIM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#endif
