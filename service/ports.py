"""Outside-system adapters, built once per app by the factory and held in `app.extensions`.

Entry points (API views, pages, RQ jobs, CLI commands) take them with `adapters_of(app)` and
pass them in; logic modules receive them as parameters and never read `current_app`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

from integrations.billing.client import BillingClient
from integrations.hes.commands import HesClient, HttpHesClient
from service.config import Config

KEY = "cmdms.adapters"


@dataclass(frozen=True)
class Adapters:
    # BillingClient or a stand-in with its `post`; None when CMDMS_BILLING_URL is not set.
    billing: Any | None
    # HesSystem -> HesClient: the `hes` port when given (tests, other vendors), else HTTP.
    hes_for: Callable[[Any], HesClient]


def build_adapters(config: Config, ports: dict[str, Any]) -> Adapters:
    billing = ports.get("billing")
    if billing is None and config.billing_url:
        billing = BillingClient(config.billing_url, config.webhook_secrets.get("billing", ""))
    return Adapters(billing=billing, hes_for=_hes_factory(config, ports.get("hes")))


def _hes_factory(config: Config, port: Callable[[Any], HesClient] | None) -> Callable[[Any], HesClient]:
    if port is not None:
        return port
    callback_url = config.public_base_url.rstrip("/") + "/api/v1/hes/callbacks"

    def http_client(system: Any) -> HesClient:
        return HttpHesClient(
            system.base_url, system.wire_form,
            callback_url=callback_url if system.has_callback else None,
            control_types=system.control_types or None,
        )  # fmt: skip

    return http_client


def adapters_of(app: Flask) -> Adapters:
    found: Adapters = app.extensions[KEY]
    return found
