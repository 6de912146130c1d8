"""The context commands of `hyperfleet config`: named API URLs and tokens in the profile file.

`set-context`, `use-context`, `get-contexts`, `current-context`, `delete-context`; the file
is described in `profile`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import msgspec
import typer
from rich.table import Table

from hyperfleet.cli.client.profile import HEADERS_KEY, Profile, ProfileError, profile_path
from hyperfleet.cli.client.render import Output, make_console, print_json, print_yaml
from hyperfleet.cli.client.session import OutputOpt, fail, usage_error
from hyperfleet.client.headers import merged, parse_header

NameArg = Annotated[str, typer.Argument(help="Context name.", show_default=False)]


def _load() -> Profile:
    try:
        return Profile.load()
    except ProfileError as exc:
        usage_error(str(exc))


def set_context(  # noqa: PLR0917 - typer maps each parameter to a flag
    name: NameArg,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="API server root.", show_default=False)
    ] = None,
    token_file: Annotated[
        str | None,
        typer.Option("--token-file", help="File holding the bearer token.", show_default=False),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", help="The bearer token itself (stored in the profile).", show_default=False
        ),
    ] = None,
    use: Annotated[bool, typer.Option("--use", help="Make it the current context.")] = False,
    header: Annotated[
        list[str] | None,
        typer.Option(
            "--header",
            "-H",
            metavar="'NAME: VALUE'",
            help="Send this header with every request of the context (repeatable); "
            "'NAME:' with no value removes it.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create or update a context (only the options given change)."""
    profile = _load()
    context = profile.contexts.setdefault(name, {})
    for key, value in (("api_url", api_url), ("token_file", token_file), ("token", token)):
        if value is not None:
            context[key] = value
    if header:
        context[HEADERS_KEY] = _headers(context.get(HEADERS_KEY, {}), header)
        if not context[HEADERS_KEY]:
            del context[HEADERS_KEY]
    if use or profile.current is None:
        profile.current = name
    path = profile.save()
    typer.echo(
        f"context {name!r} saved in {path}" + (" (current)" if profile.current == name else "")
    )


def _headers(current: dict[str, str], items: list[str]) -> dict[str, str]:
    """`current` with each `Name: value` set, or removed when its value is empty."""
    out = dict(current)
    for item in items:
        try:
            name, value = parse_header(item)
        except ValueError as exc:
            usage_error(f"--header: {exc}")
        out = merged(out, [(name, value)])
        if not value:
            del out[name]
    return out


def use_context(name: NameArg) -> None:
    """Make NAME the current context."""
    profile = _load()
    if name not in profile.contexts:
        known = ", ".join(sorted(profile.contexts)) or "none"
        usage_error(f"no context {name!r} in {profile_path()} (known: {known})")
    profile.current = name
    profile.save()
    typer.echo(f"switched to context {name!r}")


def get_contexts(output: OutputOpt = Output.table) -> None:
    """List the contexts; the current one is marked with *."""
    profile = _load()
    if output is not Output.table:
        body = msgspec.json.encode(
            {"current-context": profile.current, "contexts": profile.contexts}
        )
        (print_json if output is Output.json else print_yaml)(body)
        return
    table = Table("CURRENT", "NAME", "API URL", "TOKEN", box=None, pad_edge=False)
    for name, ctx in sorted(profile.contexts.items()):
        token = "(set)" if ctx.get("token") else ctx.get("token_file", "-")
        table.add_row("*" if name == profile.current else "", name, ctx.get("api_url", "-"), token)
    make_console().print(table)


def current_context() -> None:
    """Print the current context's name."""
    profile = _load()
    if profile.current is None:
        fail(f"no current context (profile: {profile_path()})")
    typer.echo(profile.current)


def delete_context(name: NameArg) -> None:
    """Remove a context."""
    profile = _load()
    if profile.contexts.pop(name, None) is None:
        usage_error(f"no context {name!r} in {profile_path()}")
    if profile.current == name:
        profile.current = None
    profile.save()
    typer.echo(f"context {name!r} deleted")


EXAMPLES: dict[str, tuple[Callable[..., None], str]] = {
    "set-context": (
        set_context,
        (
            "hyperfleet config set-context prod --api-url https://hf.example "
            "--token-file ~/.hf-token --use"
        ),
    ),
    "use-context": (use_context, "hyperfleet config use-context prod"),
    "get-contexts": (get_contexts, "hyperfleet config get-contexts"),
    "current-context": (current_context, "hyperfleet config current-context"),
    "delete-context": (delete_context, "hyperfleet config delete-context old"),
}


def register(config_app: typer.Typer) -> None:
    """Add the context commands to the `config` group."""
    for name, (command, example) in EXAMPLES.items():
        config_app.command(name, epilog=f"Example:  {example}")(command)
