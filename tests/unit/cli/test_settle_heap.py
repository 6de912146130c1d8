"""`hyperfleet serve` settles the heap once start-up is done (cli/common.py)."""

from __future__ import annotations

import gc

from hyperfleet.cli.common import GC_GEN0_THRESHOLD, settle_heap


def test_settle_heap_freezes_what_exists_and_raises_the_young_threshold():
    threshold = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_GEN0_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
