"""Sending policy: urgency, quiet hours (IST), rate limits, opt-out, back-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifications.policy import PolicyError, load_policy

POLICY = load_policy()


def ist(hour: int, minute: int = 0, day: int = 27) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) + timedelta(hours=-5, minutes=-30)


@pytest.mark.parametrize(
    ("local", "quiet"),
    [((20, 59), False), ((21, 0), True), ((23, 30), True), ((0, 0), True), ((7, 59), True), ((8, 0), False)],
)
def test_quiet_hours_are_21_to_8_india_time(local, quiet):
    assert POLICY.is_quiet(ist(*local)) is quiet


def test_message_in_quiet_hours_is_deferred_to_their_end_not_dropped():
    decision = POLICY.decide("planned_outage", now=ist(22), opted_out=False, sent_last_hour=0)
    assert (decision.status, decision.not_before, decision.reason) == (
        "queued",
        ist(8, day=28),
        "quiet_hours",
    )
    early = POLICY.decide("planned_outage", now=ist(6), opted_out=False, sent_last_hour=0)
    assert early.not_before == ist(8)


def test_urgent_messages_go_at_once_on_the_urgent_queue():
    for message_type in ("staff_otp", "disconnection_notice"):
        decision = POLICY.decide(message_type, now=ist(23), opted_out=True, sent_last_hour=99)
        assert (decision.status, decision.queue, decision.not_before) == ("queued", "urgent", ist(23))


def test_opt_out_suppresses_informational_but_not_mandatory_messages():
    assert (
        POLICY.decide("low_prepaid_balance", now=ist(12), opted_out=True, sent_last_hour=0).reason
        == "opted_out"
    )
    assert (
        POLICY.decide("recharge_confirmation", now=ist(12), opted_out=True, sent_last_hour=0).status
        == "queued"
    )


def test_informational_over_the_hourly_limit_is_suppressed():
    limit = POLICY.informational_per_hour
    assert (
        POLICY.decide("planned_outage", now=ist(12), opted_out=False, sent_last_hour=limit - 1).status
        == "queued"
    )
    over = POLICY.decide("planned_outage", now=ist(12), opted_out=False, sent_last_hour=limit)
    assert over.status == "suppressed" and over.reason.startswith("rate_limited")


def test_back_off_grows_and_is_capped():
    retry = POLICY.retry_normal
    delays = [retry.delay(n).total_seconds() for n in range(1, 7)]
    assert delays == [30, 120, 480, 1920, 3600, 3600]
    assert POLICY.retry_urgent.delay(1) == timedelta(seconds=5)


def test_retry_of_informational_message_does_not_land_in_quiet_hours():
    assert POLICY.next_attempt_at("planned_outage", 3, ist(20, 55)) == ist(8, day=28)
    # urgent ones keep their back-off, quiet hours or not
    assert POLICY.next_attempt_at("disconnection_notice", 1, ist(23)) == ist(23) + timedelta(seconds=5)


def test_unknown_channel_in_policy_fails_loading_naming_the_key(tmp_path):
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "p.yaml", {"message_types": {"planned_outage": {"channels": ["pigeon"]}}})
    assert caught.value.reason == "message_types.planned_outage.channels: unknown channel 'pigeon'"


def test_unreadable_policy_file_fails_with_its_name(tmp_path):
    bad = tmp_path / "policy.yaml"
    bad.write_text("quiet_hours: [unclosed")
    with pytest.raises(PolicyError, match="policy.yaml: cannot read"):
        load_policy(bad)
