from __future__ import annotations

from core.config import reset_settings
from core.db import dispose_engines
from webhook_server import create_app


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}


def test_readyz_reports_an_unreachable_database(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    reset_settings()
    client = create_app({"TESTING": True, "START_WORKER": False}).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert "nobody" not in response.get_data(as_text=True)
    dispose_engines()


def test_unknown_route_is_json_404(client):
    response = client.get("/nope")
    assert response.status_code == 404 and response.json["error"] == "Not Found"
