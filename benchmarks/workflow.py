"""Workflow throughput: instances started (to the first user task) and work items completed,
persisted in PostgreSQL, beside bare SpiffWorkflow in memory in the same run.

.venv/bin/python benchmarks/workflow.py [--instances 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.benchdb import FreshDatabase, redis_url


class Bare:
    """SpiffWorkflow alone: parse once; per instance create, run to the user task, serialize
    (the library's serializer, spec included); then load, complete the task, serialize."""

    def __init__(self) -> None:
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
        from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(ROOT / "workflows" / "field_inspection.bpmn"))
        self.spec = parser.get_spec("field_inspection")
        self.subs = parser.get_subprocess_specs("field_inspection")
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def start(self, first: int, n: int) -> tuple[float, list[str]]:
        from SpiffWorkflow.bpmn import BpmnWorkflow

        started = time.perf_counter()
        states = []
        for i in range(first, first + n):
            wf = BpmnWorkflow(self.spec, self.subs)
            wf.data.update({"request_id": f"R{i}", "ivrs_number": "N1"})
            wf.do_engine_steps()
            states.append(self.serializer.serialize_json(wf))
        return time.perf_counter() - started, states

    def complete(self, states: list[str]) -> float:
        from SpiffWorkflow.util.task import TaskState

        started = time.perf_counter()
        for state in states:
            wf = self.serializer.deserialize_json(state)
            [task] = wf.get_tasks(state=TaskState.READY, manual=True)
            task.set_data(findings="ok", meter_reading_kwh=1.0, photo_reference=None, meter_accessible=True)
            task.run()
            wf.do_engine_steps()
            self.serializer.serialize_json(wf)
        return time.perf_counter() - started


def measure(n: int, rounds: int) -> dict[str, float]:
    """Rates of every measure; bare and persisted alternate in `rounds` rounds, so both see the
    same load on a shared machine (a ratio of two runs minutes apart means little here)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from service import create_app
    from service.audit.log import Actor
    from service.auth.principal import Principal
    from service.config import Config
    from service.extensions import db
    from service.masterdata.models import OrgUnit
    from service.processes import queue
    from service.processes.batch import start_many
    from service.processes.models import WorkItem
    from service.processes.runtime import StartRequest, start_instance

    fresh = FreshDatabase("workflow")
    url = fresh.create()
    seconds = dict.fromkeys(LABELS, 0.0)
    counts = dict.fromkeys(LABELS, 0)
    bare = Bare()
    per_round = max(1, n // rounds)
    try:
        app = create_app(
            Config(database_url=url, redis_url=redis_url(6), testing=True, var_dir=Path(tempfile.mkdtemp()))
        )
        with app.app_context():
            upgrade()
            actor = Actor("cli", "bench")
            values = {"findings": "all ok", "meter_reading_kwh": 1.0}
            session = db.session()
            org_code = "BENCH-DC"
            session.add(OrgUnit(code=org_code, name="Bench DC", level="dc", parent_id=None, path="/bench/"))
            session.commit()
            # warm-up (imports, first statements, the stored definition)
            start_instance(
                session,
                StartRequest("field_inspection", {"request_id": "W", "ivrs_number": "N"}, None, None),
                actor,
            )
            session.commit()
            bare.complete(bare.start(0, 20)[1])
            from service.auth.api_keys import create_key
            from service.auth.users import create_user

            # Work items are human tasks: the completing principal is a real (admin) user.
            user = create_user(session, "bench-admin", "bench-password-1", "admin", org_code, actor)
            session.flush()
            principal = Principal("user", "bench-admin", None, "admin", user_id=user.id)

            _, raw_key = create_key(session, "bench", ["workflows:write"], actor)
            session.commit()
            db.session.remove()
            session = db.session()
            client = app.test_client()
            headers = {"Authorization": f"Bearer {raw_key}"}

            def add(label: str, elapsed: float, count: int) -> None:
                seconds[label] += elapsed
                counts[label] += count

            for r in range(rounds):
                first = r * per_round
                elapsed, states = bare.start(first, per_round)
                add(BARE_START, elapsed, per_round)

                started = time.perf_counter()
                for i in range(first, first + per_round):
                    data = {"request_id": f"R{i}", "ivrs_number": "N1"}
                    start_instance(session, StartRequest("field_inspection", data, f"R{i}", None), actor)
                    session.commit()  # one transaction per instance, as the API does
                add(START_ONE, time.perf_counter() - started, per_round)

                # The same start through the API (the full WSGI stack in process: routing, key,
                # schema, org check, start, commit, JSON answer), one request per instance.
                started = time.perf_counter()
                for i in range(first, first + per_round):
                    body = {
                        "process_id": "field_inspection",
                        "business_key": f"A{i}",
                        "org_unit_code": org_code,
                        "data": {"request_id": f"A{i}", "ivrs_number": "N1"},
                    }
                    answer = client.post("/api/v1/processes", json=body, headers=headers)
                    assert answer.status_code == 201, answer.get_json()
                add(START_API, time.perf_counter() - started, per_round)

                started = time.perf_counter()
                for i in range(first, first + per_round):
                    data = {"request_id": f"B{i}", "ivrs_number": "N1"}
                    start_instance(session, StartRequest("field_inspection", data, f"B{i}", None), actor)
                    if i % 100 == 99:
                        session.commit()
                session.commit()
                add(START_BATCH, time.perf_counter() - started, per_round)

                # 100 per request over the round's instances; one full request of 1,000 per round.
                for size, count, label, prefix in (
                    (100, per_round, MANY_100, "M"),
                    (1000, 1000, MANY_1000, "K"),
                ):
                    base = r * count
                    started = time.perf_counter()
                    for chunk in range(base, base + count, size):
                        items = [
                            (f"{prefix}{i}", org_code, {"request_id": f"{prefix}{i}", "ivrs_number": "N1"})
                            for i in range(chunk, min(chunk + size, base + count))
                        ]
                        outcomes = start_many(session, "field_inspection", items, actor)
                        session.commit()  # one transaction per request, as the batch API does
                        assert all(o.started for o in outcomes)
                    add(label, time.perf_counter() - started, count)

                add(BARE_COMPLETE, bare.complete(states), len(states))

                ids = list(
                    session.scalars(
                        select(WorkItem.id)
                        .where(
                            WorkItem.status == "open",
                            WorkItem.bpmn_id == "field_visit",
                            WorkItem.business_key.like("R%"),
                        )
                        .order_by(WorkItem.id)
                        .limit(per_round)
                    )
                )
                session.commit()
                started = time.perf_counter()
                for item_id in ids:
                    queue.complete(session, principal, item_id, values)
                    session.commit()
                add(COMPLETE, time.perf_counter() - started, len(ids))
            db.session.remove()
            db.engine.dispose()
    finally:
        fresh.drop()
    return {label: counts[label] / seconds[label] for label in LABELS}


BARE_START = "bare SpiffWorkflow: start to first user task + serialize"
BARE_COMPLETE = "bare SpiffWorkflow: load, complete task, serialize"
START_ONE = "persisted: start, 1 instance per transaction"
START_API = "persisted: start through POST /api/v1/processes, 1 per request"
START_BATCH = "persisted: start, 100 instances per transaction"
MANY_100 = "persisted: start_many, 100 per request (1 transaction)"
MANY_1000 = "persisted: start_many, 1,000 per request (1 transaction)"
COMPLETE = "persisted: work items completed (form check, lock, advance)"
LABELS = (BARE_START, BARE_COMPLETE, START_ONE, START_API, START_BATCH, MANY_100, MANY_1000, COMPLETE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="bare and persisted alternate this often")
    args = parser.parse_args()
    rates = measure(args.instances, args.rounds)
    print(f"field_inspection, {args.instances} instances in {args.rounds} alternating rounds")
    print(f"{'measure':62} {'per s':>9}")
    for label in LABELS:
        print(f"{label:62} {rates[label]:9.0f}")
    one = rates[START_ONE]
    print(
        f"persisted start / bare start: {one / rates[BARE_START]:.0%} (goal >= 20 %); "
        f"goal >= 200/s: {'met' if one >= 200 else 'NOT met'}"
    )
    api = rates[START_API]
    print(
        f"start through the API / direct start: {api / one:.0%} (goal >= 60 %); / bare: {api / rates[BARE_START]:.0%}"
    )
    for label in (START_BATCH, MANY_100, MANY_1000):
        ratio = rates[label] / rates[BARE_START]
        print(f"{label} / bare start: {ratio:.0%} ({'meets' if ratio >= 0.2 else 'misses'} 20 %)")
    print(f"persisted completion / bare completion: {rates[COMPLETE] / rates[BARE_COMPLETE]:.0%}")


if __name__ == "__main__":
    main()
