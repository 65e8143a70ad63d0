"""Every runtime pin is used by the running code; benchmark-only packages are dev pins."""

from __future__ import annotations

import re
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ("service", "rules", "workflows", "integrations", "notifications", "migrations", "wsgi.py")


def _pins(path: Path) -> list[str]:
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-r"):
            names.append(re.split(r"[\[=<>~ ]", line)[0])
    return names


def _modules_of(distribution: str) -> set[str]:
    wanted = re.sub(r"[-_.]+", "-", distribution).lower()
    return {
        module
        for module, dists in packages_distributions().items()
        if any(re.sub(r"[-_.]+", "-", d).lower() == wanted for d in dists)
    }


def _source(paths: tuple[str, ...]) -> str:
    files = [ROOT / p for p in paths if (ROOT / p).is_file()]
    files += [f for p in paths if (ROOT / p).is_dir() for f in sorted((ROOT / p).rglob("*.py"))]
    return "\n".join(f.read_text() for f in files)


def unused_pins(requirements: Path, source: str) -> list[str]:
    """Pins none of whose modules the source imports (or loads files from, as plotly.js)."""
    unused = []
    for pin in _pins(requirements):
        modules = _modules_of(pin)
        pattern = r"(^|\n)\s*(import|from) ({0})\b|files\(\"({0})\"\)".format(
            "|".join(map(re.escape, modules))
        )
        if not modules or not re.search(pattern, source):
            unused.append(pin)
    return unused


def test_every_runtime_pin_is_imported_by_the_running_code() -> None:
    assert unused_pins(ROOT / "requirements.txt", _source(RUNTIME)) == []


def test_the_check_catches_a_pin_nothing_imports(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("Flask==3.1.3\nPyYAML==6.0.3  # config\nredis==6.4.0\n")
    assert unused_pins(requirements, "from flask import Flask\nimport yaml\n") == ["redis"]


def test_the_app_factory_says_truly_which_driver_does_what() -> None:
    source = (ROOT / "service" / "__init__.py").read_text()
    assert "psycopg 3 is used directly for COPY" not in source
