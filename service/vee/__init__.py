"""VEE: validation, estimation and editing of readings, rule insight, billing determinants."""

from flask import Flask


def init_app(app: Flask) -> None:
    from service.extensions import api, csrf
    from service.ops.periodic import register_periodic
    from service.readings.hooks import register_ingest_validator, register_validator
    from service.vee import api as vee_api
    from service.vee import cli, home, jobs, models, push, views  # noqa: F401  (models registers the tables)
    from service.vee.at_ingest import validate_new_intervals
    from service.vee.validation import validate_batch
    from service.web.home import register_panel
    from service.web.nav import register_nav

    register_validator(validate_batch)
    register_ingest_validator(validate_new_intervals)
    push.register_operation()
    csrf.exempt(vee_api.bp)
    api.register_blueprint(vee_api.bp)
    app.register_blueprint(views.bp)
    cli.register(app)
    register_nav("VEE rules", "vee.rules", roles=views.INSIGHT_ROLES, order=40)
    register_nav("Readings", "vee.readings", roles=views.EDIT_ROLES, order=41)
    register_panel("rules", "vee/_home_rules.html", ("analyst",), home.rule_hits, order=30)
    register_periodic("vee.rules_reload", 60, jobs.reload_rules)
