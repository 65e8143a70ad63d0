"""Operations: health check, worker, periodic tasks, the demo runner."""

from flask import Flask


def init_app(app: Flask) -> None:
    from service import api_errors
    from service.ops import cli, health
    from service.ops.periodic import register_periodic
    from service.outbox.jobs import sweep

    app.register_blueprint(health.bp)
    api_errors.init_app(app)
    cli.register(app)
    register_periodic("outbox.sweep", 10, sweep)
