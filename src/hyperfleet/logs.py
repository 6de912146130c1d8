"""structlog set-up: JSON lines (or console text) with component, version and hostname.

The access line ("HTTP request completed", one per request) is the only log line on the hot
path. With the JSON format it is written by `access_logger()`'s writer directly (msgspec, one
`write` per line) with the same fields structlog would add; any other configuration (console
text, or a structlog configured by someone else, as tests do) sends it through structlog.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
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
    """The access line in the JSON format `configure_logging` installs, written directly."""

    def __init__(self, file: IO[str], *, level: int, static: dict[str, str]) -> None:
        buffer = getattr(file, "buffer", None)
        self._file = file
        self._binary = buffer
        self._level = level
        self._static = static
        self._encode = msgspec.json.Encoder().encode

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
        record: dict[str, Any] = {
            "method": method,
            "path": path,
            "status_code": status,
            "duration_ms": duration_ms,
            "event": ACCESS_EVENT,
            "request_id": request_id,
            "level": "error" if level == logging.ERROR else "info",
            "timestamp": datetime.now(UTC),
            **self._static,
        }
        if audit is not None:
            record.update(audit)
        line = self._encode(record)
        if self._binary is not None:
            self._file.flush()  # keep order with anything written through the text layer
            self._binary.write(line + b"\n")
            self._binary.flush()
        else:
            self._file.write(line.decode() + "\n")
            self._file.flush()


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
