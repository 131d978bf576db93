"""`make test`: the whole suite as independent groups, run side by side by stack/processes.py.

The machine has two cores and most of the suite's time is spent waiting on real servers (Rasa,
the action server, the live-agent service, chromium, nginx, PostgreSQL), so two pytest processes
finish well before one. The groups share nothing a test needs for itself:

- "models": everything that loads the trained model or starts Rasa (integration, NLU regression,
  content publishing, components) and works on SQLite files of its own;
- "services": everything that uses PostgreSQL or Redis (tests/production restarts both, so no other
  group may use them meanwhile), the live-agent service, the action server and the Rasa patches;
  the service's browser tests, the HTTP API fuzz test on SQLite and a few other modules that need
  neither run in "models" to even out the two.

Each group has its own pytest temporary directory and cache; free ports come from the kernel
(stack.processes.free_port). Every directory with tests must be in exactly one group (checked at
start, so a new directory is never silently left out). Each group's output goes to
results/tests/<group>.log and is printed when the group ends (each test's time is in
results/tests/<group>.xml, JUnit); the exit code is 0 only when every group passed. Arguments are
passed to every group's pytest (e.g. `-x`, `-k name`, `--durations=40`);
`--serial` runs the groups one after the other (to measure a group alone).

Usage: python scripts/run_tests.py [--serial] [pytest arguments]
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stack.processes import Process, stop_all  # noqa: E402

# The service's browser tests run on SQLite files of their own (no PostgreSQL, no Redis): they balance the
# groups from "models". A test module inside another group's directory is run only by the group naming it
# (the directory's group passes --ignore for it).
SERVICE_PAGES = ("tests/liveagent/test_floor_browser.py", "tests/liveagent/test_console_browser.py",
                 "tests/liveagent/test_widget_browser.py", "tests/liveagent/test_assist_browser.py",
                 "tests/liveagent/test_feedback_browser.py", "tests/liveagent/test_editor_feedback_browser.py",
                 "tests/liveagent/test_insights_browser.py", "tests/liveagent/test_assignment_console.py")
# The HTTP API fuzz test on SQLite (a third of the "services" group's time) evens them out too; its
# PostgreSQL twin stays in "services". A test (pytest node id) taken by another group is deselected in its own.
SQLITE_FUZZ = "tests/security/test_openapi_fuzz.py::test_schemathesis_finds_nothing_wrong_with_the_http_api[sqlite]"
# So do the Rasa patches' tests and two modules of subprocesses and waits, which use neither PostgreSQL nor Redis
# (the Rasa patches' erasure test uses both: it stays in "services").
NO_DATABASES = ("tests/rasa_runtime", "tests/liveagent/test_service_loop.py", "tests/security/test_fail_closed.py")
GROUPS: Dict[str, Sequence[str]] = {
    "models": ("tests/integration", "tests/nlu", "tests/content", "tests/components", "tests/privacy_ner",
               "tests/stack", "tests/test_project.py", *SERVICE_PAGES, SQLITE_FUZZ, *NO_DATABASES),
    "services": ("tests/production", "tests/liveagent", "tests/security", "tests/actions",
                 "tests/rasa_runtime/test_erasure.py", "tests/lumo_shared", "tests/test_architecture.py"),
}
LOGS = ROOT / "results" / "tests"
# A group still running after this long is stuck (each takes about 7 minutes here; CI gives up after 90 minutes,
# install and training included): it is interrupted like a Ctrl-C, so pytest reports where it was, and fails.
GROUP_LIMIT_SECONDS = 40 * 60
NOTHING_SELECTED = 5  # pytest's exit code when arguments such as -k select no test of a group


def test_paths(tests: Path) -> List[str]:
    """Every directory or top-level module of ``tests`` that holds tests (relative to the checkout)."""
    found = []
    for entry in sorted(tests.iterdir()):
        if entry.is_dir() and any(entry.rglob("test_*.py")):
            found.append(f"tests/{entry.name}")
        elif entry.is_file() and entry.name.startswith("test_") and entry.suffix == ".py":
            found.append(f"tests/{entry.name}")
    return found


def is_moved(member: str) -> bool:
    """A test module inside a test directory, or one test (a node id): run by its own group, not its
    directory's."""
    return "::" in member or member.count("/") > 1


def inside(path: str, members: Sequence[str]) -> bool:
    """``path`` lies in one of the directories ``members``."""
    return any(path.startswith(f"{member}/") for member in members)


def check_groups(groups: Dict[str, Sequence[str]], paths: Sequence[str], root: Path = ROOT) -> List[str]:
    """What is wrong with ``groups``: tests in no group, in two, or paths that do not exist; a module moved
    to a group must exist, and its directory must be in another group."""
    assigned = [path for members in groups.values() for path in members]
    problems = [f"{path} is in no test group (scripts/run_tests.py GROUPS)" for path in paths if path not in assigned]
    problems += [f"{path} is in more than one test group" for path in sorted(set(assigned))
                 if assigned.count(path) > 1]
    problems += [f"{path} has no tests" for path in assigned if path not in paths and not is_moved(path)]
    for name, members in groups.items():
        for path in filter(is_moved, members):
            if not (root / path.partition("::")[0]).is_file():
                problems.append(f"{path} does not exist")
            if not any(inside(path, others) for group, others in groups.items() if group != name):
                problems.append(f"{path} is in group {name}, but its directory is in no other group")
    return problems


def ignored(name: str, groups: Dict[str, Sequence[str]]) -> List[str]:
    """The --ignore and --deselect options of group ``name``: the modules and tests other groups took from
    its directories."""
    return [f"--deselect={path}" if "::" in path else f"--ignore={path}"
            for group, members in groups.items() if group != name
            for path in filter(is_moved, members) if inside(path, groups[name])]


def group_process(name: str, members: Sequence[str], pytest_args: Sequence[str], temp: Path) -> Process:
    command = [sys.executable, "-m", "pytest", *members, *ignored(name, GROUPS), f"--basetemp={temp / name}",
               "-o", f"cache_dir=.pytest_cache/{name}", f"--junitxml={LOGS / name}.xml", *pytest_args]
    return Process(f"tests:{name}", command, dict(os.environ), log=LOGS / f"{name}.log")


def main(argv: Sequence[str]) -> int:
    serial = "--serial" in argv
    pytest_args = [arg for arg in argv if arg != "--serial"]
    problems = check_groups(GROUPS, test_paths(ROOT / "tests"))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    LOGS.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix="lumo-tests-"))
    processes = [group_process(name, members, pytest_args, temp) for name, members in GROUPS.items()]
    for process in processes:
        assert process.log is not None
        process.log.write_text("", encoding="utf-8")
    started = time.monotonic()
    took: Dict[str, float] = {}
    interrupted = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        to_start = list(processes)
        running: List[Process] = []
        while (to_start or running) and not interrupted:
            while to_start and not (serial and running):
                process = to_start.pop(0)
                print(f"{process.name}: pytest {' '.join(process.command[3:])}", flush=True)
                running.append(process.start())
            for process in [process for process in running if process.alive()
                            and time.monotonic() - process.started_at > GROUP_LIMIT_SECONDS]:
                print(f"{process.name}: still running after {GROUP_LIMIT_SECONDS} s; interrupting it", flush=True)
                stop_all([process], timeout=120, first_signal=signal.SIGINT)
            for process in [process for process in running if not process.alive()]:
                running.remove(process)
                took[process.name] = time.monotonic() - process.started_at
                print(process.log_tail(chars=10**9), flush=True)
                print(f"{process.name}: exit code {process.returncode} after {took[process.name]:.0f} s", flush=True)
            time.sleep(0.5)
    finally:
        # SIGINT, as a Ctrl-C: pytest runs its fixtures' teardown, which stops the servers they started
        stop_all(processes, timeout=120, first_signal=signal.SIGINT)
    if interrupted:
        print("Interrupted; every group stopped.", file=sys.stderr)
        return 130
    codes = {process.name: process.returncode for process in processes}
    outcome = {0: "passed", NOTHING_SELECTED: "selected no test"}
    summary = ", ".join(f"{name} {outcome.get(code, f'FAILED (exit code {code})')} in {took[name]:.0f} s"
                        for name, code in codes.items())
    print(f"\nmake test: {summary}; {time.monotonic() - started:.0f} s in all (logs: {LOGS.relative_to(ROOT)}/)")
    return 0 if all(code in outcome for code in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
