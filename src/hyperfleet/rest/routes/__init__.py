"""Route tables."""
