"""The HTTP side: Jira webhooks, usage-event ingest, health. Views are thin over core."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from core.config import get_settings


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Application factory (`gunicorn 'webhook_server:create_app()'`)."""
    settings = get_settings()
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_content_length,
        START_WORKER=True,
        WORKER_INTERVAL_SECONDS=5.0,
    )
    if overrides:
        app.config.update(overrides)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    from webhook_server import analytics, errors, health, jira_webhook, openapi

    app.register_blueprint(health.bp)
    app.register_blueprint(jira_webhook.bp)
    app.register_blueprint(analytics.bp)
    app.register_blueprint(openapi.bp)
    errors.register(app)
    _serve_requests_before_background_work(app)

    if app.config["START_WORKER"] and not app.testing:
        from webhook_server.worker import start_worker

        start_worker(app.config["WORKER_INTERVAL_SECONDS"])
    return app


def _serve_requests_before_background_work(app: Flask) -> None:
    """Background work waits while requests are answered: after-commit tasks while this
    process answers, webhook processing paced while any process of this host does.

    A plain Jira webhook POST is answered here without Flask's request machinery
    (`jira_webhook.serve_plain`); every other request goes to Flask."""
    from core import background, pacing
    from webhook_server import jira_webhook

    wsgi_app = app.wsgi_app

    def marked(environ, start_response):  # noqa: ANN001, ANN202
        settings = get_settings()
        url = settings.sqlalchemy_url
        with background.serving_request(), pacing.serving_request(url):
            if (
                environ.get("PATH_INFO") == jira_webhook.PATH
                and environ["REQUEST_METHOD"] == "POST"
            ):
                limit = app.config.get("MAX_CONTENT_LENGTH") or settings.max_content_length
                answered = jira_webhook.serve_plain(environ, start_response, limit=int(limit))
                if answered is not None:
                    return answered
            return wsgi_app(environ, start_response)

    app.wsgi_app = marked  # type: ignore[method-assign]
