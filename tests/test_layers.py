"""DESIGN "Layout": the engines import neither Flask nor `service`."""

import ast
from collections.abc import Callable, Iterator
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


# Inside service/: no import circle between modules (function-level imports count too), none
# between the packages that had one, and audit rows are written only by the audit package.
# The pairs (packages or modules) issue 21 found in a circle, and master data <-> the landing page.
PACKAGE_PAIRS = [
    ("masterdata", "readings"),
    ("masterdata", "auth"),
    ("masterdata", "web"),
    ("readings.ingest", "readings.quarantine"),
    ("vee.bulk", "vee.determinants"),
]


def _module_graph(root: Path) -> dict[str, set[str]]:
    modules = {name: path for name, path in _modules(root) if name.startswith("service")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {target for _, target in _imported(name, path)}
        found = set()
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            # a module importing its own package's __init__ is not a circle of modules
            if target and target != name and not name.startswith(target + "."):
                found.add(target)
        graph[name] = found
    return graph


def import_cycles(root: Path) -> list[list[str]]:
    graph = _module_graph(root)
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return cycles


def package_circles(root: Path) -> list[str]:
    graph = _module_graph(root)

    def uses(a: str, b: str) -> bool:
        return any(
            m.startswith(f"service.{a}") and any(t.startswith(f"service.{b}") for t in targets)
            for m, targets in graph.items()
        )

    return [f"{a} <-> {b}" for a, b in PACKAGE_PAIRS if uses(a, b) and uses(b, a)]


def audit_writers(root: Path) -> list[str]:
    return [
        str(path.relative_to(root))
        for path in sorted((root / "service").rglob("*.py"))
        if "INSERT INTO audit_log" in path.read_text() and path.parent.name != "audit"
    ]


def test_no_import_circles_between_modules_or_the_packages_that_had_them() -> None:
    assert import_cycles(ROOT) == []
    assert package_circles(ROOT) == []


def test_only_the_audit_package_writes_audit_rows() -> None:
    assert audit_writers(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "service" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_checks_catch_a_circle_a_package_circle_and_raw_audit_sql(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "readings/__init__.py": "",
            "readings/ingest.py": "from service.readings import quarantine\n",
            "readings/quarantine.py": "def replay():\n    from service.readings.ingest import ingest_batch\n",
            "masterdata/__init__.py": "",
            "masterdata/api.py": "from service.readings.jobs import request_replay\n",
            "readings/jobs.py": "from service.masterdata.models import Meter\n",
            "masterdata/models.py": "",
            "processes/writes.py": 'SQL = "INSERT INTO audit_log (actor) VALUES (1)"\n',
            "audit/log.py": 'SQL = "INSERT INTO audit_log"\n',
        },
    )
    assert import_cycles(root) == [
        ["service.readings.ingest", "service.readings.quarantine", "service.readings.ingest"]
    ]
    assert package_circles(root) == ["masterdata <-> readings", "readings.ingest <-> readings.quarantine"]
    assert audit_writers(root) == ["service/processes/writes.py"]


def test_a_face_whose_wiring_reaches_back_is_a_circle(tmp_path: Path) -> None:
    # A face's init_app imports its pages; a page elsewhere importing the face closes a circle.
    root = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "masterdata/__init__.py": (
                "from service.masterdata.models import Meter\n"
                "def init_app(app):\n    from service.masterdata import views\n"
            ),
            "masterdata/models.py": "",
            "masterdata/views.py": "from service.web import lists\n",
            "web/__init__.py": "def init_app(app):\n    from service.web import views\n",
            "web/lists.py": "",
            "web/views.py": "from service.masterdata import Meter\n",
            "vee/bulk.py": "from service.vee.determinants import refresh\n",
            "vee/determinants.py": "def f():\n    from service.vee import bulk\n",
        },
    )
    assert import_cycles(root) == [
        [
            "service.masterdata",
            "service.masterdata.views",
            "service.web",
            "service.web.views",
            "service.masterdata",
        ],
        ["service.vee.bulk", "service.vee.determinants", "service.vee.bulk"],
    ]
    assert package_circles(root) == ["masterdata <-> web", "vee.bulk <-> vee.determinants"]


# Package faces: a module imports another package's names from that package (its `__init__` or a
# function module), never its `models` module. The owner's own modules may import its models.
LOGIC_ROOTS = ("service", "workflows", "rules")


def _modules(root: Path) -> list[tuple[str, Path]]:
    found = []
    for top in LOGIC_ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return found


def _imported(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, module or module.name) for every import, relative ones resolved; function-level too."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            found += [(node.lineno, base)] + [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def foreign_models_imports(root: Path) -> list[str]:
    bad = []
    for name, path in _modules(root):
        for lineno, target in _imported(name, path):
            parts = target.split(".")
            if len(parts) < 3 or parts[0] != "service" or parts[2] != "models":
                continue
            owner = ".".join(parts[:2])
            if name != owner and not name.startswith(owner + "."):
                bad.append(f"{path.relative_to(root)}:{lineno} imports {'.'.join(parts[:3])}")
    return sorted(set(bad))


def test_no_module_imports_another_packages_models() -> None:
    assert foreign_models_imports(ROOT) == []


def test_the_check_catches_a_foreign_models_import(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "readings/ingest.py": "from service.masterdata.models import Meter\n",
            "readings/jobs.py": "def f():\n    from service.masterdata import models\n",
            "readings/replay.py": "from service.readings.models import IngestBatch\n",
            "readings/store.py": "from .models import NETWORK_KINDS\nfrom ..auth.models import User\n",
            "masterdata/cards.py": "from service.masterdata.models import Meter\nfrom service.orgs import OrgUnit\n",
        },
    )
    assert foreign_models_imports(root) == [
        "service/readings/ingest.py:1 imports service.masterdata.models",
        "service/readings/jobs.py:2 imports service.masterdata.models",
        "service/readings/store.py:2 imports service.auth.models",
    ]


# Ports passed in (issue 21 item 2): only entry points read `current_app` — API views, pages, RQ
# jobs, CLI commands and each package's wiring (`init_app`); they take the app's adapters
# (`service.ports.adapters_of`) and pass them to logic modules as parameters. A module is an
# entry point by its name (`api.py`, `app_api.py`, `jobs.py`, ...).
ENTRY_POINT_NAMES = ("api", "views", "cli", "jobs", "__init__")
ENTRY_POINT_MODULES = (
    "service/auth/guards.py",  # the request decorators that resolve who calls
    "service/ops/health.py",  # GET /healthz
    "service/readings/adapters_http.py",  # the HTTP adapters' endpoints
)
# Logic modules still reading `current_app`; this set only shrinks.
NOT_YET_PORTED = (
    "service/notifications/engine.py",
    "service/processes/library.py",
    "service/queues.py",
    "service/vee/rulebook.py",
)


def _service_nodes(root: Path, skip: Callable[[Path, str], bool]) -> Iterator[tuple[str, ast.AST]]:
    """(path, node) for every syntax node of the modules under service/ that `skip` keeps."""
    for path in sorted((root / "service").rglob("*.py")):
        rel = str(path.relative_to(root))
        if not skip(path, rel):
            yield from ((rel, node) for node in ast.walk(ast.parse(path.read_text(), filename=rel)))


def _entry_point(path: Path, rel: str) -> bool:
    names = (path.stem, path.stem.rpartition("_")[2])
    return any(name in ENTRY_POINT_NAMES for name in names) or rel in ENTRY_POINT_MODULES


def current_app_readers(root: Path) -> list[str]:
    bad = []
    for rel, node in _service_nodes(root, _entry_point):
        named = (
            (isinstance(node, ast.alias) and node.name.split(".")[-1] == "current_app")
            or (isinstance(node, ast.Name) and node.id == "current_app")
            or (isinstance(node, ast.Attribute) and node.attr == "current_app")
        )
        if named:
            bad.append(f"{rel}:{getattr(node, 'lineno', 0)} reads current_app")
    return sorted(set(bad))


def test_logic_modules_do_not_read_current_app() -> None:
    found = current_app_readers(ROOT)
    assert [v for v in found if v.split(":")[0] not in NOT_YET_PORTED] == []
    # a module that no longer reads it leaves the pending list
    assert sorted({v.split(":")[0] for v in found}) == sorted(NOT_YET_PORTED)


def test_the_check_catches_current_app_in_a_logic_module(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "vee/push.py": "from flask import current_app\n",
            "vee/rulebook.py": "import flask\n\ndef f():\n    return flask.current_app.extensions\n",
            "vee/ports.py": '"""Entry points read current_app; this module does not."""\n',
            "vee/api.py": "from flask import current_app\n",
            "vee/app_api.py": "from flask import current_app\n",
            "vee/api_keys.py": "from flask import current_app\n",
            "vee/jobs.py": "from flask import current_app\n",
            "vee/__init__.py": "def init_app(app):\n    from flask import current_app\n",
            "auth/guards.py": "from flask import current_app\n",
        },
    )
    assert current_app_readers(root) == [
        "service/vee/api_keys.py:1 reads current_app",
        "service/vee/push.py:1 reads current_app",
        "service/vee/rulebook.py:4 reads current_app",
    ]


# A unit of work per entry point (issue 21 item 1): a session is committed only by
# `service.unit_of_work` (`uow.commit()`); a savepoint's own commit is no commit of the session.


def bare_commits(root: Path) -> list[str]:
    bad = []
    for rel, node in _service_nodes(root, lambda _, rel: rel == "service/unit_of_work.py"):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        target = node.func.value
        named = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
        if node.func.attr == "commit" and named == "session":
            bad.append(f"{rel}:{node.lineno} commits a session by hand")
    return bad


def test_only_the_unit_of_work_commits() -> None:
    assert bare_commits(ROOT) == []


def test_the_check_catches_a_hand_written_commit(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "auth/views.py": "def f(session):\n    session.commit()\n",
            "auth/cli.py": "def f():\n    db.session.commit()\n",
            "auth/jobs.py": "def f(uow, savepoint):\n    savepoint.commit()\n    uow.commit()\n",
            "unit_of_work.py": "def commit(self):\n    self.session.commit()\n",
        },
    )
    assert bare_commits(root) == [
        "service/auth/cli.py:2 commits a session by hand",
        "service/auth/views.py:2 commits a session by hand",
    ]
