"""Whether a resource is due for a reconcile event: the `message_decision` CEL program.

The default is the reference's decision (platform.md §2.3), with the two thresholds from the
config rendered into it. Params are evaluated in the order written; each may use the ones
before it. Everything is compiled at start-up (`Decision.compile`), and a problem is reported
with its key path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cel

from hyperfleet.sentinel.cel_env import (
    SAMPLE_NOW,
    SAMPLE_RESOURCES,
    CelCompileError,
    compile_program,
    context_for,
    resource_keys,
    undefined_name,
)
from hyperfleet.sentinel.config import (
    DecisionParam,
    MessageDecision,
    SentinelConfigError,
    SentinelSettings,
)


def cel_duration(seconds: float) -> str:
    """`duration("…")` literal text for a number of seconds: 1800 → `1800s`, 0.5 → `0.5s`."""
    text = f"{seconds:.6f}".rstrip("0").rstrip(".")
    return f"{text}s"


def default_decision(
    max_age_ready_seconds: float, max_age_not_ready_seconds: float
) -> MessageDecision:
    """The reference's default decision with the given thresholds."""
    ready = cel_duration(max_age_ready_seconds)
    not_ready = cel_duration(max_age_not_ready_seconds)
    params = [
        ("ref_time", 'condition("Reconciled").last_updated_time'),
        ("is_reconciled", 'condition("Reconciled").status == "True"'),
        ("has_ref_time", 'ref_time != ""'),
        ("is_new_resource", "resource.generation == 1 && !has_ref_time"),
        (
            "generation_mismatch",
            'resource.generation > condition("Reconciled").observed_generation',
        ),
        (
            "reconciled_and_stale",
            f'is_reconciled && has_ref_time && now - timestamp(ref_time) > duration("{ready}")',
        ),
        (
            "not_reconciled_and_debounced",
            (
                "!is_reconciled && has_ref_time"
                f' && now - timestamp(ref_time) > duration("{not_ready}")'
            ),
        ),
    ]
    return MessageDecision(
        params=[DecisionParam(name=n, expr=e) for n, e in params],
        result=(
            "is_new_resource || generation_mismatch || reconciled_and_stale"
            " || not_reconciled_and_debounced"
        ),
    )


class DecisionError(RuntimeError):
    """Evaluating the decision for one resource failed (the resource is skipped this pass)."""


@dataclass(frozen=True, slots=True)
class Decision:
    source: MessageDecision
    params: tuple[tuple[str, cel.Program], ...]
    result: cel.Program
    keys: frozenset[str] | None
    """The resource keys the expressions read (None = all)."""

    @classmethod
    def from_settings(cls, settings: SentinelSettings) -> Decision:
        source = settings.message_decision or default_decision(
            settings.max_age_ready_seconds, settings.max_age_not_ready_seconds
        )
        return cls.compile(source)

    @classmethod
    def compile(cls, source: MessageDecision) -> Decision:
        """Compile every expression; SentinelConfigError lists each problem with its key path."""
        errors: list[tuple[str, str]] = []
        known: list[str] = []
        params: list[tuple[str, cel.Program]] = []
        for i, param in enumerate(source.params):
            try:
                params.append((param.name, compile_program(param.expr, known=known)))
            except CelCompileError as exc:
                errors.append((f"message_decision.params[{i}].expr", str(exc)))
            known.append(param.name)
        result: cel.Program | None = None
        try:
            result = compile_program(source.result, known=known)
        except CelCompileError as exc:
            errors.append(("message_decision.result", str(exc)))
        if errors or result is None:
            raise SentinelConfigError(errors)
        keys = resource_keys([p.expr for p in source.params] + [source.result])
        decision = cls(source, tuple(params), result, keys)
        decision._dry_run()
        return decision

    def _dry_run(self) -> None:
        """Evaluate on sample resources: unknown functions and non-boolean results fail now."""
        for sample in SAMPLE_RESOURCES:
            self._dry_run_one(sample)

    def _dry_run_one(self, sample: Mapping[str, Any]) -> None:
        ctx = context_for(sample, SAMPLE_NOW, self.keys)
        for i, (name, program) in enumerate(self.params):
            try:
                ctx.add_variable(name, program.execute(ctx))
            except Exception as exc:  # noqa: BLE001 - only name errors are config errors
                _raise_if_undefined(exc, f"message_decision.params[{i}].expr")
                return  # a data-dependent failure: later values cannot be checked on this one
        try:
            value = self.result.execute(ctx)
        except Exception as exc:  # noqa: BLE001
            _raise_if_undefined(exc, "message_decision.result")
            return
        if not isinstance(value, bool):
            raise SentinelConfigError(
                [("message_decision.result", f"must be a boolean, got {type(value).__name__}")]
            )

    def evaluate(self, resource: Mapping[str, Any], now: datetime) -> bool:
        """Publish an event for `resource` at `now`? DecisionError when evaluation fails."""
        ctx = context_for(resource, now, self.keys)
        name = "result"
        try:
            for name, program in self.params:
                ctx.add_variable(name, program.execute(ctx))
            name = "result"
            value = self.result.execute(ctx)
        except Exception as exc:
            raise DecisionError(f"{name}: {_first_line(exc)}") from exc
        if not isinstance(value, bool):
            raise DecisionError(f"result is {type(value).__name__}, not a boolean")
        return value


def _raise_if_undefined(exc: BaseException, path: str) -> None:
    message = undefined_name(exc)
    if message is not None:
        raise SentinelConfigError([(path, message)]) from exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__
