"""Workflow throughput: instances started (to the first user task) and work items completed,
persisted in PostgreSQL, beside bare SpiffWorkflow in memory in the same run.

.venv/bin/python benchmarks/workflow.py [--instances 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _admin_url() -> str:
    return os.environ.get("CMDMS_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _redis_url() -> str:
    return os.environ.get("CMDMS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")


def bare_rate(n: int) -> tuple[float, float]:
    """SpiffWorkflow alone: parse once; per instance create, run to the user task, serialize
    (the library's serializer, spec included); then load, complete the task, serialize."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(ROOT / "workflows" / "field_inspection.bpmn"))
    spec, subs = parser.get_spec("field_inspection"), parser.get_subprocess_specs("field_inspection")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    started = time.perf_counter()
    states = []
    for i in range(n):
        wf = BpmnWorkflow(spec, subs)
        wf.data.update({"request_id": f"R{i}", "ivrs_number": "N1"})
        wf.do_engine_steps()
        states.append(serializer.serialize_json(wf))
    start_rate = n / (time.perf_counter() - started)
    started = time.perf_counter()
    for state in states:
        wf = serializer.deserialize_json(state)
        [task] = wf.get_tasks(state=TaskState.READY, manual=True)
        task.set_data(findings="ok", meter_reading_kwh=1.0, photo_reference=None, meter_accessible=True)
        task.run()
        wf.do_engine_steps()
        serializer.serialize_json(wf)
    complete_rate = n / (time.perf_counter() - started)
    return start_rate, complete_rate


def persisted_rates(n: int) -> dict[str, float]:
    from flask_migrate import upgrade

    from service import create_app
    from service.audit.log import Actor
    from service.auth.principal import Principal
    from service.config import Config
    from service.extensions import db
    from service.processes import queue
    from service.processes.runtime import StartRequest, start_instance

    name = f"cmdms_bench_workflow_{os.getpid()}"
    admin = psycopg2.connect(_admin_url())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    url = make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)
    results: dict[str, float] = {}
    try:
        app = create_app(
            Config(database_url=url, redis_url=_redis_url(), testing=True, var_dir=Path(tempfile.mkdtemp()))
        )
        with app.app_context():
            upgrade()
            actor = Actor("cli", "bench")
            session = db.session()
            # warm-up (imports, first statements)
            start_instance(
                session,
                StartRequest("field_inspection", {"request_id": "W", "ivrs_number": "N"}, None, None),
                actor,
            )
            session.commit()

            started = time.perf_counter()
            for i in range(n):
                data = {"request_id": f"R{i}", "ivrs_number": "N1"}
                start_instance(session, StartRequest("field_inspection", data, f"R{i}", None), actor)
                session.commit()  # one transaction per instance, as the API does
            results["start, 1 instance per transaction"] = n / (time.perf_counter() - started)

            started = time.perf_counter()
            for i in range(n):
                data = {"request_id": f"B{i}", "ivrs_number": "N1"}
                start_instance(session, StartRequest("field_inspection", data, f"B{i}", None), actor)
                if i % 100 == 99:
                    session.commit()
            session.commit()
            results["start, 100 instances per transaction"] = n / (time.perf_counter() - started)

            from sqlalchemy import select

            from service.processes.models import WorkItem

            ids = list(
                session.scalars(
                    select(WorkItem.id).where(WorkItem.status == "open").order_by(WorkItem.id).limit(n)
                )
            )
            principal = Principal("user", "bench", None, "admin", user_id=None)
            values = {"findings": "all ok", "meter_reading_kwh": 1.0}
            started = time.perf_counter()
            for item_id in ids:
                queue.complete(session, principal, item_id, values)
                session.commit()
            results["work items completed (form check, lock, advance)"] = len(ids) / (
                time.perf_counter() - started
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=1000)
    args = parser.parse_args()
    bare_start, bare_complete = bare_rate(args.instances)
    persisted = persisted_rates(args.instances)
    print(f"field_inspection, {args.instances} instances")
    print(f"{'measure':58} {'per s':>9}")
    print(f"{'bare SpiffWorkflow: start to first user task + serialize':58} {bare_start:9.0f}")
    print(f"{'bare SpiffWorkflow: load, complete task, serialize':58} {bare_complete:9.0f}")
    for label, rate in persisted.items():
        print(f"{'persisted: ' + label:58} {rate:9.0f}")
    one = persisted["start, 1 instance per transaction"]
    print(
        f"persisted start / bare start: {one / bare_start:.0%} (goal >= 20 %); goal >= 200/s: {'met' if one >= 200 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
