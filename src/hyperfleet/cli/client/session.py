"""Running one client command: the shared options, the client, the output, and the exit codes.

Exit codes: 0 success; 1 the API answered with an error, or no answer came (the line names the
URL tried), or the token file is unreadable; 2 a usage error (bad flag, bad `--spec` JSON, a
broken profile file); 130 interrupted (a watch command ends with 0 when interrupted).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar

import httpx
import msgspec
import structlog
import typer
from rich.console import RenderableType
from rich.text import Text

from hyperfleet.cli.client.header_option import given_headers
from hyperfleet.cli.client.profile import ProfileError, resolve
from hyperfleet.cli.client.render import (
    Output,
    decode,
    make_console,
    print_json,
    print_yaml,
)
from hyperfleet.client import ApiError, ClientConnectionError, HyperFleetClient

T = TypeVar("T")

API_ERROR_EXIT = 1
USAGE_EXIT = 2
INTERRUPT_EXIT = 130  # the shell's 128 + SIGINT

ApiUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        help="API server root (else $HYPERFLEET_API_URL, the current context, "
        "http://127.0.0.1:8000).",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    Output, typer.Option("--output", "-o", help="table, json (the API body) or yaml.")
]


def fail(message: str, code: int = API_ERROR_EXIT) -> NoReturn:
    """Print `error: message` on stderr and exit with `code`."""
    line = Text("error:", style="red")
    line.append(f" {message}")
    make_console(stderr=True).print(line)
    raise typer.Exit(code)


def usage_error(message: str) -> NoReturn:
    """A usage error (exit 2)."""
    fail(message, USAGE_EXIT)


def _quiet_logs() -> None:
    """Only errors, on stderr: the client's retry warnings must not mix with the output."""
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
    )


def run(
    api_url: str | None,
    call: Callable[[HyperFleetClient], Awaitable[T]],
    *,
    interrupt_exit: int = INTERRUPT_EXIT,
) -> T:
    """Run `call` with a client for the resolved API URL and token; errors become one line.

    SIGINT (and SIGTERM) end the command with `interrupt_exit`: 0 for the watch commands,
    which run until interrupted.
    """
    _quiet_logs()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        target = resolve(api_url, given_headers())
    except ProfileError as exc:
        usage_error(str(exc))

    async def main() -> T:
        async with HyperFleetClient(
            target.api_url, token=target.token, headers=target.headers
        ) as hf:
            return await call(hf)

    try:
        return asyncio.run(main())
    except ApiError as exc:
        fail(str(exc))
    except ClientConnectionError as exc:
        reason = str(exc.__cause__ or exc) or type(exc.__cause__).__name__
        fail(
            f"cannot reach the API at {target.api_url} (tried {exc.url}, "
            f"{exc.attempts} attempt{'s' if exc.attempts != 1 else ''}): {reason}"
        )
    except OSError as exc:
        fail(f"cannot read the token: {exc}")
    except KeyboardInterrupt:
        raise typer.Exit(interrupt_exit) from None


def show(
    response: httpx.Response,
    output: Output,
    table: Callable[[Any], RenderableType],
    *,
    empty: str = "",
) -> None:
    """Print a response: its body exactly (json), as YAML, or as the table `table` makes."""
    body = response.content
    if output is Output.json:
        print_json(body)
        return
    if not body:
        if empty and output is Output.table:
            make_console().print(empty)
        return
    try:
        value = decode(body)
    except msgspec.DecodeError:
        fail(f"the answer from {response.request.url} is not JSON: {body[:200]!r}")
    if output is Output.yaml:
        print_yaml(body)
    else:
        make_console().print(table(value))
