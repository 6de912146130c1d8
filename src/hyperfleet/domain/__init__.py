"""Pure domain values and rules."""
