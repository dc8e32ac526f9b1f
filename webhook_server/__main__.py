"""Development server: `python -m webhook_server` (production: gunicorn, see README)."""

from core.config import get_settings
from webhook_server import create_app

if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=get_settings().port, threaded=True)
