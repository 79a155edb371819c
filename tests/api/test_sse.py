"""SseParser: the full SSE line rules (§3.6.7) whatever the chunking of the byte stream."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impdesk.api.logstreams import parse_stream_event
from impdesk.api.records import LogEntry
from impdesk.api.sse import COMMENT, SseEvent, SseParser


def parse(chunks: list[bytes]) -> list[SseEvent]:
    parser = SseParser()
    out: list[SseEvent] = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    return out


def test_basic_event_and_defaults():
    events = parse([b"event: state_change\ndata: opened\n\ndata: x\n\n"])
    assert events == [SseEvent("state_change", "opened"), SseEvent("message", "x")]


def test_crlf_cr_lf_line_ends_are_equivalent():
    for end in (b"\n", b"\r", b"\r\n"):
        stream = end.join([b"event: message", b"data: a", b"data: b", b"", b""])
        assert parse([stream]) == [SseEvent("message", "a\nb")], end


def test_multi_line_data_is_joined_with_lf():
    events = parse([b"data: line one\ndata: line two\ndata:\ndata: four\n\n"])
    assert events == [SseEvent("message", "line one\nline two\n\nfour")]


def test_optional_space_after_colon_only_one_stripped():
    events = parse([b"data:x\n\ndata:  y\n\n"])
    assert [e.data for e in events] == ["x", " y"]


def test_comment_is_reported_not_dispatched_as_event():
    events = parse([b": keep-alive\n\n", b"data: after\n\n"])
    assert events == [SseEvent(COMMENT, "keep-alive"), SseEvent("message", "after")]


def test_id_and_retry_fields_persist_across_events():
    events = parse([b"id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"])
    assert [(e.data, e.id, e.retry_ms) for e in events] == [
        ("a", "7", 1500), ("b", "7", 1500), ("c", "", 1500)]


def test_bad_retry_and_id_with_nul_are_ignored():
    events = parse([b"retry: 12a\nid: x\x00y\ndata: a\n\n"])
    assert events == [SseEvent("message", "a", None, None)]


def test_event_without_data_is_not_dispatched_and_resets_name():
    events = parse([b"event: state_change\n\ndata: x\n\n"])
    assert events == [SseEvent("message", "x")]


def test_unknown_fields_and_field_without_colon():
    events = parse([b"foo: bar\ndata\n\n"])
    assert events == [SseEvent("message", "")]


def test_incomplete_event_at_end_is_not_dispatched():
    assert parse([b"data: half"]) == []
    assert parse([b"data: half\n"]) == []


def test_crlf_split_across_chunks_is_one_line_end():
    assert parse([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [SseEvent("message", "a\nb")]


def test_pending_cr_survives_an_empty_chunk():
    """A CR at a chunk's end, then an empty chunk, then LF: still one CRLF (client fix)."""
    assert parse([b"data: a\r", b"", b"\n\r\n"]) == [SseEvent("message", "a")]


def test_leading_bom_is_dropped():
    """A UTF-8 BOM at the very start is not part of the first field name (client fix)."""
    assert parse([b"\xef\xbb", b"\xbfevent: x\ndata: 1\n\n"]) == [SseEvent("x", "1")]


def test_utf8_split_inside_a_character():
    raw = "data: Grüße ✓\n\n".encode()
    for cut in range(1, len(raw)):
        assert parse([raw[:cut], raw[cut:]]) == [SseEvent("message", "Grüße ✓")]


def test_invalid_utf8_is_replaced_not_fatal():
    assert parse([b"data: \xff\n\n"]) == [SseEvent("message", "\ufffd")]


# -- property: any chunking of one byte stream gives the same events ----------------------
_value = st.text(alphabet=st.characters(blacklist_characters="\r\n\x00",
                                        blacklist_categories=("Cs",)), max_size=12)
_END = st.sampled_from(["\n", "\r", "\r\n"])


@st.composite
def sse_streams(draw) -> tuple[bytes, list[SseEvent]]:
    """A stream of events with random line ends plus the events a correct parser yields."""
    lines: list[tuple[str, str]] = []  # (line, its terminator)
    expected: list[SseEvent] = []
    last_id: str | None = None
    retry: int | None = None
    for _ in range(draw(st.integers(0, 6))):
        name = ""
        data: list[str] = []
        for _ in range(draw(st.integers(0, 5))):
            kind = draw(st.sampled_from(["data", "data", "event", "comment", "id", "retry",
                                         "nospace"]))
            value = draw(_value)
            if kind == "data":
                data.append(value)
                lines.append((f"data: {value}", draw(_END)))
            elif kind == "nospace":  # `data:value`: only one leading space is dropped
                data.append(value[1:] if value.startswith(" ") else value)
                lines.append((f"data:{value}", draw(_END)))
            elif kind == "event":
                name = value
                lines.append((f"event: {value}", draw(_END)))
            elif kind == "comment":
                lines.append((f": {value}", draw(_END)))
            elif kind == "id":
                last_id = value
                lines.append((f"id: {value}", draw(_END)))
            else:
                retry = draw(st.integers(0, 10**6))
                lines.append((f"retry: {retry}", draw(_END)))
        # the blank line that dispatches; after a lone CR it must not be a bare LF (else the
        # two would form one CRLF line end, which is the same bytes as a single line end)
        end = draw(_END)
        if lines and lines[-1][1] == "\r" and end.startswith("\n"):
            end = "\r"
        lines.append(("", end))
        if data:
            expected.append(SseEvent(name or "message", "\n".join(data), last_id, retry))
    return "".join(line + end for line, end in lines).encode("utf-8"), expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sse_streams(), st.data())
def test_any_chunking_gives_identical_events(stream, data):
    raw, expected = stream
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=12)))
    chunks = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    whole = [e for e in parse([raw]) if e.event != COMMENT]
    chunked = [e for e in parse(chunks) if e.event != COMMENT]
    bytewise = [e for e in parse([raw[i:i + 1] for i in range(len(raw))]) if e.event != COMMENT]
    assert whole == expected
    assert chunked == expected
    assert bytewise == expected


# -- stream event decoding (§3.6.6) ----------------------------------------------------------
def test_parse_json_message_and_states():
    msg = SseEvent("message", '{"device_id":"234776801163a9ee","ts":"2026-11-26T10:36:05.603Z",'
                              '"log_type":"development","type":"server.log","msg":"a\\nb"}')
    kind, entry = parse_stream_event(msg)
    assert kind == "message"
    assert entry == LogEntry("234776801163a9ee", "2026-11-26T10:36:05.603Z", "device.log", "a\nb",
                             "development")
    assert parse_stream_event(SseEvent("state_change", '{"state":"opened"}')) == (
        "state", ("opened", None))
    assert parse_stream_event(SseEvent(
        "state_change", '{"state":"subscribed","device_id":"234776801163a9ee"}')) == (
        "state", ("subscribed", "234776801163a9ee"))


def test_parse_text_message_and_states_both_word_orders():
    kind, entry = parse_stream_event(SseEvent(
        "message", "234776801163a9ee 2026-11-26T10:36:05.604Z development device.log line one\n"
                   "line two"))
    assert kind == "message" and entry.msg == "line one\nline two" and entry.type == "device.log"
    kind, entry = parse_stream_event(SseEvent(
        "message", "234776801163a9ee 2026-11-26T10:36:05.604Z development status "))
    assert entry.msg == "" and entry.type == "status"
    for text in ("234776801163A9EE subscribed", "subscribed 234776801163a9ee"):
        assert parse_stream_event(SseEvent("state_change", text)) == (
            "state", ("subscribed", "234776801163a9ee"))
    assert parse_stream_event(SseEvent("state_change", "closed")) == ("state", ("closed", None))
