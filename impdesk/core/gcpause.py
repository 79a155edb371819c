"""No full cyclic-GC passes while a bulk load runs; the loaded records are frozen afterwards.

CPython 3.11 collects its oldest generation in one go. While 10,000 devices load, the records
(about three tracked objects per device) trigger several of those passes, each one scanning
every object of the process for 30–60 ms with the GIL held: the UI thread stalls for that long.
During a load the collector is off (a load makes next to no cyclic garbage: ~200 objects for
10,000 devices); at the end every surviving object is frozen (`gc.freeze()`, O(1)), so later
passes do not scan the account tree again. `release()` hands frozen objects back to the
collector once the tree they belong to is dropped (sign-out, window closed).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = True


@contextmanager
def bulk_load() -> Iterator[None]:
    """Collector off for the block (nests: the outermost block restores it), freeze at exit."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.freeze()
                if _was_enabled:
                    gc.enable()


def release() -> None:
    """Let the collector see the frozen objects again (the next full pass frees dropped trees)."""
    gc.unfreeze()
