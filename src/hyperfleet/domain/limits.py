"""Integer bounds of the stored columns and JSON consumers, shared by every input check.

A leaf module: validation, reports and search all import it, so none of them needs another.
"""

from __future__ import annotations

from typing import Final

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
