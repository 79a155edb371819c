"""Time the emulator's Squirrel compile check on ~1 MB of plausible code and print JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from impdesk.emulator.squirrel import check_source

TARGET_BYTES = 1_000_000

#: One block of bracket-dense device code with every construct the checker skips.
BLOCK = """\
// Reads the sensor (and logs it) every [n] seconds
# a hash comment with brackets ) ] }
/* a block comment
   spanning lines, with ( [ { inside */
const INTERVAL = 5;
local names = ["temp", "humidity", "pressure"];
local table = { "a": 1, "b": [2, 3, { "c": (4 + 5) * 6 }] };
function readSensor(i) {
    local text = "value (" + i + ") is \\"ok\\" [" + names[i % 3] + "]";
    local raw = @"verbatim ""string""
with ( a line end ]";
    local ch = 'x', quote = '"', nl = '\\n';
    if ((i & 0x01) == 0 && table["b"][1] > 2) {
        server.log(format("%s: %d", text, math.rand() % 100));
    } else {
        agent.send("reading", { "id": i, "values": [i, i * 2, i * 3] });
    }
    return (i + 1) % 1000;
}
imp.wakeup(INTERVAL, function() { readSensor(0); });
"""


def sample(target_bytes: int = TARGET_BYTES) -> str:
    """Return error-free code of at least `target_bytes` UTF-8 bytes."""
    repeats = target_bytes // len(BLOCK.encode()) + 1
    return BLOCK * repeats


def best_of(code: str, runs: int = 5) -> float:
    """Return the fastest of `runs` timings of `check_source(code)`, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        check_source(code)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Print `{"bytes", "seconds"}` for clean code, plus the time when the only error is last."""
    code = sample()
    assert check_source(code) is None, check_source(code)
    broken = code + "}"  # worst case: the error is found only by the locating scan, at the end
    assert check_source(broken) is not None
    result = {
        "bytes": len(code.encode()),
        "seconds": round(best_of(code), 6),
        "seconds_error_at_end": round(best_of(broken), 6),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
