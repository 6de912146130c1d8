"""Docs state facts; these tests keep them true."""

import re
from pathlib import Path

from hyperfleet.config import reference_table
from hyperfleet.errors import ALL_ERRORS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _between(text: str, marker: str) -> str:
    match = re.search(rf"<!-- {marker}:start -->\n(.*?)\n<!-- {marker}:end -->", text, re.DOTALL)
    assert match, f"markers {marker} missing"
    return match.group(1)


def test_configuration_table_matches_settings():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert _between(text, "settings-table") == reference_table()


def test_error_table_matches_error_classes():
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    rows = [line for line in _between(text, "errors-table").splitlines()[2:] if line.strip()]
    documented = set()
    for row in rows:
        cells = [c.strip().strip("`") for c in row.strip("|").split("|")]
        documented.add(tuple(cells))
    expected = {(e.code, str(e.status), e.title, e.slug, e.__name__) for e in ALL_ERRORS}
    assert documented == expected


def test_every_error_class_is_listed_in_the_tree_docstring():
    import hyperfleet.errors as module

    doc = module.__doc__ or ""
    for error in ALL_ERRORS:
        line = next(
            (ln for ln in doc.splitlines() if re.search(rf"\b{error.__name__}\b", ln)), None
        )
        assert line is not None, error.__name__
        assert str(error.status) in line
        assert error.code in line


def test_documented_aggregation_example_loads(tmp_path):
    import yaml

    from hyperfleet.config import load_aggregation_file
    from hyperfleet.domain.entities import build_registry
    from hyperfleet.domain.model import GenerationPolicy

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    block = _between(text, "aggregation-example")
    source = block.removeprefix("```yaml\n").removesuffix("\n```")
    path = tmp_path / "agg.yaml"
    path.write_text(source)
    parsed = load_aggregation_file(path)
    registry = build_registry(
        [], overlays=[("agg.yaml: ", [e.model_dump(exclude_unset=True) for e in parsed.entities])]
    )
    cluster = registry.require("Cluster")
    assert cluster.optional_adapters == ("monitoring",)
    assert cluster.adapter_dependencies["hypershift"] == ("validation", "dns", "pullsecret")
    assert [c.type for c in cluster.conditions] == ["ControlPlaneReady"]
    assert cluster.conditions[0].status is not None
    assert cluster.adapters["validation"].data_validator is not None
    assert registry.require("NodePool").generation_policy is GenerationPolicy.LENIENT
    assert registry.require("NodePool").parent_kind == "Cluster"
    assert yaml.safe_load(source)["entities"][0]["kind"] == "Cluster"


def test_label_search_examples_in_search_md_parse():
    from hyperfleet.domain.search import LabelField, parse_search

    text = (DOCS / "search.md").read_text(encoding="utf-8").split("## Errors")[0]
    queries = re.findall(r"^\s*GET \S+\?search=(labels\..*?)(?:&order=.*)?$", text, re.MULTILINE)
    assert any("/" in q.split()[0] for q in queries), queries
    for query in queries:
        node = parse_search(query)
        assert node is not None
        first = getattr(node, "field", None) or node.operands[0].field  # type: ignore[union-attr]
        assert isinstance(first, LabelField), query
