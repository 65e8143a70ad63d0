"""What a person reads on a page: text outside <script>/<style> and outside quoted messages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# A clock time not followed by its zone, or an ISO timestamp (UTC or any offset) in running text.
BARE_TIME = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])(?!\s*IST)")
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._stack: list[bool] = []  # per open element: is its content hidden?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        hidden = tag in ("script", "style", "template") or any(k == "data-verbatim" for k, _ in attrs)
        self._stack.append(hidden or (bool(self._stack) and self._stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self._stack and self._stack[-1]):
            self.chunks.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.chunks).split())


def times_without_zone(html: str) -> list[str]:
    """Each clock time or ISO timestamp a person would read without "IST", with its context."""
    text = visible_text(html)
    found = [*ISO_TIMESTAMP.finditer(text), *BARE_TIME.finditer(text)]
    return [text[max(0, m.start() - 40) : m.end() + 20] for m in found]
