"""`hyperfleet serve` runs without rich (cli/lean.py); every other command keeps it."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
sys.argv = ["hyperfleet", *sys.argv[1:]]
from hyperfleet.cli.entry import main
try:
    main()
except SystemExit:
    pass
loaded = sorted({m.split(".")[0] for m in sys.modules if sys.modules[m] is not None})
print("RICH-LOADED" if "rich" in loaded else "RICH-ABSENT")
"""

# What a CEL-configured kind does in `serve`: `cel` imports rich unconditionally.
_CEL_AFTER_SERVE = """
import sys
sys.argv = ["hyperfleet", "serve", "--help"]
from hyperfleet.cli.entry import main
try:
    main()
except SystemExit:
    pass
import cel
print("CEL-IMPORTED")
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_serve_help_is_plain_and_loads_no_rich() -> None:
    done = _run("serve", "--help")
    assert "Run the API" in done.stdout
    assert "--config" in done.stdout
    assert done.stdout.strip().endswith("RICH-ABSENT")


def test_a_bad_serve_option_is_a_plain_usage_error() -> None:
    done = _run("serve", "--bogus")
    assert "No such option: --bogus" in done.stderr
    assert done.stdout.strip().endswith("RICH-ABSENT")


def test_the_client_commands_keep_rich() -> None:
    done = _run("cluster", "--help")
    assert "Clusters" in done.stdout
    assert done.stdout.strip().endswith("RICH-LOADED")


def test_rich_stays_importable_for_cel_in_a_serve_process() -> None:
    """Regression: hiding rich for good broke `serve` with CEL conditions configured."""
    done = subprocess.run(  # our own interpreter and probe
        [sys.executable, "-c", _CEL_AFTER_SERVE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip().endswith("CEL-IMPORTED"), done.stderr
