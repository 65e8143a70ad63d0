"""The OpenAPI document and the Swagger UI, served with no internet."""

from __future__ import annotations

import re


def test_openapi_document_lists_the_masterdata_endpoints(client) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/masterdata/{entity}" in spec["paths"]
    assert "/api/v1/masterdata/{entity}/{key}" in spec["paths"]
    post = spec["paths"]["/api/v1/masterdata/{entity}"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["maxItems"] == 10_000
    assert "ConsumerRow" in spec["components"]["schemas"]
    assert "ivrs_number" in spec["components"]["schemas"]["ConsumerRow"]["properties"]


def test_api_docs_reference_only_local_assets_that_are_served(client) -> None:
    html = client.get("/api/docs").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    for url in assets:
        assert url.startswith("/static/swagger-ui/"), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.data) > 1000
    assert "//" not in "".join(a.removeprefix("/") for a in assets)
    assert "/api/openapi.json" in html


def test_unknown_swagger_asset_is_404(client) -> None:
    assert client.get("/static/swagger-ui/../../config.py").status_code == 404
    assert client.get("/static/swagger-ui/nope.js").status_code == 404
