"""HES commands: connect, disconnect, on-demand read and relay-status query, sent in paced batches
per HES, answered by callback or poll, each kept with the exact message sent and every reply.

Other packages call `issuing.create` / `issuing.schedule` / `issuing.cancel` and listen through
`replies.FINISHED_LISTENERS`; they never read these tables.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from service.commands.models import HesCommand

__all__ = ["HesCommand", "init_app"]


def init_app(app: Flask) -> None:
    from integrations.hes.commands import HttpHesClient
    from service.commands import api as commands_api
    from service.commands import (
        models,  # noqa: F401  (registers the tables)
        sending,
    )
    from service.commands.models import HesSystem
    from service.extensions import api, csrf

    config = app.extensions["cmdms.config"]
    callback_url = config.public_base_url.rstrip("/") + "/api/v1/hes/callbacks"

    def client_for(system: HesSystem) -> Any:
        # The `hes` port, when given, is a factory HesSystem -> HesClient (tests, other vendors).
        # Operations are registered process-wide, so the port is read from the app running the
        # job, not from the last app created in this process.
        from flask import current_app

        port = current_app.extensions["cmdms.ports"].get("hes")
        if port is not None:
            return port(system)
        return HttpHesClient(
            system.base_url, system.wire_form,
            callback_url=callback_url if system.has_callback else None,
            control_types=system.control_types or None,
        )  # fmt: skip

    sending.register_operations(client_for)
    csrf.exempt(commands_api.bp)
    api.register_blueprint(commands_api.bp)
