"""Device log history paged backwards across devices in time order, and log export formats."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from ..api.records import LogEntry
from .logbuffer import LogLine

PAGE_SIZE = 100
MAX_EMPTY_PAGES = 20  # pages skipped in one call when new lines shifted the history

FetchPage = Callable[[str, int, int], tuple[list[LogEntry], bool]]


class HistoryPager:
    """Older history on demand for several devices, each chunk older than the one before.

    The API returns each device's history newest first, a page at a time. `older()` fetches
    what it needs and returns a chunk in time order (oldest first) such that everything not yet
    returned is older than the whole chunk, across all devices. Entries a device logged after
    the first page shift later pages: anything not older than what was already returned for
    that device is dropped (a device's timestamps strictly increase, §3.4.8).
    """

    def __init__(self, fetch_page: FetchPage, device_ids: Iterable[str],
                 page_size: int = PAGE_SIZE) -> None:
        self.fetch_page = fetch_page
        self.page_size = page_size
        self.devices = list(dict.fromkeys(device_ids))
        self._pool: dict[str, list[LogEntry]] = {d: [] for d in self.devices}  # newest first
        self._page = dict.fromkeys(self.devices, 1)
        self._more = dict.fromkeys(self.devices, True)
        self._floor: dict[str, str] = {}  # oldest ts returned so far, per device
        self.pages_fetched = 0

    @property
    def more(self) -> bool:
        return any(self._more.values()) or any(self._pool.values())

    def older(self) -> list[LogEntry]:
        """The next chunk, oldest first (blocking: it calls the API)."""
        for device_id in self.devices:
            self._fill(device_id)
        bounds = [self._pool[d][-1].ts for d in self.devices if self._more[d] and self._pool[d]]
        cutoff = max(bounds) if bounds else ""
        chunk: list[LogEntry] = []
        for device_id in self.devices:
            pool = self._pool[device_id]
            keep = [e for e in pool if e.ts < cutoff]
            taken = pool[:len(pool) - len(keep)]
            self._pool[device_id] = keep
            if taken:
                chunk.extend(taken)
                self._floor[device_id] = taken[-1].ts
        chunk.sort(key=lambda e: e.ts)  # stable: one device's own order is kept
        return chunk

    def _fill(self, device_id: str) -> None:
        """Make sure the pool holds entries (older than the floor) unless history is exhausted."""
        empty_pages = 0
        while not self._pool[device_id] and self._more[device_id]:
            entries, more = self.fetch_page(device_id, self._page[device_id], self.page_size)
            self.pages_fetched += 1
            self._page[device_id] += 1
            self._more[device_id] = more
            floor = self._floor.get(device_id)
            fresh = sorted((e for e in entries if floor is None or e.ts < floor),
                           key=lambda e: e.ts, reverse=True)
            self._pool[device_id] = list(dict.fromkeys(fresh))
            if not fresh:
                empty_pages += 1
                if empty_pages >= MAX_EMPTY_PAGES:
                    return


# -- export ------------------------------------------------------------------------------------
FORMATS = {"text": ".log", "csv": ".csv", "jsonl": ".jsonl"}


def display_time(ts: str, utc: bool) -> str:
    """`2026-11-26 10:33:59.538` in local time, or with a trailing Z in UTC."""
    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return ts
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC) if utc else moment.astimezone()
    text = moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    return text + "Z" if utc else text


def text_line(line: LogLine, name: str, utc: bool) -> str:
    """The line as shown and copied: time, device, type, message (continuations indented)."""
    msg = line.msg.replace("\n", "\n    ")
    return f"{display_time(line.ts, utc)}  {name}  {line.type}  {msg}"


def export_lines(path: str | Path, lines: Iterable[LogLine], fmt: str,
                 name_of: Callable[[str], str], utc: bool = False) -> int:
    """Write `lines` as text, CSV or JSON Lines (UTF-8); returns how many were written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(["ts", "device_id", "device_name", "type", "log_type", "msg"])
            for line in lines:
                writer.writerow([line.ts, line.device_id, name_of(line.device_id), line.type,
                                 line.log_type or "", line.msg])
                count += 1
        elif fmt == "jsonl":
            for line in lines:
                out.write(json.dumps({"ts": line.ts, "device_id": line.device_id,
                                      "device_name": name_of(line.device_id),
                                      "type": line.type, "log_type": line.log_type,
                                      "msg": line.msg}, ensure_ascii=False) + "\n")
                count += 1
        else:
            for line in lines:
                out.write(text_line(line, name_of(line.device_id), utc) + "\n")
                count += 1
    return count
