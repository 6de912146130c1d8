"""The `hyperfleet` console script (and `python -m hyperfleet`)."""

from __future__ import annotations

import sys

from hyperfleet.cli.lean import keep_terminal_stack_out


def main() -> None:
    keep_terminal_stack_out(sys.argv)
    from hyperfleet.cli.main import main as run

    run()
