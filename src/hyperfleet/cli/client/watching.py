"""`watch` and `--watch`: changes from the API's watch stream, printed or redrawn live.

`watch` prints one line per event (`-o json`: the event's JSON as the server sent it; `-o yaml`:
one document per event). `get --watch` / `list --watch` show the table and redraw it on every
change (on a terminal in place; otherwise each new table is printed after the last), watching
from the list's `X-Hyperfleet-Change-Seq` so that no change between the two is missed. When the
server cannot resume the stream (410) the list is read again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import yaml
from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text

from hyperfleet.cli.client import tables
from hyperfleet.cli.client.render import PHASE_STYLES, Output, decode, make_console, print_json
from hyperfleet.cli.client.session import run
from hyperfleet.client import HyperFleetClient, WatchEvent, WatchExpiredError
from hyperfleet.client.wire import item_path

# The list's change position (the id of the last event it reflects): watch from there.
CHANGE_SEQ_HEADER = "X-Hyperfleet-Change-Seq"
EVENT_STYLES = {"ADDED": "green", "MODIFIED": "cyan", "DELETED": "red"}


def event_line(event: WatchEvent, now: datetime | None = None) -> Text:
    """`MODIFIED  prod-1  <id>  Ready  gen 2` for the table form of `watch`."""
    obj = event.object
    status = obj.get("status") or {}
    text = Text()
    text.append(f"{(now or datetime.now(UTC)).strftime('%H:%M:%S')}  ", style="dim")
    text.append(f"{event.type:<9}", style=EVENT_STYLES.get(event.type, ""))
    text.append(f" {obj.get('kind', '?')} {obj.get('name', '?')}  {obj.get('id', '?')}  ")
    phase = status.get("phase") or "-"
    text.append(phase, style=PHASE_STYLES.get(phase, ""))
    text.append(f"  gen {obj.get('generation', '-')}  ")
    text.append_text(tables.condition_dots(status.get("conditions") or []))
    return text


def _print_event(console: Console, output: Output, event: WatchEvent) -> None:
    if output is Output.json:
        print_json(event.data)
    elif output is Output.yaml:
        console.file.write("---\n" + yaml.safe_dump(decode(event.data), sort_keys=False))
        console.file.flush()
    else:
        console.print(event_line(event))


def events(api_url: str | None, output: Output, collection: str, search: str | None) -> None:
    """Print every event until interrupted; after a 410 the watch starts again from now."""
    console = make_console()
    warn = make_console(stderr=True)

    async def follow(hf: HyperFleetClient) -> None:
        while True:
            try:
                async for event in hf.watch(collection, search=search):
                    _print_event(console, output, event)
            except WatchExpiredError as exc:
                warn.print(f"watch restarted: {exc}", style="yellow")

    run(api_url, follow, interrupt_exit=0)


class _Screen:
    """Where the live table goes: redrawn in place on a terminal, else appended."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self.console = make_console()
        self.live: Live | None = None
        if output is Output.table and self.console.is_terminal:
            self.live = Live(console=self.console, auto_refresh=False)
            self.live.start()

    def show(self, renderable: RenderableType) -> None:
        if self.live is not None:
            self.live.update(renderable, refresh=True)
        else:
            self.console.print(renderable)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


def _page(items: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    values = sorted(items.values(), key=lambda r: r.get("created_time", ""), reverse=True)
    return {"items": values, "total": len(values)}


def live_list(api_url: str | None, output: Output, collection: str, params: dict[str, Any]) -> None:
    """The list, then every change: a redrawn table, or (json/yaml) the list then the events."""
    screen = _Screen(output)

    async def follow(hf: HyperFleetClient) -> None:
        while True:
            response = await hf.request("GET", collection, params=params)
            position = response.headers.get(CHANGE_SEQ_HEADER)
            body = decode(response.content)
            items = {item["id"]: item for item in body.get("items") or []}
            if output is Output.table:
                screen.show(tables.resource_list(body))
            else:
                _print_body(screen.console, output, response.content)
            try:
                changes = hf.watch(collection, search=params.get("search"), last_event_id=position)
                async for event in changes:
                    if output is not Output.table:
                        _print_event(screen.console, output, event)
                        continue
                    if event.type == "DELETED":
                        items.pop(event.object.get("id", ""), None)
                    else:
                        items[event.object["id"]] = event.object
                    screen.show(tables.resource_list(_page(items)))
            except WatchExpiredError:
                continue

    try:
        run(api_url, follow, interrupt_exit=0)
    finally:
        screen.close()


def live_get(api_url: str | None, output: Output, collection: str, id_: str) -> None:
    """One resource, redrawn on every change to it (json/yaml: the resource, then its events)."""
    screen = _Screen(output)

    async def follow(hf: HyperFleetClient) -> None:
        while True:
            # The list's change position first: no change after the GET can be missed.
            listed = await hf.request("GET", collection, params={"size": 1})
            position = listed.headers.get(CHANGE_SEQ_HEADER)
            response = await hf.request("GET", item_path(collection, id_))
            if output is Output.table:
                screen.show(tables.resource_detail(decode(response.content)))
            else:
                _print_body(screen.console, output, response.content)
            try:
                async for event in hf.watch(collection, last_event_id=position):
                    if event.object.get("id") != id_:
                        continue
                    if output is not Output.table:
                        _print_event(screen.console, output, event)
                    else:
                        screen.show(tables.resource_detail(event.object))
                    if event.type == "DELETED":
                        return
            except WatchExpiredError:
                continue

    try:
        run(api_url, follow, interrupt_exit=0)
    finally:
        screen.close()


def _print_body(console: Console, output: Output, body: bytes) -> None:
    if output is Output.json:
        print_json(body)
    else:
        console.file.write("---\n" + yaml.safe_dump(decode(body), sort_keys=False))
        console.file.flush()
