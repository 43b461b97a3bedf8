// The HTTP module; see README "Layout".
