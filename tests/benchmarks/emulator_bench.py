"""Benchmark: fleet:10000 build time and server time of GET /devices?page[size]=100 (JSON out).

`fleet_10000_build_s` is the best of a few in-process resets to fleet:10000; the page time is
the median `duration_ms` the emulator's request log records for pages of 100 devices spread
over the whole list (read, route, auth, filter, render, write — no client-side time).
Run: python tests/benchmarks/emulator_bench.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from impdesk.emulator import EmulatorServer
from impdesk.emulator.service import Emulator

TARGETS = {"page_100_devices_ms": 5.0, "fleet_10000_build_s": 3.0}


def build_time(runs: int = 3) -> float:
    """Best wall time of resetting an emulator to fleet:10000."""
    emulator = Emulator(seed="empty", control=False)
    try:
        best = float("inf")
        for _ in range(runs):
            started = time.perf_counter()
            emulator.reset("fleet:10000")
            best = min(best, time.perf_counter() - started)
        assert emulator.counts()["devices"] == 10_000
        return best
    finally:
        emulator.stop()


def page_time(rounds: int) -> float:
    """Median server time (ms) of GET /devices?page[size]=100 on fleet:10000."""
    with EmulatorServer(seed="fleet:10000", rate_limit=0, simulation=False) as server:
        http = requests.Session()
        token = http.post(server.base_url + "/auth",
                          json={"id": "demo", "password": "impdesk-demo"},
                          timeout=30).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        http.get(server.base_url + "/devices", params={"page[size]": 100}, headers=headers,
                 timeout=30)  # warm the list cache like a client's first read would
        http.delete(server.control_url + "/requests", timeout=30)
        for i in range(rounds):
            page = 1 + (i * 37) % 100  # pages spread over the whole list of 10,000 devices
            resp = http.get(server.base_url + "/devices",
                            params={"page[size]": 100, "page[number]": page},
                            headers=headers, timeout=30)
            assert resp.status_code == 200 and len(resp.json()["data"]) == 100, resp.text[:200]
        log = http.get(server.control_url + "/requests", timeout=30).json()["requests"]
        durations = [e["duration_ms"] for e in log
                     if e["path"] == "/v5/devices" and e["status"] == 200]
        assert len(durations) == rounds
        return statistics.median(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    result = {
        "page_100_devices_ms": round(page_time(args.rounds), 3),
        "fleet_10000_build_s": round(build_time(), 3),
    }
    result["targets"] = {
        "page_100_devices_ms": f"< {TARGETS['page_100_devices_ms']:g}",
        "fleet_10000_build_s": f"< {TARGETS['fleet_10000_build_s']:g}",
    }
    result["met"] = all(result[k] < v for k, v in TARGETS.items())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
