"""Adapter SDK and the simulated adapters built on it."""
