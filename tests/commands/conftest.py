"""Fixtures for HES commands: the app on a live server thread and the HES simulator calling it back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from integrations.hes.command_simulator import HesCommandSimulator


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def hes_sim(live_url: str, make_api_key: Callable[..., dict[str, str]]) -> Iterator[HesCommandSimulator]:
    """A simulated HES whose callbacks reach POST /api/v1/hes/callbacks with its own API key."""
    token = make_api_key("hes:write", system="hes-sim")["Authorization"].removeprefix("Bearer ")
    simulator = HesCommandSimulator(callback_url=f"{live_url}/api/v1/hes/callbacks", callback_token=token)
    simulator.base_url = simulator.start()  # type: ignore[attr-defined]
    yield simulator
    simulator.stop()


@pytest.fixture
def add_hes(session: Any) -> Callable[..., Any]:
    from service.commands.issuing import upsert_hes_system

    def add(code: str, base_url: str, wire_form: str, **values: Any) -> Any:
        system = upsert_hes_system(session, code, base_url=base_url, wire_form=wire_form, **values)
        session.commit()
        return system

    return add
