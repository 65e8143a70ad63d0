"""When and how a message goes: urgency, quiet hours, rate limits, opt-out, retry back-off.

Pure functions over plain values; `service/notifications` feeds them the clock and counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

POLICY_FILE = Path(__file__).resolve().parent / "policy.yaml"
CHANNELS = ("push", "sms", "sms_http", "console")
URGENT_QUEUE = "urgent"
NORMAL_QUEUE = "default"


class PolicyError(ValueError):
    def __init__(self, file: Path | str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = str(file)
        self.reason = reason


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    factor: float
    max_seconds: float

    def delay(self, attempt: int) -> timedelta:
        """Wait after failed attempt number `attempt` (1-based)."""
        seconds = self.base_seconds * self.factor ** max(attempt - 1, 0)
        return timedelta(seconds=min(seconds, self.max_seconds))


@dataclass(frozen=True)
class MessagePolicy:
    channels: tuple[str, ...]
    urgent: bool
    mandatory: bool
    dlt_template_id: str | None


@dataclass(frozen=True)
class Decision:
    status: str  # "queued" | "suppressed"
    queue: str
    not_before: datetime  # UTC
    max_attempts: int
    reason: str | None = None  # why suppressed or deferred


@dataclass(frozen=True)
class Policy:
    timezone: ZoneInfo
    quiet_start: time
    quiet_end: time
    informational_per_hour: int
    max_segments: int
    retry_normal: RetryPolicy
    retry_urgent: RetryPolicy
    message_types: Mapping[str, MessagePolicy]

    def for_type(self, message_type: str) -> MessagePolicy:
        try:
            return self.message_types[message_type]
        except KeyError:
            raise KeyError(f"unknown message type {message_type!r}") from None

    def retry_for(self, message_type: str) -> RetryPolicy:
        return self.retry_urgent if self.for_type(message_type).urgent else self.retry_normal

    def is_quiet(self, now: datetime) -> bool:
        local = now.astimezone(self.timezone).time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end

    def end_of_quiet(self, now: datetime) -> datetime:
        """The first instant at or after `now` outside quiet hours (UTC)."""
        if not self.is_quiet(now):
            return now
        local = now.astimezone(self.timezone)
        end = datetime.combine(local.date(), self.quiet_end, tzinfo=self.timezone)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)

    def decide(self, message_type: str, *, now: datetime, opted_out: bool, sent_last_hour: int) -> Decision:
        """What to do with a new message: queue now, queue for later, or suppress (recorded)."""
        rule = self.for_type(message_type)
        retry = self.retry_for(message_type)
        if rule.urgent:
            return Decision("queued", URGENT_QUEUE, now, retry.max_attempts)
        if not rule.mandatory and opted_out:
            return Decision("suppressed", NORMAL_QUEUE, now, retry.max_attempts, "opted_out")
        if not rule.mandatory and sent_last_hour >= self.informational_per_hour:
            return Decision(
                "suppressed",
                NORMAL_QUEUE,
                now,
                retry.max_attempts,
                f"rate_limited: {sent_last_hour} in the last hour (limit {self.informational_per_hour})",
            )
        not_before = self.end_of_quiet(now)
        reason = "quiet_hours" if not_before > now else None
        return Decision("queued", NORMAL_QUEUE, not_before, retry.max_attempts, reason)

    def next_attempt_at(self, message_type: str, attempt: int, now: datetime) -> datetime:
        """After failed attempt `attempt`: back-off, and informational ones not in quiet hours."""
        at = now + self.retry_for(message_type).delay(attempt)
        return at if self.for_type(message_type).urgent else self.end_of_quiet(at)


def load_policy(path: Path = POLICY_FILE, data: Mapping[str, Any] | None = None) -> Policy:
    """Read and check policy.yaml (or `data`, already parsed); errors name the file and key."""
    if data is None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise PolicyError(path, f"cannot read: {exc}") from None
    if not isinstance(data, Mapping):
        raise PolicyError(path, "expected a mapping")
    try:
        return _build(path, data)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, PolicyError):
            raise
        raise PolicyError(path, f"{type(exc).__name__}: {exc}") from None


def _build(path: Path, data: Mapping[str, Any]) -> Policy:
    quiet = data.get("quiet_hours") or {"start": "00:00", "end": "00:00"}
    types: dict[str, MessagePolicy] = {}
    for name, spec in (data.get("message_types") or {}).items():
        channels = tuple(str(c) for c in spec.get("channels") or ())
        if not channels:
            raise PolicyError(path, f"message_types.{name}.channels: at least one channel")
        for channel in channels:
            if channel not in CHANNELS:
                raise PolicyError(path, f"message_types.{name}.channels: unknown channel {channel!r}")
        dlt = spec.get("dlt_template_id")
        types[str(name)] = MessagePolicy(
            channels, bool(spec.get("urgent")), bool(spec.get("mandatory")), str(dlt) if dlt else None
        )
    retry = data.get("retry") or {}
    return Policy(
        timezone=ZoneInfo(str(data.get("timezone", "Asia/Kolkata"))),
        quiet_start=time.fromisoformat(str(quiet["start"])),
        quiet_end=time.fromisoformat(str(quiet["end"])),
        informational_per_hour=int((data.get("rate_limit") or {}).get("informational_per_hour", 4)),
        max_segments=int((data.get("sms") or {}).get("max_segments", 3)),
        retry_normal=_retry(retry.get("normal") or {}),
        retry_urgent=_retry(retry.get("urgent") or {}),
        message_types=types,
    )


def _retry(spec: Mapping[str, Any]) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=int(spec.get("max_attempts", 5)),
        base_seconds=float(spec.get("base_seconds", 30)),
        factor=float(spec.get("factor", 4)),
        max_seconds=float(spec.get("max_seconds", 3600)),
    )
