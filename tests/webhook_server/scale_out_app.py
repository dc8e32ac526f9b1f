"""The webhook server as the scale-out test runs it: every periodic job run is recorded.

`gunicorn 'tests.webhook_server.scale_out_app:create_app()'`: the real app and the real jobs
(core.jobs.JOBS), each wrapped to append `{"job", "pid", "start", "end", "ok"}` as a JSON line to
SCALE_OUT_JOB_LOG, and run every 0.2 s (default 5 s) so a short test sees many rounds.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import replace

from core import jobs

_TARGETS: dict[str, jobs.Job] = {}


def create_app():  # noqa: ANN201
    from webhook_server import create_app as real_create_app

    for index, job in enumerate(jobs.JOBS):
        attribute = f"recorded_job_{index}"
        _TARGETS[attribute] = job
        jobs.JOBS[index] = replace(job, target=f"{__name__}:{attribute}")
    return real_create_app({"WORKER_INTERVAL_SECONDS": 0.2})


def __getattr__(attribute: str) -> Callable[[], object]:
    """`Job.load` resolves `module:recorded_job_N` here: the real job, recorded."""
    if attribute not in _TARGETS:
        raise AttributeError(attribute)
    job = _TARGETS[attribute]

    def run() -> object:
        start, ok = time.time(), False
        try:
            result = job.load()()
            ok = True
            return result
        finally:
            line = {"job": job.name, "pid": os.getpid(), "start": start, "end": time.time()}
            line["ok"] = ok
            with open(os.environ["SCALE_OUT_JOB_LOG"], "a") as log:
                log.write(json.dumps(line) + "\n")

    return run
