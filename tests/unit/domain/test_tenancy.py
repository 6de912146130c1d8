"""Tenant headers into a CallerTenancy (domain/tenancy.py): values, errors, system callers."""

from __future__ import annotations

import pytest

from hyperfleet.domain.tenancy import (
    SYSTEM,
    SYSTEM_WRITE_DENIED,
    CallerTenancy,
    Dimension,
    TenancyPolicy,
    parse_tenancy_label,
    tenancy_label,
    visible_to,
)
from hyperfleet.errors import Forbidden, ValidationFailed

POLICY = TenancyPolicy(
    system_header="X-HyperFleet-System",
    dimensions=(Dimension("X-Org", "org", required=True), Dimension("X-Team", "team")),
)


def resolve(**headers: str) -> CallerTenancy:
    wire = [(k.replace("_", "-").lower().encode(), v.encode("latin-1")) for k, v in headers.items()]
    return POLICY.resolve(wire)


def test_present_dimensions_form_the_map() -> None:
    assert resolve(x_org="acme").values == {"org": "acme"}
    caller = resolve(x_org=" acme ", x_team="blue-1.a_b")
    assert caller.values == {"org": "acme", "team": "blue-1.a_b"}
    assert not caller.system


def test_the_label_is_sorted_by_key() -> None:
    assert resolve(x_team="blue", x_org="acme").label == "org=acme,team=blue"
    assert SYSTEM.label == "system"


@pytest.mark.parametrize("value", ["true", "TRUE", " True "])
def test_the_system_header_true_makes_a_system_caller(value: str) -> None:
    caller = resolve(x_hyperfleet_system=value, x_org="bad value")
    assert caller.system
    assert caller.sees({"org": "anyone"})
    assert visible_to(caller) is None


def test_another_system_header_value_is_ignored() -> None:
    assert resolve(x_hyperfleet_system="false", x_org="acme").values == {"org": "acme"}


@pytest.mark.parametrize("value", ["a b", "a/b", "é", "a" * 64, "a,b", "a=b"])
def test_a_bad_value_is_a_400_naming_the_header(value: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        resolve(x_org="acme", x_team=value)
    assert "X-Team" in caught.value.detail
    assert [v.field for v in caught.value.violations] == ["X-Team"]


def test_63_characters_are_accepted() -> None:
    assert resolve(x_org="a" * 63).values == {"org": "a" * 63}


@pytest.mark.parametrize("headers", [{}, {"x_team": "blue"}, {"x_org": " "}])
def test_a_missing_required_dimension_is_a_403(headers: dict[str, str]) -> None:
    with pytest.raises(Forbidden) as caught:
        resolve(**headers)
    assert "X-Org" in caught.value.detail


def test_no_dimension_at_all_is_a_403() -> None:
    optional = TenancyPolicy(system_header="X-Sys", dimensions=(Dimension("X-Org", "org"),))
    with pytest.raises(Forbidden):
        optional.resolve([])


def test_visibility_is_an_exact_match() -> None:
    caller = resolve(x_org="acme")
    assert caller.sees({"org": "acme"})
    assert not caller.sees({"org": "acme", "team": "blue"})
    assert not caller.sees({})
    assert visible_to(caller) == "org=acme"
    assert visible_to(None) is None


def test_only_system_callers_are_refused_writes() -> None:
    resolve(x_org="acme").reject_write()
    with pytest.raises(Forbidden) as caught:
        SYSTEM.reject_write()
    assert caught.value.detail == SYSTEM_WRITE_DENIED


@pytest.mark.parametrize(
    "values", [{}, {"org": "acme"}, {"team": "b.1", "org": "a-c_e"}, {"z": "1", "a": "2", "m": "3"}]
)
def test_the_stored_label_round_trips(values: dict[str, str]) -> None:
    label = tenancy_label(values)
    assert parse_tenancy_label(label) == values
    assert label == ",".join(f"{k}={values[k]}" for k in sorted(values))
