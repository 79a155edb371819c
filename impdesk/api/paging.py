"""Paginated lists (§5): every page of a list, concurrently when `links.last` allows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from .errors import ResponseParseError
from .records import Resource, record_from_json

PAGE_SIZE = 100
MAX_PAGES = 100_000  # a safety stop for a server whose `next` never ends
ProgressFn = Callable[[str, int, int | None, int], None]  # (list name, pages done, total, items)


class PagingMixin:
    """`list`, `list_raw` and `iter_pages`: whole lists as records, raw objects or pages."""

    def list(self: Any, path: str, filters: dict[str, str] | None = None, *,
             name: str | None = None, progress: ProgressFn | None = None, concurrent: bool = True,
             on_items: Callable[[list[Resource]], None] | None = None) -> list[Resource]:
        """Every item of a paginated list as typed records (de-duplicated by id, last wins)."""
        relay = None
        parsed: dict[int, tuple[dict, Resource]] = {}  # id(raw object) → the record made of it
        if on_items is not None:
            def relay(objs: list[dict]) -> None:
                records = []
                for obj in objs:
                    if isinstance(obj, dict):
                        record = record_from_json(obj)
                        parsed[id(obj)] = (obj, record)  # the raw object stays alive: id safe
                        records.append(record)
                on_items(records)
        # Each object is parsed once: the records handed to on_items are the ones returned.
        out = []
        for obj in self.list_raw(path, filters, name=name, progress=progress,
                                 concurrent=concurrent, on_items=relay):
            hit = parsed.get(id(obj))
            out.append(hit[1] if hit is not None and hit[0] is obj else record_from_json(obj))
        return out

    def list_raw(self: Any, path: str, filters: dict[str, str] | None = None, *,
                 name: str | None = None, progress: ProgressFn | None = None,
                 concurrent: bool = True,
                 on_items: Callable[[list[dict]], None] | None = None) -> list[dict]:
        """Every raw resource object of a list, following the stop rules of §5.3.

        `on_items(page items)` sees each page's objects as they arrive (for progressive views).
        """
        items: dict[str, dict] = {}
        anonymous: list[dict] = []  # history entries have no id
        label = name or path.strip("/")
        pages_done = 0

        def take(doc: dict) -> int:
            data = doc.get("data")
            if not isinstance(data, list):
                raise ResponseParseError(200, message=f"The {label} list had no data array.")
            for obj in data:
                if isinstance(obj, dict) and obj.get("id") is not None:
                    items.pop(str(obj["id"]), None)
                    items[str(obj["id"])] = obj
                else:
                    anonymous.append(obj)
            if on_items is not None and data:
                on_items(data)
            return len(data)

        params = [(f"filter[{k}]", v) for k, v in sorted((filters or {}).items())]
        params += [("page[number]", "1"), ("page[size]", str(PAGE_SIZE))]
        first_url = self.base_url + path + "?" + urlencode(params, safe="[],:")
        doc = self.request("GET", first_url)
        pages_done = 1
        total = _page_count(doc)
        take(doc)
        if progress:
            progress(label, pages_done, total, len(items) + len(anonymous))
        seen = {first_url}
        next_url = _next_link(doc, first_url)
        if concurrent and total and total > 1 and next_url:
            urls = [_with_page(next_url, n) for n in range(2, total + 1)]
            workers = max(1, min(self.page_workers, len(urls)))
            with ThreadPoolExecutor(max_workers=workers,
                                    thread_name_prefix="impdesk-page") as pool:
                # map() yields in page order as pages complete: progress stays live.
                for url, page in zip(urls, pool.map(lambda u: self.request("GET", u), urls),
                                     strict=True):
                    seen.add(url)
                    pages_done += 1
                    take(page)
                    doc = page
                    if progress:
                        progress(label, pages_done, total, len(items) + len(anonymous))
            next_url = _next_link(doc, urls[-1])
            if next_url and next_url in seen:
                next_url = None
        # Sequential following: the only way without `last`, and to catch growth meanwhile.
        while next_url and pages_done < MAX_PAGES:
            doc = self.request("GET", next_url)
            seen.add(next_url)
            pages_done += 1
            count = take(doc)
            if progress:
                progress(label, pages_done, _page_count(doc), len(items) + len(anonymous))
            candidate = _next_link(doc, next_url)
            if count == 0 or not candidate or candidate in seen:
                break
            next_url = candidate
        return list(items.values()) + anonymous

    def iter_pages(self: Any, path: str, params: dict | None = None) -> Iterator[dict]:
        """Page documents one by one, strictly sequentially (what the official clients do)."""
        query = dict(params or {})
        query.setdefault("page[size]", str(PAGE_SIZE))
        url = self.base_url + path + "?" + urlencode(sorted(query.items()), safe="[],:")
        seen: set[str] = set()
        while url and url not in seen and len(seen) < MAX_PAGES:
            seen.add(url)
            doc = self.request("GET", url)
            yield doc
            if not doc.get("data"):
                return
            url = _next_link(doc, url)


def _page_count(doc: dict) -> int | None:
    """Pages announced by `links.last` (its page[number]), if any."""
    last = (doc.get("links") or {}).get("last") if isinstance(doc, dict) else None
    if not isinstance(last, str):
        return None
    for key, value in parse_qsl(urlsplit(last).query):
        if key == "page[number]" and value.isdigit():
            return int(value)
    return None


def _next_link(doc: dict, current: str) -> str | None:
    nxt = (doc.get("links") or {}).get("next") if isinstance(doc, dict) else None
    if not isinstance(nxt, str) or not nxt:
        return None
    nxt = urljoin(current, nxt)  # relative links resolve against the request (§7.1 #7)
    return None if nxt == current else nxt


def _with_page(url: str, number: int) -> str:
    parts = urlsplit(url)
    query = [(k, str(number) if k == "page[number]" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="[],:")))
