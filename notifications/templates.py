"""Message templates per type and language, with SMS length checked when they are loaded.

SMS length rules (3GPP TS 23.038): text wholly in the GSM-7 alphabet fits 160 characters in
one segment and 153 per segment when concatenated (extension characters such as € { } count
twice); anything else goes as UCS-2: 70 UTF-16 units, 67 per concatenated segment.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("en", "hi")

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the file and the reason."""

    def __init__(self, file: Path | str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = str(file)
        self.reason = reason


class ParamError(ValueError):
    """Parameters given for a message do not match its type (missing, unknown, too long)."""

    def __init__(self, message_type: str, param: str, reason: str) -> None:
        super().__init__(f"{message_type}.params.{param}: {reason}")
        self.message_type = message_type
        self.param = param
        self.reason = reason


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def sms_length(text: str) -> SmsLength:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        segments = 1 if units <= 160 else math.ceil(units / 153)
        return SmsLength("GSM-7", units, segments)
    units = len(text.encode("utf-16-le")) // 2
    segments = 1 if units <= 70 else math.ceil(units / 67)
    return SmsLength("UCS-2", units, segments)


@dataclass(frozen=True)
class Rendered:
    message_type: str
    language: str
    title: str
    text: str
    length: SmsLength


@dataclass(frozen=True)
class MessageTemplate:
    message_type: str
    language: str
    file: str
    body: str
    title: str
    params: Mapping[str, int]  # name -> longest accepted value, characters

    def fields(self) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.body) if name is not None}

    def render(self, params: Mapping[str, Any]) -> Rendered:
        values: dict[str, str] = {}
        for name, longest in self.params.items():
            if name not in params or params[name] is None:
                raise ParamError(self.message_type, name, "missing")
            value = str(params[name])
            if len(value) > longest:
                raise ParamError(self.message_type, name, f"longer than {longest} characters")
            values[name] = value
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise ParamError(self.message_type, unknown[0], "unknown parameter")
        text = self.body.format_map(values)
        return Rendered(self.message_type, self.language, self.title, text, sms_length(text))


@dataclass(frozen=True)
class TemplateBook:
    templates: Mapping[tuple[str, str], MessageTemplate]

    @property
    def message_types(self) -> list[str]:
        return sorted({t for t, _ in self.templates})

    def get(self, message_type: str, language: str) -> MessageTemplate:
        """The template in `language`, else English (a language we have no text for)."""
        found = self.templates.get((message_type, language)) or self.templates.get((message_type, "en"))
        if found is None:
            raise KeyError(f"unknown message type {message_type!r}")
        return found

    def render(self, message_type: str, language: str, params: Mapping[str, Any]) -> Rendered:
        return self.get(message_type, language).render(params)


def load_templates(directory: Path = TEMPLATES_DIR, *, max_segments: int = 3) -> TemplateBook:
    """Load and check every template; the first bad file stops loading with its reason."""
    catalogue_file = directory / "catalogue.yaml"
    try:
        catalogue = yaml.safe_load(catalogue_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(catalogue_file, f"cannot read: {exc}") from None
    if not isinstance(catalogue, dict) or not catalogue:
        raise TemplateError(catalogue_file, "expected a mapping of message types")
    templates: dict[tuple[str, str], MessageTemplate] = {}
    for message_type, spec in catalogue.items():
        params, titles = _catalogue_entry(catalogue_file, str(message_type), spec)
        for language in LANGUAGES:
            path = directory / language / f"{message_type}.txt"
            templates[(message_type, language)] = _load_one(
                path, str(message_type), language, params, titles.get(language, ""), max_segments
            )
    return TemplateBook(templates)


def _catalogue_entry(file: Path, message_type: str, spec: Any) -> tuple[dict[str, int], dict[str, str]]:
    if not isinstance(spec, dict) or not isinstance(spec.get("params"), dict):
        raise TemplateError(file, f"{message_type}: expected 'params' (name: max length)")
    params: dict[str, int] = {}
    for name, longest in spec["params"].items():
        if not isinstance(longest, int) or isinstance(longest, bool) or longest < 1:
            raise TemplateError(file, f"{message_type}.params.{name}: expected a positive integer")
        params[str(name)] = longest
    titles = spec.get("title") or {}
    if not isinstance(titles, dict):
        raise TemplateError(file, f"{message_type}.title: expected language: title")
    return params, {str(k): str(v) for k, v in titles.items()}


def _load_one(
    path: Path, message_type: str, language: str, params: dict[str, int], title: str, max_segments: int
) -> MessageTemplate:
    try:
        body = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise TemplateError(path, "missing (every message type needs an en and a hi template)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(path, f"cannot read: {exc}") from None
    if not body:
        raise TemplateError(path, "empty template")
    template = MessageTemplate(message_type, language, str(path), body, title or message_type, params)
    try:
        fields = template.fields()
    except ValueError as exc:
        raise TemplateError(path, f"bad placeholder: {exc}") from None
    undeclared = sorted(fields - set(params))
    if undeclared:
        raise TemplateError(path, f"placeholder {{{undeclared[0]}}} is not a parameter of {message_type}")
    # Longest case: every parameter at its declared maximum (ASCII, the common case for
    # names, amounts and dates; a non-GSM value switches an English text to UCS-2 at send).
    longest = template.render({name: "x" * n for name, n in params.items()})
    if longest.length.segments > max_segments:
        raise TemplateError(
            path,
            f"{longest.length.segments} SMS segments with parameters at their longest "
            f"({longest.length.encoding}, {longest.length.units} units); the limit is {max_segments}",
        )
    return template
