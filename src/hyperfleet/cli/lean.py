"""`hyperfleet serve` runs without the terminal-rendering stack unless something needs it.

A server renders nothing on a terminal, yet `rich` (with `pygments`, about 6 MB resident) came
in with structlog's development renderer, typer's help screens and the client commands' tables.
When the command is `serve`, the console script hides rich while structlog is imported (its
renderer decides once, at import, and falls back to plain tracebacks), tells typer to render
plainly (its `TYPER_USE_RICH` switch), and the client commands, which need rich, are not
registered in that process (not reachable from `serve` anyway). Rich stays importable for
whatever does need it later: `cel`, loaded only when a kind configures CEL conditions, imports
it unconditionally.
"""

from __future__ import annotations

import os
import sys

_TERMINAL_STACK = "rich"
_STATE = {"server_only": False}


def keep_terminal_stack_out(argv: list[str]) -> None:
    """For `hyperfleet serve …`: structlog and typer without rich; see the module docstring."""
    if argv[1:2] != ["serve"] or _TERMINAL_STACK in sys.modules:
        return
    _STATE["server_only"] = True
    os.environ["TYPER_USE_RICH"] = "0"
    sys.modules[_TERMINAL_STACK] = None  # type: ignore[assignment]
    try:
        import structlog  # noqa: F401 - imported now, while rich is hidden
    finally:
        del sys.modules[_TERMINAL_STACK]


def server_only() -> bool:
    """Whether this process was started as `hyperfleet serve` (see the module docstring)."""
    return _STATE["server_only"]
