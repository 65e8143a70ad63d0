"""The correlation engine: file validation, outage inference, and stream == batch."""

from __future__ import annotations

import random

import pytest

from rules.correlation import (
    CORRELATION_DIR,
    Conclusion,
    Event,
    Network,
    StreamCorrelator,
    batch,
    load_file,
    load_text,
)

CS = load_file(CORRELATION_DIR / "outages.yaml").correlation_set
assert CS is not None
# Feeder F1: DT1 (meters 1-4), DT2 (meters 5-8), DT3 (meters 9-18): 18 meters.
NET = Network({"DT1": 4, "DT2": 4, "DT3": 10}, {"F1": 18})
DT_OF = {m: "DT1" if m <= 4 else "DT2" if m <= 8 else "DT3" for m in range(1, 19)}


def ev(meter: int, code: int, at: int) -> Event:
    return Event(meter, code, at, DT_OF[meter], "F1")


def stream(events: list[Event]) -> StreamCorrelator:
    s = StreamCorrelator(CS, NET)
    for e in events:
        s.post(e)
    s.advance()
    assert s.errors == []
    return s


def test_the_shipped_file_validates() -> None:
    assert [r.id for r in CS.rules] == ["OUT-FEEDER", "OUT-DT", "OUT-SERVICE"]
    assert CS.kind_of(101) == "fail" and CS.kind_of(102) == "restore"


GOOD = """correlation_set: t
event_kinds:
  fail: [101]
  restore: [102]
rules:
  - id: R1
    name: x
    type: group_burst
    parameters: {group: dt, fail: fail, restore: restore, window_s: 60, min_share_pct: 50, min_meters: 2}
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("group: dt", "group: zone", "t.yaml:9: rules[0].parameters.group: must be one of dt, feeder"),
        ("window_s: 60", "window_s: 0", "t.yaml:9: rules[0].parameters.window_s: must be at least 1"),
        (
            "window_s: 60",
            "window_s: '60'",
            "t.yaml:9: rules[0].parameters.window_s: must be an integer, got '60'",
        ),
        (
            "min_share_pct: 50",
            "min_share_pct: 150",
            "t.yaml:9: rules[0].parameters.min_share_pct: must be at most 100",
        ),
        ("fail: fail,", "fail: gasp,", "t.yaml:9: rules[0].parameters.fail: unknown event kind 'gasp'"),
        (", min_meters: 2", "", "t.yaml:9: rules[0].parameters: missing parameter 'min_meters'"),
        (
            "min_meters: 2}",
            "min_meters: 2, extra: 1}",
            "t.yaml:9: rules[0].parameters.extra: unknown parameter",
        ),
        ("type: group_burst", "type: magic", "t.yaml:8: rules[0].type: 'magic' is not one of"),
        (
            "restore: [102]",
            "restore: [101]",
            "t.yaml:4: event_kinds.restore: code 101 is already kind 'fail'",
        ),
        ("rules:", "rules: [", "t.yaml:"),
    ],
)
def test_a_bad_file_is_refused_with_file_line_and_reason(old: str, new: str, message: str) -> None:
    assert load_text(GOOD, "t.yaml").ok
    result = load_text(GOOD.replace(old, new), "t.yaml")
    assert not result.ok and result.correlation_set is None
    assert any(str(e).startswith(message) for e in result.errors), [str(e) for e in result.errors]


def test_a_dt_outage_is_inferred_from_a_burst_and_closed_by_restorations() -> None:
    events = [ev(1, 101, 1000), ev(2, 101, 1010), ev(3, 101, 1030)]
    s = StreamCorrelator(CS, NET)
    for e in events:
        s.post(e)
    opened, closed = s.advance()
    assert opened == [Conclusion("OUT-DT", "dt", "DT1", 1000, None, (1, 2, 3))] and closed == []
    for e in [ev(1, 102, 4600), ev(2, 102, 4601), ev(3, 102, 4605)]:
        s.post(e)
    opened, closed = s.advance()
    # Supply is back when fewer than min_meters (3) members are off: at the first restoration.
    assert closed == [Conclusion("OUT-DT", "dt", "DT1", 1000, 4600, (1, 2, 3))]
    assert closed[0].ended_at - closed[0].started_at == 3600  # type: ignore[operator]


def test_too_few_meters_or_too_wide_a_window_is_not_a_dt_outage() -> None:
    # Two of four on DT1 is 50 % but below min_meters 3; the third comes after the window.
    events = [ev(1, 101, 0), ev(2, 101, 10), ev(3, 101, 500)]
    got = batch(CS, events, NET)
    assert {c.rule for c in got} == {"OUT-SERVICE"} and len(got) == 3


def test_an_isolated_meter_with_neighbours_on_supply_is_a_service_issue() -> None:
    got = batch(CS, [ev(10, 101, 100), ev(10, 102, 2000)], NET)
    assert got == [Conclusion("OUT-SERVICE", "meter", "10", 100, 2000, (10,))]
    # A blip shorter than the grace (300 s) is nothing.
    assert batch(CS, [ev(10, 101, 100), ev(10, 102, 350)], NET) == []


def test_a_feeder_outage_takes_its_dts_meters() -> None:
    events = [ev(m, 101, 100 + m) for m in range(1, 15)] + [ev(m, 102, 900) for m in range(1, 15)]
    got = batch(CS, events, NET)
    assert [(c.rule, c.key, c.started_at, c.ended_at, len(c.meters)) for c in got] == [
        ("OUT-FEEDER", "F1", 101, 900, 14)
    ]


def test_duplicate_and_late_events_change_nothing() -> None:
    events = [
        ev(1, 101, 1000),
        ev(2, 101, 1010),
        ev(3, 101, 1030),
        ev(1, 102, 2000),
        ev(2, 102, 2000),
        ev(3, 102, 2000),
    ]
    expected = batch(CS, events, NET)
    shuffled = events + events[:3]  # re-sent
    random.Random(7).shuffle(shuffled)
    assert batch(CS, shuffled, NET) == expected
    s = stream(shuffled)
    assert s.conclusions() == expected
    # A late fail (arrives after the restorations were processed) joins the same outage.
    late = ev(4, 101, 1040)
    s.post(late)
    s.advance()
    assert s.conclusions() == batch(CS, [*events, late], NET)
    assert s.conclusions()[0].meters == (1, 2, 3, 4)


def test_the_stream_reproduces_the_batch_pass_on_a_storm() -> None:
    rng = random.Random(3)
    dts = {f"DT{i}": 10 for i in range(50)}
    net = Network(dts, {f"F{i}": 100 for i in range(5)})
    events = []
    for i in range(500):
        dt, feeder = f"DT{i // 10}", f"F{i // 100}"
        if (i // 10) % 3 == 0 or rng.random() < 0.05:  # every third DT goes down, plus strays
            off = 10_000 + (i // 10) * 1000 + rng.randrange(60)
            events.append(Event(i, 101, off, dt, feeder))
            events.append(Event(i, 102, off + 3600 + rng.randrange(60), dt, feeder))
    rng.shuffle(events)
    s = StreamCorrelator(CS, net)
    for n, e in enumerate(events):
        s.post(e)
        if n % 97 == 0:
            s.advance()
    s.advance()
    truth = batch(CS, events, net)
    assert s.errors == [] and s.posted == len(events)
    assert s.conclusions() == truth
    assert sum(c.rule == "OUT-DT" for c in truth) == 17


def test_a_sequence_rule_pairs_first_then_on_one_meter() -> None:
    text = """correlation_set: seq
event_kinds: {tamper: [201], drop: [900]}
rules:
  - {id: TAMPER-DROP, name: t, type: sequence, parameters: {first: tamper, then: drop, within_s: 100}}
"""
    cs = load_text(text, "s.yaml").correlation_set
    assert cs is not None
    events = [Event(1, 201, 0), Event(1, 900, 50), Event(2, 201, 0), Event(2, 900, 500)]
    assert batch(cs, events, NET) == [Conclusion("TAMPER-DROP", "meter", "1", 0, 50, (1,))]
    s = StreamCorrelator(cs, NET)
    for e in events:
        s.post(e)
    s.advance()
    assert s.conclusions() == batch(cs, events, NET)
