// The Registry module; see README "Layout".
