"""processes area: BPMN instances, the work queue, service-task operations, timers, webhooks."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from service.demo.seed import register_step
    from service.extensions import api, csrf
    from service.ops.periodic import register_periodic
    from service.processes import api as processes_api
    from service.processes import cli, demo, home, library, models, timers, views  # noqa: F401
    from service.processes.check import check_loaded
    from service.processes.operations import register_builtin_operations
    from service.web.home import register_panel
    from service.web.nav import register_nav

    WORKERS = views.WORKER_ROLES

    register_builtin_operations()
    # Process files are validated at start-up: a broken file stops the app with file and element.
    app.extensions[library.KEY] = library.build()
    check_loaded(app)
    csrf.exempt(processes_api.blp)
    api.register_blueprint(processes_api.blp)
    app.register_blueprint(views.bp)
    cli.register(app)
    register_periodic("processes.timers", 5, timers.sweep_timers)
    register_step("field inspections", demo.seed_inspections)
    register_nav("Work queue", "processes.queue", roles=("field_officer", "control_centre"), order=20)
    register_nav("Processes", "processes.instances", roles=("admin",), order=60)
    register_panel("tasks", "processes/_home_tasks.html", WORKERS, home.my_tasks, order=10)
    register_panel("team", "processes/_home_team.html", ("field_officer",), home.team_load, order=20)
    register_panel(
        "incidents", "processes/_home_incidents.html", ("control_centre",), home.open_incidents, order=25
    )
