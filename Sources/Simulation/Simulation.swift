// The Simulation module; see README "Layout".
