"""Start a named process, wait until it answers over HTTP, stop a group of them cleanly.

The one process runner of the project: scripts/run_stack.py (`make run`), scripts/prod_stack.py
(`make run-prod`), scripts/run_tests.py (`make test`), the tests that start real servers
(tests/integration, tests/production, tests/actions/test_server.py) and bench/load.py use it.

- Each process gets its own session and process group, so stopping it also stops what it started
  (nginx's workers, Rasa's subprocesses) and a Ctrl-C in the terminal reaches only the parent, which
  then stops the group in order.
- Its output goes to a log file (appended) or, without one, to the terminal.
- Waiting for readiness fails fast: when a process of the group exits first, the error says which
  one, with its exit code and the tail of its log, instead of waiting for the timeout.
- Stopping is terminate, wait, kill: SIGTERM to every group, one shared deadline, SIGKILL to whatever
  is left, and a last SIGKILL to the group so no child outlives its parent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
LOG_TAIL_CHARS = 3000


class ProcessFailed(RuntimeError):
    """A process exited before it was ready, or was not ready in time (the message has its log's tail)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the kernel's choice of an ephemeral port)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers a GET with a success status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class Process:
    """One named process: its command, environment, log file and the URL that answers once it is ready."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    ready_url: Optional[str] = None
    log: Optional[Path] = None  # None: the process writes to this terminal
    cwd: Path = ROOT
    popen: Optional[subprocess.Popen] = field(default=None, repr=False)
    started_at: float = field(default=0.0, repr=False)  # time.monotonic() at start

    def start(self) -> "Process":
        """Starts the process (again, after it stopped) in a new process group."""
        if self.alive():
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        out = self.log.open("a") if self.log is not None else None
        try:
            self.popen = subprocess.Popen(
                list(self.command), cwd=self.cwd, env=dict(self.env), stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT if out is not None else None, start_new_session=True,
            )
        finally:
            if out is not None:
                out.close()  # the child has its own descriptor
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.popen.pid

    @property
    def returncode(self) -> Optional[int]:
        return None if self.popen is None else self.popen.poll()

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def signal(self, signum: int) -> None:
        """Sends ``signum`` to the process's whole group (SIGSTOP/SIGCONT freeze and thaw it)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)

    def wait_ready(self, timeout: float = 240) -> None:
        wait_ready([self], timeout)

    def wait(self, timeout: Optional[float] = None) -> int:
        """Waits until the process exits; returns its exit code (subprocess.TimeoutExpired after ``timeout``)."""
        if self.popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL to the group, then reaped: an abrupt death, as a crash or an OOM kill would be."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        stop_all([self], timeout)


def start(name: str, command: Sequence[str], env: Mapping[str, str], ready_url: Optional[str] = None,
          log: Optional[Path] = None, cwd: Path = ROOT) -> Process:
    """Starts ``command`` as the process ``name`` (see Process); returns it running, not yet ready."""
    return Process(name, command, env, ready_url, log, cwd).start()


def failure(process: Process, what: str) -> ProcessFailed:
    tail = process.log_tail()
    return ProcessFailed(f"{process.name} {what}" + (f"; the end of {process.log}:\n{tail}" if tail else ""))


def wait_ready(processes: Sequence[Process], timeout: float = 240, poll_seconds: float = 0.2) -> None:
    """Returns once every process with a ready URL answers it, in order.

    Raises ProcessFailed as soon as any process of ``processes`` has exited (with its exit code and
    log tail), or when the time is up (naming the one not ready).
    """
    deadline = time.monotonic() + timeout
    for waiting in processes:
        if waiting.ready_url is None:
            continue
        while True:
            for process in processes:
                if not process.alive():
                    raise failure(process, f"exited with code {process.returncode} before "
                                           f"{waiting.name} was ready at {waiting.ready_url}")
            if answers(waiting.ready_url):
                break
            if time.monotonic() > deadline:
                raise failure(waiting, f"not ready at {waiting.ready_url} after {timeout:.0f} s")
            time.sleep(poll_seconds)


def stop_all(processes: Iterable[Process], timeout: float = 20, first_signal: int = signal.SIGTERM) -> None:
    """SIGTERM (or ``first_signal``) to each running group, wait for all within ``timeout``, SIGKILL what is left.

    Processes that were never started or had already exited are skipped (their process group id may
    belong to someone else by now); the groups stopped here lose their leftover children too.
    """
    running_now: List[Process] = [process for process in processes if process.alive()]
    for process in running_now:
        process.signal(first_signal)
    deadline = time.monotonic() + timeout
    for process in running_now:
        assert process.popen is not None
        try:
            process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.popen.wait(timeout=30)
        # The leader has just been reaped; children that ignored SIGTERM or were left behind go with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def start_all(processes: Sequence[Process], timeout: float = 240, stop_timeout: float = 20) -> None:
    """Starts ``processes`` in order and returns once all are ready; when one fails to start or to come up
    (or the wait is interrupted), stops every one of them (reverse order) and raises."""
    try:
        for process in processes:
            process.start()
        wait_ready(processes, timeout)
    except BaseException:
        stop_all(list(reversed(processes)), stop_timeout)
        raise


@contextlib.contextmanager
def running(processes: Sequence[Process], timeout: float = 240, stop_timeout: float = 20):
    """Starts ``processes`` in order, waits until all are ready, yields them, stops them (reverse order)."""
    start_all(processes, timeout, stop_timeout)
    try:
        yield processes
    finally:
        stop_all(list(reversed(processes)), stop_timeout)


def supervise(processes: Sequence[Process], banner: str, what: str, ready_timeout: float = 240) -> int:
    """`make run` and `make run-prod`: start ``processes``, print ``banner`` once every one is ready, keep
    them until Ctrl-C (SIGINT), SIGTERM or the exit of any of them, then stop them all. Returns the exit code."""
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        with running(processes, timeout=ready_timeout):
            print(banner, flush=True)
            while not stopping:
                for process in processes:
                    if not process.alive():
                        print(f"\n{process.name} exited with code {process.returncode}; stopping.", file=sys.stderr)
                        return 1
                time.sleep(0.5)
            print("\nStopping...", flush=True)
            return 0
    except ProcessFailed as error:
        print(f"\n{what} did not come up: {error}", file=sys.stderr)
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
