// The Posix module; see README "Layout".
