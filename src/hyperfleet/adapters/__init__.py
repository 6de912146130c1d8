"""Adapter SDK and the simulated adapters built on it.

Write an adapter as a subclass of `Adapter` (see docs/adapters.md); `AdapterRunner` runs it on
a broker subscription, `hyperfleet adapter --config FILE` runs one in its own process.
"""

from hyperfleet.adapters.errors import TerminalError, TransientError
from hyperfleet.adapters.outcome import Outcome
from hyperfleet.adapters.runner import AdapterRunner
from hyperfleet.adapters.sdk import Adapter, Context

__all__ = ["Adapter", "AdapterRunner", "Context", "Outcome", "TerminalError", "TransientError"]
