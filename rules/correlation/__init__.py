"""Event correlation: meter events -> conclusions (feeder/DT outages, service issues, sequences).

A correlation file (`rules/correlation/*.yaml`, schema `schema.json`) names event kinds (sets of
IS 15959 codes) and rules. `load_text` validates it like the VEE files (`file:line: reason`).

Two ways to run the same rules, both ending in `conclude`, the one definition of what the rules
mean:

* `StreamCorrelator` feeds events one by one through durable_rules rule sets built from the file
  (one ruleset per rule, so the "an event is consumed by the first matching rule" behaviour never
  hides an event from another rule); the actions keep each group's events, and `advance(now)`
  re-evaluates only the groups that changed and returns what opened and closed since last time.
* `batch(...)` runs `conclude` over events read back from the store. It is the truth: durable_rules
  may drop an event (LIBRARY-NOTES), so the service reconciles the stream against it.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rules.loader import RuleFileError, _line_of, _where, check_rule_list, parse_checked, schema_validator

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"
CORRELATION_DIR = Path(__file__).resolve().parent

# parameter name -> (python type, minimum); every parameter of a type is required.
RULE_PARAMS: dict[str, dict[str, tuple[type, float | None]]] = {
    "group_burst": {
        "group": (str, None),
        "fail": (str, None),
        "restore": (str, None),
        "window_s": (int, 1),
        "min_share_pct": (int, 1),
        "min_meters": (int, 1),
    },
    "isolated": {"fail": (str, None), "restore": (str, None), "grace_s": (int, 0)},
    "sequence": {"first": (str, None), "then": (str, None), "within_s": (int, 1)},
}
GROUPS = ("dt", "feeder")


@dataclass(frozen=True)
class CorrelationRule:
    id: str
    name: str
    type: str
    parameters: dict[str, Any]
    line: int = 0


@dataclass(frozen=True)
class CorrelationSet:
    name: str
    file: str
    kinds: dict[int, str]  # IS 15959 code -> kind
    rules: tuple[CorrelationRule, ...]

    def kind_of(self, code: int) -> str | None:
        return self.kinds.get(code)


@dataclass
class CorrelationLoad:
    correlation_set: CorrelationSet | None
    errors: list[RuleFileError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.correlation_set is not None


def load_text(text: str, file: str) -> CorrelationLoad:
    """Parse and validate one correlation file; every problem as `file:line: reason`."""
    root, data, errors = parse_checked(text, file, schema_validator(SCHEMA_PATH))
    if errors:
        return CorrelationLoad(None, errors)
    kinds: dict[int, str] = {}
    for kind, codes in data["event_kinds"].items():
        for code in codes:
            if code in kinds:
                errors.append(
                    RuleFileError(
                        file,
                        _line_of(root, ["event_kinds", kind]),
                        f"event_kinds.{kind}: code {code} is already kind {kinds[code]!r}",
                    )
                )
            kinds[code] = kind
    event_kinds = data["event_kinds"]

    def check(name: str, spec: tuple[type, float | None], value: Any) -> str | None:
        kind_type, minimum = spec
        if kind_type is int and (isinstance(value, bool) or not isinstance(value, int)):
            return f"must be an integer, got {value!r}"
        if kind_type is int and minimum is not None and value < minimum:
            return f"must be at least {minimum:g}"
        if kind_type is str and not isinstance(value, str):
            return f"must be a string, got {value!r}"
        if name == "group" and value not in GROUPS:
            return f"must be one of {', '.join(GROUPS)}"
        if name in ("fail", "restore", "first", "then") and value not in event_kinds:
            return f"unknown event kind {value!r}"
        return None

    def share_at_most_100(raw: dict[str, Any], path: list[Any]) -> list[RuleFileError]:
        if raw["type"] == "group_burst" and raw["parameters"].get("min_share_pct", 1) > 100:
            at = _line_of(root, [*path, "parameters", "min_share_pct"])
            return [RuleFileError(file, at, f"{_where(path)}.parameters.min_share_pct: must be at most 100")]
        return []

    errors += check_rule_list(root, file, data["rules"], RULE_PARAMS, check, share_at_most_100)
    rules_out = [
        CorrelationRule(
            raw["id"], raw["name"], raw["type"], dict(raw["parameters"]), _line_of(root, ["rules", i])
        )
        for i, raw in enumerate(data["rules"])
    ]
    if errors:
        return CorrelationLoad(None, errors)
    return CorrelationLoad(CorrelationSet(data["correlation_set"], file, kinds, tuple(rules_out)))


def load_file(path: Path) -> CorrelationLoad:
    return load_text(path.read_text(), path.name)


@dataclass(frozen=True)
class Event:
    """One stored meter event: `at` is UTC epoch seconds; `dt`/`feeder` as of that time."""

    meter: int
    code: int
    at: int
    dt: str | None = None
    feeder: str | None = None


@dataclass(frozen=True)
class Network:
    """How many meters each DT and feeder serves (the denominator of a share)."""

    dt_meters: dict[str, int]
    feeder_meters: dict[str, int]

    def size(self, group: str, key: str) -> int:
        return (self.dt_meters if group == "dt" else self.feeder_meters).get(key, 0)


@dataclass(frozen=True)
class Conclusion:
    """What a rule concluded. Identity: (rule, scope, key, started_at)."""

    rule: str
    scope: str  # feeder | dt | meter
    key: str  # feeder code, DT code or meter id
    started_at: int
    ended_at: int | None  # None while it lasts
    meters: tuple[int, ...]

    @property
    def identity(self) -> tuple[str, str, str, int]:
        return (self.rule, self.scope, self.key, self.started_at)


def _off_spells(
    events: Iterable[Event], fail: set[int], restore: set[int]
) -> dict[int, list[list[int | None]]]:
    """Per meter, [off_at, on_at|None] spells in time order; duplicates and stray restores ignored."""
    spells: dict[int, list[list[int | None]]] = defaultdict(list)
    for ev in sorted(events, key=lambda e: (e.meter, e.at, e.code in restore)):
        mine = spells[ev.meter]
        is_off = bool(mine) and mine[-1][1] is None
        if ev.code in fail and not is_off:
            mine.append([ev.at, None])
        elif ev.code in restore and is_off:
            mine[-1][1] = ev.at
    return spells


def _codes(cs: CorrelationSet, kind: str) -> set[int]:
    return {code for code, k in cs.kinds.items() if k == kind}


def conclude(cs: CorrelationSet, events: Sequence[Event], network: Network) -> list[Conclusion]:
    """Everything the rules conclude from these events (any order; duplicates are harmless)."""
    out: list[Conclusion] = []
    covered: dict[int, list[tuple[int, int | None]]] = defaultdict(list)  # meter -> spans in outages
    where = {}
    for ev in events:
        where[ev.meter] = ev
    spells_of: dict[tuple[str, str], dict[int, list[list[int | None]]]] = {}  # rules share kinds
    for rule in cs.rules:
        p = rule.parameters
        if rule.type in ("group_burst", "isolated"):
            kinds = (p["fail"], p["restore"])
            if kinds not in spells_of:
                spells_of[kinds] = _off_spells(events, _codes(cs, kinds[0]), _codes(cs, kinds[1]))
            spells = spells_of[kinds]
        if rule.type == "group_burst":
            out += _bursts(rule, spells, where, network, covered)
        elif rule.type == "isolated":
            out += _isolated(rule, spells, covered)
        elif rule.type == "sequence":
            out += _sequences(rule, cs, events)
    return sorted(out, key=lambda c: (c.started_at, c.rule, c.key))


def _bursts(
    rule: CorrelationRule,
    spells: dict[int, list[list[int | None]]],
    where: dict[int, Event],
    network: Network,
    covered: dict[int, list[tuple[int, int | None]]],
) -> list[Conclusion]:
    p = rule.parameters
    group, window = p["group"], p["window_s"]
    by_group: dict[str, list[tuple[int, int, int | None]]] = defaultdict(list)  # key -> (off, meter, on)
    for meter, mine in spells.items():
        key = getattr(where[meter], group)
        if key is None:
            continue
        for off, on in mine:
            assert off is not None
            if not _is_covered(covered, meter, off):
                by_group[key].append((off, meter, on))
    out = []
    for key, offs in sorted(by_group.items()):
        size = network.size(group, key)
        need = max(p["min_meters"], math.ceil(size * p["min_share_pct"] / 100))
        offs.sort()
        # Two pointers: the window [i, j) only moves forward, so a group of n fails costs O(n)
        # (re-scanning from each i made a storm's 1,000 fails on one feeder cost 10^6 a pass).
        inside: Counter[int] = Counter()
        i = j = 0
        while i < len(offs):
            start = offs[i][0]
            while j < len(offs) and offs[j][0] <= start + window:
                inside[offs[j][1]] += 1
                j += 1
            if len(inside) < need:
                _leave(inside, offs[i][1])
                i += 1
                continue
            members = offs[i:j]
            meters = set(inside)
            inside.clear()
            # Supply is back when fewer than `need` members are still off.
            ends = sorted(on for _, _, on in members if on is not None)
            still_off = len(members) - len(ends)
            ended = None if still_off >= need else ends[len(members) - need]
            out.append(Conclusion(rule.id, group, key, start, ended, tuple(sorted(meters))))
            for _off, meter, _on in members:
                covered[meter].append((start, ended))
            i = j
    return out


def _leave(inside: Counter[int], meter: int) -> None:
    inside[meter] -= 1
    if not inside[meter]:
        del inside[meter]


def _is_covered(covered: dict[int, list[tuple[int, int | None]]], meter: int, at: int) -> bool:
    return any(s <= at and (e is None or at <= e) for s, e in covered.get(meter, ()))


def _isolated(
    rule: CorrelationRule,
    spells: dict[int, list[list[int | None]]],
    covered: dict[int, list[tuple[int, int | None]]],
) -> list[Conclusion]:
    grace = rule.parameters["grace_s"]
    out = []
    for meter, mine in sorted(spells.items()):
        for off, on in mine:
            assert off is not None
            if _is_covered(covered, meter, off) or (on is not None and on - off <= grace):
                continue
            out.append(Conclusion(rule.id, "meter", str(meter), off, on, (meter,)))
    return out


def _sequences(rule: CorrelationRule, cs: CorrelationSet, events: Sequence[Event]) -> list[Conclusion]:
    """`first` then `then` on one meter within `within_s`; each `then` pairs the latest `first`."""
    p = rule.parameters
    first, then = _codes(cs, p["first"]), _codes(cs, p["then"])
    out = []
    unique = sorted({(e.meter, e.at, e.code) for e in events})
    for meter, evs in itertools.groupby(unique, key=lambda t: t[0]):
        pending: list[int] = []
        for _, at, code in evs:
            if code in first:
                pending.append(at)
            elif code in then:
                live = [t for t in pending if at - t <= p["within_s"]]
                if live:
                    out.append(Conclusion(rule.id, "meter", str(meter), live[-1], at, (meter,)))
                    pending = [t for t in pending if t != live[-1]]
    return out


def batch(cs: CorrelationSet, events: Sequence[Event], network: Network) -> list[Conclusion]:
    """The batch pass over stored events: the truth the stream is compared against."""
    return conclude(cs, events, network)


@dataclass(frozen=True)
class StreamChanges:
    opened: list[Conclusion]
    closed: list[Conclusion]
    withdrawn: list[Conclusion]


class StreamCorrelator:
    """Events through durable_rules, conclusions per changed group on `advance`.

    durable_rules matches each posted event against the rule sets built from the file; its
    actions record the event under the groups it belongs to. Exceptions raised in an action are
    stored by durable_rules, not raised: the action records them in `errors`, which the caller
    must check (a non-empty list means the stream is not to be trusted: run the batch pass).
    """

    def __init__(self, cs: CorrelationSet, network: Network) -> None:
        from durable import engine  # imported here: a C extension, only needed by the stream

        self.cs = cs
        self.network = network
        self.errors: list[str] = []
        self._by_feeder: dict[str, list[Event]] = defaultdict(list)
        self._dirty: set[str] = set()
        self._meter_feeder: dict[int, str] = {}
        self._last: dict[tuple[str, str, str, int], Conclusion] = {}
        self._names = [f"{cs.name}-{rule.id}-{id(self)}".lower() for rule in cs.rules]
        self._host = engine.Host()
        definitions = {}
        for name, rule in zip(self._names, cs.rules, strict=True):
            kinds = [rule.parameters[k] for k in ("fail", "restore", "first", "then") if k in rule.parameters]
            definitions[name] = {
                f"{rule.id}-{kind}": {"all": [{"m": {"kind": kind}}], "run": self._record} for kind in kinds
            }
        # set_rulesets mutates its argument (it deletes each rule's "run"): hand it a copy.
        self._host.set_rulesets(copy.copy(definitions))
        self.posted = 0

    def _record(self, c: Any) -> None:
        try:
            m = c.m
            ev = Event(int(m.meter), int(m.code), int(m.at), m.dt, m.feeder)
            self._by_feeder[ev.feeder or ""].append(ev)
            self._meter_feeder[ev.meter] = ev.feeder or ""
            self._dirty.add(ev.feeder or "")
        except Exception as exc:  # noqa: BLE001 - durable_rules would swallow it
            self.errors.append(repr(exc))

    def post(self, ev: Event) -> None:
        kind = self.cs.kind_of(ev.code)
        if kind is None:
            return
        message = {
            "kind": kind,
            "meter": ev.meter,
            "code": ev.code,
            "at": ev.at,
            "dt": ev.dt,
            "feeder": ev.feeder,
        }
        self.posted += 1
        recorded = False
        for name, rule in zip(self._names, self.cs.rules, strict=True):
            if kind not in rule.parameters.values() or recorded:
                continue
            # One rule set records the event once; the others are not asked again.
            self._host.post(name, dict(message))
            recorded = True

    def advance(self) -> tuple[list[Conclusion], list[Conclusion]]:
        """(opened or changed, closed) since the last call, for the groups that got events."""
        found = self.changes()
        return found.opened, found.closed

    def changes(self) -> StreamChanges:
        """What changed since the last call, for the groups that got events: opened (or
        changed while open), closed, and withdrawn (a late event made it part of another)."""
        changed: list[Conclusion] = []
        closed: list[Conclusion] = []
        withdrawn: list[Conclusion] = []
        dirty, self._dirty = self._dirty, set()
        for feeder in sorted(dirty):
            events = self._by_feeder[feeder]
            now = {c.identity: c for c in conclude(self.cs, events, self.network)}
            before = {k: v for k, v in self._last.items() if self.feeder_of(v) == feeder}
            for key, conc in now.items():
                if before.get(key) != conc:
                    (closed if conc.ended_at is not None else changed).append(conc)
            for key in sorted(before.keys() - now.keys()):
                withdrawn.append(self._last.pop(key))
            self._last.update(now)
        return StreamChanges(changed, closed, withdrawn)

    def events_of(self, feeder: str | None) -> list[Event]:
        """The events the stream holds for one feeder ("" or None: meters on no feeder)."""
        return list(self._by_feeder.get(feeder or "", ()))

    def feeder_of(self, conc: Conclusion) -> str:
        return self._meter_feeder.get(conc.meters[0], "")

    def conclusions(self) -> list[Conclusion]:
        return sorted(self._last.values(), key=lambda c: (c.started_at, c.rule, c.key))
