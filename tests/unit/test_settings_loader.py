"""The shared loader: file < environment < flags, sections with their own loader, one error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from hyperfleet.settings_loader import ConfigError, error_path, load_layered


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: int = 1


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = "memory://"
    size: int = Field(default=1, ge=1)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "x"
    inner: _Inner = _Inner()
    items: list[_Inner] = Field(default_factory=list)
    section: _Section = _Section()


NAMES = {
    ("name",): "T_NAME",
    ("inner", "port"): "T_INNER_PORT",
    ("section", "url"): "T_SECTION_URL",
    ("section", "size"): "T_SECTION_SIZE",
}


def _section(raw: Any, env: Mapping[str, str]) -> _Section:
    data = dict(raw or {})
    for key in ("url", "size"):
        if env.get(f"T_SECTION_{key.upper()}"):
            data[key] = env[f"T_SECTION_{key.upper()}"]
    try:
        return _Section.model_validate(data)
    except Exception as exc:
        raise ConfigError([("section", str(exc).splitlines()[0])]) from exc


def _load(data: dict[str, Any], env: dict[str, str], flags: dict[str, Any] | None = None) -> _Model:
    return load_layered(
        _Model, data, env_names=NAMES, environ=env, flags=flags, sections={"section": _section}
    )


def test_env_over_file_and_flags_over_env():
    data = {"name": "file", "inner": {"port": 2}, "section": {"url": "a://file"}}
    env = {"T_NAME": "env", "T_INNER_PORT": "3", "T_SECTION_URL": "a://env"}
    model = _load(data, env, {"inner": {"port": 4}})
    assert (model.name, model.inner.port, model.section.url) == ("env", 4, "a://env")


def test_an_empty_variable_counts_as_unset():
    assert _load({"name": "file"}, {"T_NAME": ""}).name == "file"


def test_a_section_flag_masks_its_variable_only():
    env = {"T_SECTION_URL": "a://env", "T_SECTION_SIZE": "7"}
    model = _load({}, env, {"section": {"url": "a://flag"}})
    assert (model.section.url, model.section.size) == ("a://flag", 7)


def test_every_problem_in_one_error():
    with pytest.raises(ConfigError) as info:
        _load({"nmae": 1, "section": {"size": 0}}, {"T_INNER_PORT": "x"})
    paths = [path for path, _ in info.value.errors]
    assert paths == ["section", "inner.port", "nmae"]


def test_error_paths_dotted_or_indexed():
    assert error_path(("items", 2, "port")) == "items.2.port"
    assert error_path(("items", 2, "port"), indexed=True) == "items[2].port"
    assert error_path(()) == error_path((), indexed=True) == "(root)"


def test_the_error_class_is_chosen_by_the_caller():
    class Special(ConfigError):
        pass

    with pytest.raises(Special):
        load_layered(_Model, {"name": []}, env_names={}, environ={}, error=Special)
