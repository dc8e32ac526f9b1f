"""gunicorn settings for the webhook server (see docs/operations.md).

    gunicorn -c gunicorn.conf.py 'webhook_server:create_app()'

gunicorn also reads this file by itself when started from the project root. Every value can be
overridden on the command line (`-w 4`, `-b 127.0.0.1:5001`) or by the variables below.

Timeouts, from the inside out: SQLite waits SQLITE_BUSY_TIMEOUT_MS (30 s) for a lock, then the
request answers 503 with Retry-After; the worker timeout is well above that so a worker waiting
on the database is never killed mid-request (which would drop the connection); the graceful
timeout lets requests in flight, and the background work already stored, finish on a restart.
"""

import os

_busy_timeout_s = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "30000")) / 1000

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '5001')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads keep /healthz and other requests answered while one request waits on the database.
# gthread, but a new connection goes to an idle worker when there is one (keep-alive below).
worker_class = os.environ.get(
    "GUNICORN_WORKER_CLASS", "webhook_server.gthread_worker.BalancedThreadWorker"
)
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Worker timeout: must stay above the database busy timeout (checked at start-up below).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", str(int(_busy_timeout_s) + 30)))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Keep-alive: a client (or proxy) that reuses its connection saves a TCP handshake and close
# per request, on both sides (bench/webhook_throughput.py: about 0.3-0.5 ms of CPU per
# request here). The stock gthread worker would let a few long-lived connections pile up
# on one worker; the balanced worker above gives each new connection to an idle one.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# The heartbeat file on tmpfs: a slow disk can otherwise look like a hung worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Access log on stdout: client, request line, status, bytes, duration in ms, delivery id.
# Never the Authorization or X-Hub-Signature headers.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = (
    '%(h)s "%(r)s" %(s)s %(b)s %(M)sms delivery=%({x-atlassian-webhook-identifier}i)s'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

if timeout <= _busy_timeout_s:
    raise SystemExit(
        f"gunicorn timeout {timeout} s must be above the database busy timeout "
        f"{_busy_timeout_s:g} s (SQLITE_BUSY_TIMEOUT_MS), or workers are killed mid-request"
    )
