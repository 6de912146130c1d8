"""PathTable: the one route that serves every entity path."""

from __future__ import annotations

import pytest
from starlette.exceptions import HTTPException
from starlette.routing import Match

from hyperfleet.rest.routing import ROUTE_LABEL, PathTable, label_of


async def _handler(_request):  # pragma: no cover - never awaited here
    raise AssertionError


def _table() -> PathTable:
    table = PathTable()
    table.add("/api/clusters", {"GET": _handler, "POST": _handler})
    table.add("/api/clusters/{id}", {"GET": _handler, "PATCH": _handler})
    table.add("/api/clusters/{id}/statuses", {"PUT": _handler})
    table.add("/api/clusters/{parent_id}/nodepools", {"GET": _handler})
    table.add("/api/clusters/{parent_id}/nodepools/{id}", {"GET": _handler})
    return table


def _scope(method: str, path: str, root_path: str = "") -> dict:
    return {"type": "http", "method": method, "path": path, "root_path": root_path}


@pytest.mark.parametrize(
    ("path", "params", "label"),
    [
        ("/api/clusters", {}, "/api/clusters"),
        ("/api/clusters/c1", {"id": "c1"}, "/api/clusters/-"),
        ("/api/clusters/c1/statuses", {"id": "c1"}, "/api/clusters/-/statuses"),
        ("/api/clusters/c1/nodepools", {"parent_id": "c1"}, "/api/clusters/-/nodepools"),
        (
            "/api/clusters/c1/nodepools/n1",
            {"parent_id": "c1", "id": "n1"},
            "/api/clusters/-/nodepools/-",
        ),
    ],
)
def test_full_match_carries_params_and_label(path, params, label):
    match, child = _table().matches(_scope("GET" if "statuses" not in path else "PUT", path))
    assert match is Match.FULL
    assert child["path_params"] == params
    assert child[ROUTE_LABEL] == label


def test_literal_wins_over_parameter_and_a_parameter_is_one_non_empty_segment():
    table = PathTable()
    table.add("/a/{x}", {"GET": _handler})
    table.add("/a/fixed", {"POST": _handler})
    assert table.matches(_scope("POST", "/a/fixed"))[1]["path_params"] == {}
    # The literal path exists but not for GET: Starlette would also call it a partial match.
    assert table.matches(_scope("GET", "/a/fixed"))[0] is Match.PARTIAL
    assert table.matches(_scope("GET", "/a/other"))[1]["path_params"] == {"x": "other"}
    assert table.matches(_scope("GET", "/a/"))[0] is Match.NONE
    assert table.matches(_scope("GET", "/a//"))[0] is Match.NONE


def test_unknown_paths_and_other_scopes_do_not_match():
    table = _table()
    for path in ("/api", "/api/widgets", "/api/clusters/c1/unknown", "/api/clusters/c1/x/y/z"):
        assert table.matches(_scope("GET", path))[0] is Match.NONE, path
    assert table.matches({"type": "websocket", "path": "/api/clusters"})[0] is Match.NONE


def test_root_path_is_stripped_before_matching():
    match, child = _table().matches(_scope("GET", "/prefix/api/clusters/c1", "/prefix"))
    assert match is Match.FULL
    assert child["path_params"] == {"id": "c1"}


def test_head_follows_get_and_other_methods_are_partial():
    table = _table()
    assert table.matches(_scope("HEAD", "/api/clusters/c1"))[0] is Match.FULL
    assert table.matches(_scope("DELETE", "/api/clusters/c1"))[0] is Match.PARTIAL


async def test_partial_match_raises_405_with_every_method_in_allow():
    table = _table()
    scope = _scope("DELETE", "/api/clusters/c1")
    scope.update(table.matches(scope)[1])
    with pytest.raises(HTTPException) as raised:
        await table.handle(scope, None, None)  # type: ignore[arg-type]
    assert raised.value.status_code == 405
    assert raised.value.headers == {"Allow": "GET, HEAD, PATCH"}


def test_a_pattern_registered_twice_is_refused():
    table = _table()
    with pytest.raises(ValueError, match="registered twice"):
        table.add("/api/clusters/{other}", {"GET": _handler})


def test_label_replaces_parameters_with_dashes():
    assert label_of("/api/{a}/b/{c}") == "/api/-/b/-"


def test_a_literal_that_leads_nowhere_falls_back_to_the_parameter():
    table = PathTable()
    table.add("/api/{x}/c", {"GET": _handler})
    table.add("/api/b/d", {"GET": _handler})
    match, child = table.matches(_scope("GET", "/api/b/c"))
    assert match == Match.FULL
    assert child["path_params"] == {"x": "b"}
    assert table.matches(_scope("GET", "/api/b/d"))[1]["path_params"] == {}
