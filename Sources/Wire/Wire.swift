// The Wire module; see README "Layout".
