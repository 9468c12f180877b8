"""Jobs: the long actions of the API and the console (a VM's move, a discovery session).

Rule: a job is a row (``jobs``): its state (running, done, failed), progress (``done`` of
``total``), last message and log are written as it goes, each in a short transaction of its
own, so any web node on the same database answers for a job another node runs. The work runs
in a thread of the process that started it (``node``, ``pid``); a job whose process is gone
reads as failed. ``start`` returns at once with the job's id.

Two kinds of work: a function of the service layer given a ``Reporter`` (``move``), or a
ksserver command in a process of its own whose JSON lines are the log (``insert ethers``;
the caller passes the command line, so this layer knows no CLI). Stopping a command's job
sends it SIGTERM, which ends an insert-ethers session as F8 would.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from sqlalchemy import select, update

from ksserver.db.models import Job
from ksserver.db.session import transaction
from ksserver.errors import KsError, NotFound
from ksserver.services.when import shown

log = logging.getLogger("ksserver.jobs")
RUNNING, DONE, FAILED = "running", "done", "failed"
_EVERY = 0.25  # seconds between progress writes of one job
_LOG_MAX = 64 * 1024
_procs: dict[int, subprocess.Popen] = {}
_lock = threading.Lock()


def _node() -> str:
    return socket.gethostname()


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Reporter:
    """What a job's work calls as it goes; writes are throttled to a few a second."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._last = 0.0

    def progress(self, done: int, total: int, message: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < _EVERY:
            return
        self._last = now
        _write(self.job_id, done=int(done), total=int(total), message=message[:1000])

    def line(self, text: str) -> None:
        with transaction() as s:
            job = s.get(Job, self.job_id)
            job.log = (job.log + text.rstrip("\n") + "\n")[-_LOG_MAX:]


def _write(job_id: int, **values) -> None:
    with transaction() as s:
        s.execute(update(Job).where(Job.id == job_id).values(**values))


def _create(kind: str, target: str) -> int:
    with transaction() as s:
        job = Job(kind=kind, target=target, state=RUNNING, done=0, total=0, message="", log="", node=_node(),
                  pid=os.getpid(), started=_now())
        s.add(job)
        s.flush()
        return job.id


def _finish(job_id: int, state: str, message: str) -> None:
    _write(job_id, state=state, message=" ".join(message.split())[:1000], ended=_now())


def start(kind: str, target: str, work: Callable[[Reporter], str]) -> int:
    """Run ``work(reporter)`` in a thread; its return is the job's last message, a ``KsError``
    it raises the job's failure (one line), anything else a logged internal error."""
    job_id = _create(kind, target)

    def run() -> None:
        try:
            message = work(Reporter(job_id))
        except KsError as err:
            _finish(job_id, FAILED, err.message)
        except Exception as err:  # noqa: BLE001 - the job says it failed; the log has the rest
            log.exception("job %s (%s %s) failed", job_id, kind, target)
            _finish(job_id, FAILED, f"internal error: {type(err).__name__}")
        else:
            _finish(job_id, DONE, message or "done")

    threading.Thread(target=run, name=f"job-{job_id}", daemon=True).start()
    return job_id


def start_command(kind: str, target: str, argv: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Run a ksserver command line in a process of its own; each line it prints is logged,
    and its last line (or its error) is the job's message."""
    job_id = _create(kind, target)
    try:
        proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    except OSError as err:
        _finish(job_id, FAILED, f"cannot run {argv[0]}: {err.strerror}")
        return job_id
    with _lock:
        _procs[job_id] = proc
    _write(job_id, pid=proc.pid)

    def run() -> None:
        last = ""
        reporter = Reporter(job_id)
        for line in proc.stdout:
            if line.strip():
                last = line.strip()
                reporter.line(last)
        code = proc.wait()
        with _lock:
            _procs.pop(job_id, None)
        stopped = code in (-signal.SIGTERM, 143)
        _finish(job_id, DONE if code == 0 or stopped else FAILED, last or f"exit status {code}")

    threading.Thread(target=run, name=f"job-{job_id}", daemon=True).start()
    return job_id


def stop(session, job_id: int) -> None:
    """End a running command's job (SIGTERM); only the node that runs it can."""
    job = _job(session, job_id)
    if job.state != RUNNING:
        raise KsError(f"job {job_id} is not running ({job.state})")
    with _lock:
        proc = _procs.get(job_id)
    if proc is None and job.node == _node() and job.pid == os.getpid():
        raise KsError(f"job {job_id} ({job.kind} {job.target}) cannot be stopped: it runs to its end")
    if proc is None:
        raise KsError(f"job {job_id} runs on {job.node} (process {job.pid}); stop it there")
    proc.terminate()


def stop_all() -> None:
    """End every command this process runs for a job (a web worker that exits: nobody would
    read their output any more)."""
    with _lock:
        procs = list(_procs.values())
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _job(session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    return job


def _alive(job: Job) -> bool:
    if job.state != RUNNING or job.node != _node() or job.pid is None:
        return True  # another machine's: its own node knows
    try:
        os.kill(job.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def record(job: Job) -> dict:
    state, message = job.state, job.message
    if not _alive(job):
        state, message = FAILED, f"its process ({job.pid} on {job.node}) is gone"
    return {"id": job.id, "kind": job.kind, "target": job.target, "state": state, "done": job.done,
            "total": job.total, "percent": round(100 * job.done / job.total) if job.total else (100 if state == DONE else 0),
            "message": message, "log": job.log.splitlines(), "started": shown(job.started), "ended": shown(job.ended)}


def get(session, job_id: int) -> dict:
    return record(_job(session, job_id))


def recent(session, kind: str | None = None, limit: int = 20) -> list[dict]:
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    return [record(j) for j in session.scalars(stmt)]


def events(job: dict) -> list[dict]:
    """A command job's JSON lines (insert-ethers' events), the rest skipped."""
    out = []
    for line in job["log"]:
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            out.append(item)
    return out
