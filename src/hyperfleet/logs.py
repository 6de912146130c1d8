"""structlog set-up: JSON lines (or console text) with component, version and hostname.

The access line ("HTTP request completed", one per request) is the only log line on the hot
path. With the JSON format it is written by `access_logger()`'s writer directly (msgspec, one
`write` per line) with the same fields structlog would add; any other configuration (console
text, or a structlog configured by someone else, as tests do) sends it through structlog.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import socket
import sys
import time
from collections.abc import Mapping, MutableMapping
from typing import IO, Any, Protocol

import msgspec
import structlog

from hyperfleet import __version__
from hyperfleet.config import LoggingSettings

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

ACCESS_EVENT = "HTTP request completed"
_ACCESS_EVENT = ACCESS_EVENT.encode()


class AccessLogger(Protocol):
    """(method, path, status code, duration in ms, request id) → one access line.

    `audit` (actor, tenant, role, resource_id) comes with writes only; reads pass None.
    """

    def __call__(
        self,
        method: str,
        path: str,
        status: int,
        duration_ms: float,
        request_id: str,
        *,
        audit: Mapping[str, str] | None = None,
    ) -> None: ...


class _JsonAccessLine:
    """The access line in the JSON format `configure_logging` installs, written directly.

    The same keys and values structlog's chain would write, formatted into one bytes template:
    only the path needs JSON escaping, and the timestamp's date and time change once a second.
    """

    def __init__(self, file: IO[str], *, level: int, static: dict[str, str]) -> None:
        buffer = getattr(file, "buffer", None)
        self._file = file
        self._binary = buffer
        self._level = level
        self._encode = msgspec.json.Encoder().encode
        self._tail = b"," + self._encode(static)[1:] + b"\n" if static else b"}\n"
        self._second = -1
        self._stamp = b""
        self._pending: list[bytes] = []
        self._flush_on: asyncio.AbstractEventLoop | None = None

    def _timestamp(self) -> bytes:
        """Now in UTC as ISO 8601 with microseconds and `Z`, as structlog's TimeStamper."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)).encode()
        return b"%b.%06dZ" % (self._stamp, int((now - second) * 1_000_000))

    def __call__(
        self,
        method: str,
        path: str,
        status: int,
        duration_ms: float,
        request_id: str,
        *,
        audit: Mapping[str, str] | None = None,
    ) -> None:
        level = logging.ERROR if status >= 500 else logging.INFO  # noqa: PLR2004
        if level < self._level:
            return
        line = (
            b'{"method":%b,"path":%b,"status_code":%d,"duration_ms":%r,"event":"%b",'
            b'"request_id":%b,"level":"%b","timestamp":"%b"%b'
            % (
                self._encode(method),
                self._encode(path),
                status,
                float(duration_ms),
                _ACCESS_EVENT,
                self._encode(request_id),
                b"error" if level == logging.ERROR else b"info",
                self._timestamp(),
                self._tail if audit is None else self._audit(audit) + self._tail,
            )
        )
        if self._binary is None:
            self._file.write(line.decode())
            self._file.flush()
            return
        # One write for every line of an event-loop turn instead of one per request: under load
        # a turn completes many requests, and the write was a system call per GET.
        self._pending.append(line)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a caller outside the server): write now
            self.flush()
            return
        # Scheduled once per turn, and again on another loop (tests run one loop per test; a
        # loop closed before its turn ended never runs the flush it was given).
        if self._flush_on is not loop:
            self._flush_on = loop
            loop.call_soon(self.flush)

    def _audit(self, audit: Mapping[str, str]) -> bytes:
        """`,"actor":…,"tenant":…` — the audit fields of a write, before the static ones."""
        return b"," + self._encode(audit)[1:-1] if audit else b""

    def flush(self) -> None:
        """Write the pending lines."""
        if self._binary is None or not self._pending:
            self._flush_on = None
            return
        self._flush_on = None
        lines, self._pending = self._pending, []
        self._file.flush()  # keep order with anything written through the text layer
        self._binary.write(b"".join(lines))
        self._binary.flush()


class _Installed:
    processors: list[Any] | None = None
    access: _JsonAccessLine | None = None


def _structlog_access(
    method: str,
    path: str,
    status: int,
    duration_ms: float,
    request_id: str,
    *,
    audit: Mapping[str, str] | None = None,
) -> None:
    logger = structlog.get_logger("hyperfleet.access")
    emit = logger.error if status >= 500 else logger.info  # noqa: PLR2004
    # request_id is bound in the context by the middleware; passing it again would clash.
    del request_id
    emit(
        ACCESS_EVENT,
        method=method,
        path=path,
        status_code=status,
        duration_ms=duration_ms,
        **(audit or {}),
    )


def access_logger() -> AccessLogger:
    """The writer for the access line under the logging configuration in force now."""
    current = structlog.get_config()["processors"]
    if _Installed.access is not None and current is _Installed.processors:
        return _Installed.access
    return _structlog_access


def configure_logging(settings: LoggingSettings, *, component: str = "api") -> None:
    level = _LEVELS[settings.level]
    hostname = socket.gethostname()

    def add_static(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("component", component)
        event.setdefault("version", __version__)
        event.setdefault("hostname", hostname)
        return event

    json_format = settings.format == "json"
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json_format
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        timestamper,
        add_static,
        structlog.processors.format_exc_info,
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=False,
    )
    _Installed.processors = structlog.get_config()["processors"]
    _Installed.access = (
        _JsonAccessLine(
            sys.stdout,
            level=level,
            static={"component": component, "version": __version__, "hostname": hostname},
        )
        if json_format
        else None
    )
    if _Installed.access is not None:
        atexit.register(_Installed.access.flush)  # a line of the last loop turn
    # Records of libraries that log through `logging` (uvicorn, asyncpg, aio-pika) are rendered
    # by the same chain, so stdout carries one format only.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                timestamper,
                add_static,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
