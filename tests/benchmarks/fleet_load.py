"""Benchmark: fetch_snapshot() of fleet:10000 at 100 ms latency and 40 requests/s (JSON out).

Compares the concurrent, limiter-paced load with the theoretical bound (list pages of
products, groups and devices ÷ rate limit) and with a sequential page-by-page reading, which is
what the official clients do. Run: python tests/benchmarks/fleet_load.py [--devices N]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from impdesk.api import Client
from impdesk.emulator import EmulatorServer

RATE_LIMIT = 40
LATENCY_MS = 100


def count_429(control_url: str, since: int) -> tuple[int, int]:
    """(number of 429 answers, last seq) in the emulator's request log after `since`."""
    log = requests.get(f"{control_url}/requests", params={"since": since}, timeout=30).json()
    entries = log["requests"]
    return sum(1 for e in entries if e["status"] == 429), max([since] + [e["seq"] for e in entries])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    args = parser.parse_args()

    with EmulatorServer(seed="fleet", devices=args.devices, rate_limit=RATE_LIMIT,
                        latency_ms=LATENCY_MS, simulation=False) as server:
        client = Client(server.base_url)
        client.login("demo", "impdesk-demo")
        _, seq = count_429(server.control_url, 0)
        time.sleep(1.1)  # start with a fresh rate-limit window

        before = dict(client.stats)
        started = time.perf_counter()
        snap = client.fetch_snapshot()
        concurrent_s = time.perf_counter() - started
        requests_made = client.stats["requests"] - before["requests"]
        rejected, seq = count_429(server.control_url, seq)

        pages = {name: math.ceil(max(1, n) / 100) for name, n in (
            ("products", len(snap.products)), ("device_groups", len(snap.device_groups)),
            ("devices", len(snap.devices)))}
        bound_s = sum(pages.values()) / RATE_LIMIT

        time.sleep(1.1)
        sequential = Client(server.base_url)
        sequential.login("demo", "impdesk-demo")
        time.sleep(1.1)
        started = time.perf_counter()
        for path in ("/products", "/devicegroups", "/devices", "/accounts"):
            for _ in sequential.iter_pages(path):
                pass
        sequential_s = time.perf_counter() - started
        seq_rejected, seq = count_429(server.control_url, seq)

    print(json.dumps({
        "devices": len(snap.devices),
        "device_groups": len(snap.device_groups),
        "products": len(snap.products),
        "snapshot_s": round(concurrent_s, 3),
        "requests": requests_made,
        "http_429": rejected,
        "list_pages": pages,
        "bound_s": round(bound_s, 3),
        "ratio_to_bound": round(concurrent_s / bound_s, 3),
        "sequential_s": round(sequential_s, 3),
        "sequential_http_429": seq_rejected,
        "ratio_to_sequential": round(concurrent_s / sequential_s, 3),
        "latency_ms": LATENCY_MS,
        "rate_limit_per_s": RATE_LIMIT,
        "targets": {"ratio_to_bound": "<= 1.2", "ratio_to_sequential": "<= 0.333",
                    "http_429": 0},
    }, indent=2))


if __name__ == "__main__":
    main()
