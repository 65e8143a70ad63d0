"""Revenue protection: ATR cases opened by findings (VEE rules whose action is `open_atr_case`
and the analytics), worked by field officers through `workflows/atr_case.bpmn`."""

from __future__ import annotations

from flask import Flask

from service.revenue.cases import Added, Finding, add_findings
from service.revenue.queries import open_cases_for_consumer

__all__ = ["Added", "Finding", "add_findings", "open_cases_for_consumer"]


def init_app(app: Flask) -> None:
    from service.ops.periodic import register_periodic
    from service.processes.operations import register_operation
    from service.revenue import actions, cases, jobs, models  # noqa: F401  (models registers the tables)
    from service.vee.actions import register_case_opener

    register_case_opener(cases.vee_case_opener)
    register_operation("atr.record_action", actions.check_case_params, backoff_seconds=1.0, max_attempts=3,
                       write=actions.write_action)  # fmt: skip
    register_operation("atr.escalate", actions.check_case_params, backoff_seconds=1.0, max_attempts=3,
                       write=actions.write_escalation)  # fmt: skip
    register_operation("atr.replace_meter", actions.check_case_params, backoff_seconds=1.0, max_attempts=3,
                       write=actions.write_replacement)  # fmt: skip
    # Daily: the aggregates of yesterday are complete by then (VEE refreshes them per batch).
    register_periodic("revenue.daily_analytics", 86_400, jobs.daily_analytics, queue="bulk")
    jobs.register_cli(app)
