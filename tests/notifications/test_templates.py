"""Templates: every message type in English and Hindi, SMS length checked when loading."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from notifications.templates import TEMPLATES_DIR, ParamError, TemplateError, load_templates, sms_length

MESSAGE_TYPES = {
    "planned_outage",
    "supply_restored",
    "disconnection_notice",
    "disconnected_for_dues",
    "reconnection",
    "low_prepaid_balance",
    "recharge_confirmation",
    "staff_otp",
    "consumer_otp",
    "staff_alert",
    "planned_outage_changed",
    "planned_outage_cancelled",
    "zero_prepaid_balance",
    "disconnected_for_balance",
    "prepaid_emergency_credit",
}


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, target)
    return target


def test_every_message_type_has_an_english_and_a_hindi_template_that_fits():
    book = load_templates(max_segments=3)
    assert set(book.message_types) == MESSAGE_TYPES
    for message_type in MESSAGE_TYPES:
        assert book.get(message_type, "en").body.isascii()
        assert not book.get(message_type, "hi").body.isascii()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, ("GSM-7", 160, 1)),
        ("a" * 161, ("GSM-7", 161, 2)),
        ("a" * 306, ("GSM-7", 306, 2)),
        ("a" * 307, ("GSM-7", 307, 3)),
        ("€" * 80, ("GSM-7", 160, 1)),  # extension characters take two septets
        ("{" * 81, ("GSM-7", 162, 2)),
        ("क" * 70, ("UCS-2", 70, 1)),
        ("क" * 71, ("UCS-2", 71, 2)),
        ("क" * 134, ("UCS-2", 134, 2)),
        ("क" * 135, ("UCS-2", 135, 3)),
        ("a" * 69 + "₹", ("UCS-2", 70, 1)),  # one non-GSM character makes the whole text UCS-2
    ],
)
def test_sms_segments_follow_gsm7_and_ucs2_limits(text, expected):
    length = sms_length(text)
    assert (length.encoding, length.units, length.segments) == expected


def test_template_too_long_at_max_params_fails_loading_with_file_and_reason(template_dir):
    (template_dir / "hi" / "staff_alert.txt").write_text("चेतावनी " * 30 + "{text}", encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_templates(template_dir, max_segments=3)
    assert caught.value.file.endswith("hi/staff_alert.txt")
    assert (
        caught.value.reason
        == "6 SMS segments with parameters at their longest (UCS-2, 340 units); the limit is 3"
    )


def test_segment_limit_is_configuration(template_dir):
    with pytest.raises(TemplateError, match="the limit is 1"):
        load_templates(template_dir, max_segments=1)


def test_placeholder_that_is_not_a_declared_parameter_fails_loading(template_dir):
    (template_dir / "en" / "reconnection.txt").write_text("Hello {name}, supply back at {time}.")
    with pytest.raises(TemplateError) as caught:
        load_templates(template_dir)
    assert caught.value.file.endswith("en/reconnection.txt")
    assert caught.value.reason == "placeholder {name} is not a parameter of reconnection"


def test_missing_hindi_template_fails_loading(template_dir):
    (template_dir / "hi" / "reconnection.txt").unlink()
    with pytest.raises(TemplateError, match=r"hi/reconnection.txt: missing"):
        load_templates(template_dir)


def test_malformed_catalogue_fails_loading_naming_the_entry(template_dir):
    (template_dir / "catalogue.yaml").write_text("reconnection:\n  params: {ivrs: twelve}\n")
    with pytest.raises(TemplateError) as caught:
        load_templates(template_dir)
    assert caught.value.reason == "reconnection.params.ivrs: expected a positive integer"


def test_unknown_language_falls_back_to_english():
    book = load_templates()
    rendered = book.render("reconnection", "ta", {"ivrs": "N1", "time": "10:00"})
    assert (rendered.language, rendered.text) == (
        "en",
        "Consumer N1: your supply was reconnected at 10:00. -CMDMS",
    )


def test_render_refuses_missing_unknown_and_too_long_params():
    book = load_templates()
    with pytest.raises(ParamError, match=r"reconnection.params.time: missing"):
        book.render("reconnection", "en", {"ivrs": "N1"})
    with pytest.raises(ParamError, match=r"reconnection.params.extra: unknown parameter"):
        book.render("reconnection", "en", {"ivrs": "N1", "time": "1", "extra": "x"})
    with pytest.raises(ParamError, match=r"reconnection.params.ivrs: longer than 12 characters"):
        book.render("reconnection", "en", {"ivrs": "N" * 13, "time": "1"})
