"""DESIGN "Layout": the engines import neither Flask nor `service`."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("workflows", "rules", "integrations", "notifications")
FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_login", "flask_smorest", "flask_wtf", "service")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def engine_violations(root: Path) -> list[str]:
    bad = []
    for engine in ENGINES:
        for path in sorted((root / engine).rglob("*.py")):
            for lineno, module in _imports(path):
                if module.split(".")[0] in FORBIDDEN:
                    bad.append(f"{path.relative_to(root)}:{lineno} imports {module}")
    return bad


def test_engines_import_neither_flask_nor_service() -> None:
    assert engine_violations(ROOT) == []


@pytest.mark.parametrize("module", ["flask", "service.extensions", "flask_sqlalchemy"])
def test_the_check_catches_a_forbidden_import(tmp_path: Path, module: str) -> None:
    (tmp_path / "rules").mkdir()
    for engine in ENGINES:
        (tmp_path / engine).mkdir(exist_ok=True)
    (tmp_path / "rules" / "bad.py").write_text(f"import os\nfrom {module} import x\n")
    assert engine_violations(tmp_path) == [f"rules/bad.py:2 imports {module}"]
