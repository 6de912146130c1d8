"""Typed HyperFleet API client (async, with a thin sync wrapper)."""
