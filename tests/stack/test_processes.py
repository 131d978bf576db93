"""stack/processes.py, the one process runner: ready when the URL answers, fast failure with the log's
tail, stopping a whole process group (children too); and `make test`'s groups cover every test."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from stack.processes import Process, ProcessFailed, free_port, start, start_all, stop_all, wait_ready
from tests.conftest import ROOT


def python(code: str) -> list:
    return [sys.executable, "-c", textwrap.dedent(code)]


def gone(pid: int) -> bool:
    """No such process, or only its zombie (its parent has not reaped it yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


def wait_for_file(path: Path, seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} was not written"
        time.sleep(0.05)
    return path.read_text()


def test_ready_once_the_url_answers_and_stopped_after(tmp_path):
    port = free_port()
    server = start("http", [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                   {"PATH": "/usr/bin"}, f"http://127.0.0.1:{port}/", tmp_path / "http.log", cwd=tmp_path)
    try:
        server.wait_ready(30)
        assert server.alive()
    finally:
        server.stop(timeout=10)
    assert not server.alive() and server.returncode is not None


def test_a_process_that_exits_fails_the_wait_at_once_with_its_log(tmp_path):
    crashing = Process("crashing", python("import sys; print('listening failed: address in use'); sys.exit(3)"),
                       {}, f"http://127.0.0.1:{free_port()}/", tmp_path / "crashing.log")
    waiting = Process("waiting", python("import time; time.sleep(60)"), {}, f"http://127.0.0.1:{free_port()}/")
    started = time.monotonic()
    try:
        for process in (waiting, crashing):
            process.start()
        with pytest.raises(ProcessFailed) as failed:
            wait_ready([waiting, crashing], timeout=120)
    finally:
        stop_all([waiting, crashing], timeout=5)
    assert time.monotonic() - started < 30
    assert "crashing exited with code 3 before waiting was ready" in str(failed.value)
    assert "listening failed: address in use" in str(failed.value)


def test_starting_a_group_that_does_not_come_up_stops_the_ones_already_running(tmp_path):
    """What the test stacks rely on: a failed start leaves no server of the group behind."""
    port = free_port()
    server = Process("http", [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                     {"PATH": "/usr/bin"}, f"http://127.0.0.1:{port}/", tmp_path / "http.log", cwd=tmp_path)
    crashing = Process("crashing", python("import sys; sys.exit(3)"), {}, f"http://127.0.0.1:{free_port()}/",
                       tmp_path / "crashing.log")
    try:
        with pytest.raises(ProcessFailed, match="crashing exited with code 3"):
            start_all([server, crashing], timeout=60, stop_timeout=5)
        assert server.popen is not None and not server.alive()
    finally:
        stop_all([server, crashing], timeout=5)


def test_a_process_not_ready_in_time_is_named(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/"
    slow = start("slow", python("import time; time.sleep(60)"), {}, url, tmp_path / "slow.log")
    try:
        with pytest.raises(ProcessFailed, match=f"slow not ready at {url} after 1 s"):
            slow.wait_ready(1)
    finally:
        slow.stop(timeout=5)


def test_stopping_takes_the_whole_group_also_what_ignores_sigterm(tmp_path):
    """The parent dies on SIGTERM; its child ignores it and would be left behind without the group's kill."""
    child_pid = tmp_path / "child.pid"
    parent = start("parent", python(f"""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import os, signal, time; "
                          "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                          "open({str(child_pid)!r}, 'w').write(str(os.getpid())); time.sleep(300)"])
        time.sleep(300)
    """), {}, log=tmp_path / "parent.log")
    pid = int(wait_for_file(child_pid))
    parent.stop(timeout=5)
    deadline = time.monotonic() + 10
    while not gone(pid):
        assert time.monotonic() < deadline, "the child outlived its stopped parent"
        time.sleep(0.05)


def test_stopping_kills_a_process_that_ignores_sigterm(tmp_path):
    ready = tmp_path / "ready"
    stubborn = start("stubborn", python(f"""
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        open({str(ready)!r}, "w").write("yes")
        time.sleep(300)
    """), {}, log=tmp_path / "stubborn.log")
    wait_for_file(ready)
    started = time.monotonic()
    stubborn.stop(timeout=1)
    assert not stubborn.alive() and stubborn.returncode == -9
    assert time.monotonic() - started < 10


def test_make_test_groups_cover_every_test_directory_once():
    spec = importlib.util.spec_from_file_location("run_tests", ROOT / "scripts" / "run_tests.py")
    run_tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_tests)
    paths = run_tests.test_paths(ROOT / "tests")
    assert "tests/integration" in paths and "tests/stack" in paths
    assert run_tests.check_groups(run_tests.GROUPS, paths) == []
    assert run_tests.check_groups({"a": ["tests/x"], "b": ["tests/x", "tests/y"]}, ["tests/x", "tests/z"]) == [
        "tests/z is in no test group (scripts/run_tests.py GROUPS)", "tests/x is in more than one test group",
        "tests/y has no tests"]
    # a module run by another group than its directory's: that group ignores it, and it must exist
    moved = {"a": ["tests/stack", "tests/liveagent/test_floor_browser.py"], "b": ["tests/liveagent"]}
    assert run_tests.check_groups(moved, ["tests/stack", "tests/liveagent"]) == []
    assert run_tests.ignored("b", moved) == ["--ignore=tests/liveagent/test_floor_browser.py"]
    assert run_tests.ignored("a", moved) == []
    one = {"a": ["tests/stack", "tests/security/test_openapi_fuzz.py::test_x[sqlite]"], "b": ["tests/security"]}
    assert run_tests.check_groups(one, ["tests/stack", "tests/security"]) == []
    assert run_tests.ignored("b", one) == ["--deselect=tests/security/test_openapi_fuzz.py::test_x[sqlite]"]
    assert run_tests.check_groups({"a": ["tests/stack/test_nothing.py"], "b": ["tests/liveagent"]},
                                  ["tests/liveagent"]) == [
        "tests/stack/test_nothing.py does not exist",
        "tests/stack/test_nothing.py is in group a, but its directory is in no other group"]


def test_a_stuck_test_group_is_interrupted_and_fails_with_where_it_was(tmp_path):
    """A group past GROUP_LIMIT_SECONDS is stopped like a Ctrl-C: its log says which test it was in, the
    other group's result still counts, and make test fails (rather than CI timing out without a word)."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "test_stuck.py").write_text("import time\n\ndef test_waits_forever():\n    time.sleep(600)\n")
    (tmp_path / "test_quick.py").write_text("def test_passes():\n    assert True\n")
    driver = f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("run_tests", {str(ROOT / "scripts" / "run_tests.py")!r})
        run_tests = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(run_tests)
        run_tests.ROOT = run_tests.Path({str(tmp_path)!r})
        run_tests.LOGS = run_tests.ROOT / "results"
        run_tests.GROUPS = {{"stuck": [{str(tmp_path / "test_stuck.py")!r}],
                             "quick": [{str(tmp_path / "test_quick.py")!r}]}}
        run_tests.check_groups = lambda groups, paths: []
        run_tests.ignored = lambda name, groups: []
        run_tests.GROUP_LIMIT_SECONDS = 20  # the quick group ends well before, even on a busy machine
        sys.exit(run_tests.main(["-p", "no:cacheprovider", "-o", "timeout=0"]))
    """
    started = time.monotonic()
    done = subprocess.run(python(driver), cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, done.stdout + done.stderr
    assert time.monotonic() - started < 90
    assert "tests:stuck: still running after 20 s; interrupting it" in done.stdout
    assert "test_stuck.py:4: KeyboardInterrupt" in done.stdout  # the line it was stuck on
    assert "quick passed" in done.stdout and "stuck FAILED" in done.stdout
