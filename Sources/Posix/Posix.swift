// Posix module; real sources follow.
