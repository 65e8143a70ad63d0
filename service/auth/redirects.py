"""The one check of redirect targets taken from a request (login's and the task form's `next`)."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`.

    Browsers read `\\` as `/` and drop tabs and newlines, so `/\\evil.example` and `/\\t/evil`
    lead off-site like `//evil.example` does: any backslash, control character or space refuses.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if any(ch == "\\" or ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
