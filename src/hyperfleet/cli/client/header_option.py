"""`--header 'Name: value'` (repeatable) on every client command that has `--api-url`.

The option is added to the commands when they are registered, so the command modules need not
repeat it; `run()` reads what was given through `given_headers()`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Annotated, Any

import typer

HeaderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        "-H",
        metavar="'NAME: VALUE'",
        help="Extra request header 'Name: value' (repeatable), e.g. a tenant header; "
        "over the current context's headers.",
        show_default=False,
    ),
]

_given: ContextVar[tuple[str, ...]] = ContextVar("hyperfleet_cli_headers", default=())


def given_headers() -> tuple[str, ...]:
    """The `--header` values of the command being run, in order."""
    return _given.get()


def with_header_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command` with a `--header` option, when it has `--api-url` (else unchanged)."""
    signature = inspect.signature(command, eval_str=True)  # typer reads Annotated from it
    if "api_url" not in signature.parameters or "header" in signature.parameters:
        return command

    @functools.wraps(command)
    def wrapper(*args: Any, header: list[str] | None = None, **kwargs: Any) -> Any:
        token = _given.set(tuple(header or ()))
        try:
            return command(*args, **kwargs)
        finally:
            _given.reset(token)

    parameter = inspect.Parameter(
        "header", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=HeaderOpt
    )
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), parameter]
    )
    wrapper.__annotations__ = {**command.__annotations__, "header": HeaderOpt}
    return wrapper


def add_header_option(app: typer.Typer) -> None:
    """Give every command of `app` (and of its sub-groups) that has `--api-url` a `--header`."""
    for info in app.registered_commands:
        if info.callback is not None:
            info.callback = with_header_option(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            add_header_option(group.typer_instance)
