"""`hyperfleet serve` runs without the terminal-rendering stack.

A server renders nothing on a terminal, yet `rich` (with `pygments`, about 6 MB resident) came
in with structlog's development renderer, typer's help screens and the client commands' tables.
The console script marks it unavailable before anything imports it when the command is `serve`;
structlog and typer (told by its `TYPER_USE_RICH` switch) then fall back to plain output, and
the client commands, which need it, are not registered in that process (not reachable from
`serve` anyway).
"""

from __future__ import annotations

import os
import sys

_TERMINAL_STACK = "rich"


def keep_terminal_stack_out(argv: list[str]) -> None:
    """For `hyperfleet serve …`: any later `import rich` raises ImportError (optional for all)."""
    if argv[1:2] == ["serve"] and _TERMINAL_STACK not in sys.modules:
        sys.modules[_TERMINAL_STACK] = None  # type: ignore[assignment]
        os.environ["TYPER_USE_RICH"] = "0"  # typer's own switch: plain help and errors


def server_only() -> bool:
    """Whether this process was started as `hyperfleet serve` (see the module docstring)."""
    return _TERMINAL_STACK in sys.modules and sys.modules[_TERMINAL_STACK] is None
