"""`hyperfleet completion bash|zsh|fish`: print the shell's completion script.

The script is typer's (the same `--show-completion` prints for the detected shell), for a shell
named explicitly; it asks `hyperfleet` itself for completions (`_HYPERFLEET_COMPLETE`), so it
never goes stale when commands are added.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

# typer exposes the script only through --show-completion, which guesses the shell.
from typer._completion_shared import get_completion_script

PROG = "hyperfleet"
COMPLETE_VAR = "_HYPERFLEET_COMPLETE"
EPILOG = (
    "Example:  hyperfleet completion bash > ~/.local/share/bash-completion/completions/hyperfleet"
    '  |  eval "$(hyperfleet completion zsh)"'
)


class Shell(StrEnum):
    """The shells a script can be printed for."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.")]) -> None:
    """Print the completion script for SHELL."""
    typer.echo(get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=str(shell)))
