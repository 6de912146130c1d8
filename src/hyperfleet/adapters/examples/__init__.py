"""Example SDK adapters; docs/adapters.md shows them verbatim and the tests run them."""
