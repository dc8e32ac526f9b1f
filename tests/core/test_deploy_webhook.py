"""Standard Webhooks signing of the deploy notification."""

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import deploy_webhook


def test_signature_matches_the_standard_webhooks_definition():
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef").decode()
    signature = deploy_webhook.sign(secret, message_id="msg_1", timestamp=1700000000, body=b"{}")
    expected = hmac.new(b"0123456789abcdef", b"msg_1.1700000000.{}", hashlib.sha256).digest()
    assert signature == "v1," + base64.b64encode(expected).decode()


@pytest.fixture
def receiver():
    received: list[tuple[dict, bytes]] = []
    answer = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(answer["status"])
            self.end_headers()
            self.wfile.write(b"nope" if answer["status"] >= 300 else b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/deploy", received, answer
    server.shutdown()
    server.server_close()


def test_send_posts_signed_json(receiver):
    url, received, _ = receiver
    result = deploy_webhook.send(url, "topsecret", {"agent_id": 3, "version": 2})
    assert result.ok and result.status == 200
    headers, body = received[0]
    assert json.loads(body) == {"agent_id": 3, "version": 2}
    assert deploy_webhook.verify("topsecret", headers=headers, body=body)
    assert not deploy_webhook.verify("other", headers=headers, body=body)
    assert not deploy_webhook.verify("topsecret", headers=headers, body=body + b" ")


def test_non_2xx_is_a_failure_with_the_reason(receiver):
    url, _, answer = receiver
    answer["status"] = 500
    result = deploy_webhook.send(url, "topsecret", {"agent_id": 3})
    assert not result.ok
    assert "500" in result.error


def test_unreachable_is_a_failure():
    result = deploy_webhook.send("http://127.0.0.1:9/none", "s", {}, timeout=2)
    assert not result.ok and "unreachable" in result.error
