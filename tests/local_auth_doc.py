"""docs/local-auth.md's blocks, and running its shell blocks as the page says (one directory)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "local-auth.md"
DOC_API = "http://localhost:8000"
BIN = str(Path(sys.executable).parent)


def block(name: str) -> str:
    """The fenced block between `<!-- local-auth:NAME:start/end -->`, without its fence."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- local-auth:{name}:start -->\n```\w+\n(.*?)\n```\n<!-- local-auth:{name}:end -->",
        text,
        re.DOTALL,
    )
    assert match, f"docs/local-auth.md: block {name} missing"
    return match.group(1)


def demo_args() -> list[str]:
    """The documented `hyperfleet demo …` line's arguments after `demo`."""
    words = shlex.split(block("demo"))
    assert words[:2] == ["hyperfleet", "demo"], words
    return words[2:]


def env(**extra: str) -> dict[str, str]:
    """The test's environment without HYPERFLEET_*, the venv's `hyperfleet` first on PATH."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    out["PATH"] = f"{BIN}{os.pathsep}{out.get('PATH', '')}"
    return out | extra


def run_sh(name: str, cwd: Path, *, api: str = DOC_API, **extra: str) -> str:
    """Run block `name` with bash -e in `cwd`, the documented API URL replaced by `api`."""
    script = block(name).replace(DOC_API, api)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, (name, done.stdout, done.stderr)
    return done.stdout
