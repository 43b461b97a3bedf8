// The Storage module; see README "Layout".
