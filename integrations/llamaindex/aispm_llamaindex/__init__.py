"""aispm adapter for llamaindex: not yet implemented (tracked in the issue tracker); importing it has no effect."""
