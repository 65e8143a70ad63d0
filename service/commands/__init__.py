"""HES commands: connect, disconnect, on-demand read and relay-status query, sent in paced batches
per HES, answered by callback or poll, each kept with the exact message sent and every reply.

Other packages call `issuing.create` / `issuing.schedule` / `issuing.cancel` and listen through
`replies.FINISHED_LISTENERS`; they never read these tables.
"""

from __future__ import annotations

from flask import Flask

from service.commands.models import HesCommand

__all__ = ["HesCommand", "init_app"]


def init_app(app: Flask) -> None:
    from service.commands import api as commands_api
    from service.commands import (
        models,  # noqa: F401  (registers the tables)
        sending,
    )
    from service.extensions import api, csrf

    sending.register_operations()
    csrf.exempt(commands_api.bp)
    api.register_blueprint(commands_api.bp)
