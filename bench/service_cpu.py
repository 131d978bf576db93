"""The live-agent service's own CPU per visitor message, with Rasa replaced by the tests' fake Rasa.

bench/load.py measures the whole stack, where our Rasa's ~50-90 ms per message dominate the machine
and make the service's share noisy. Here the service (``python -m liveagent serve``) answers
closed-loop Socket.IO visitors with tests/liveagent/fake_rasa.py behind it (an answer costs it well
under a millisecond), so the service's CPU time per answered message (user + system of all its
threads, from /proc) is what the service itself spends: Socket.IO, the database, JSON, status.
With ``--profile FILE`` the service runs under cProfile and its statistics are written to FILE
(look at them with ``python -m pstats FILE``).

Run: python bench/service_cpu.py [--visitors 1,20] [--seconds 20] [--idle 10] [--profile /tmp/service.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import RASA_SECRET, SECRET, Result, Stack, cpu_seconds, free_port, message_mix, run_level, wait_ready  # noqa: E402

PROFILED = """
import cProfile, sys, time
from liveagent.__main__ import main
profile = cProfile.Profile(time.thread_time)
try:
    profile.runcall(main, ["serve"])
finally:
    profile.dump_stats(sys.argv[1])
"""


def main_thread_seconds(pid: int) -> float:
    """CPU time of the process's main thread (the event loop), from /proc."""
    with open(f"/proc/{pid}/task/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main_async(args: argparse.Namespace) -> int:
    levels: List[int] = [int(v) for v in args.visitors.split(",")]
    texts = message_mix()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        stack = Stack(tmp)
        try:
            rasa_port, service_port = free_port(), free_port()
            rasa = stack.start("fake-rasa", [sys.executable, str(ROOT / "tests" / "liveagent" / "fake_rasa.py"),
                                             str(rasa_port), RASA_SECRET],
                               ready_url=f"http://127.0.0.1:{rasa_port}/_log")
            await wait_ready(rasa)
            command = [sys.executable, "-m", "liveagent", "serve"]
            if args.profile:  # the event loop's thread, by its own CPU time (not wall-clock, not other threads')
                command = [sys.executable, "-c", PROFILED, args.profile]
            url = f"http://127.0.0.1:{service_port}"
            service = stack.start("liveagent", command, {
                "LIVEAGENT_SECRET": SECRET, "LIVEAGENT_PORT": str(service_port),
                "LIVEAGENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/liveagent.sqlite",
                "LIVEAGENT_RASA_URL": f"http://127.0.0.1:{rasa_port}", "LIVEAGENT_ALLOWED_ORIGINS": url,
                "LIVEAGENT_PUBLIC_URL": url, "LIVEAGENT_ALWAYS_OPEN": "1", "LIVEAGENT_DEMO_PASSWORD": "bench-pw",
                "LIVEAGENT_QUEUE_CAPACITY": "500", "LIVEAGENT_LIMIT_CONNECTIONS": "0",
                "LIVEAGENT_LIMIT_MESSAGES": "0", "LIVEAGENT_LIMIT_SESSION_REQUESTS": "0",
                "LIVEAGENT_MAX_SOCKETS_PER_ADDRESS": "0",
            }, ready_url=f"{url}/health")
            await wait_ready(service)
            await run_level("full", url, 1, 3, texts)  # warm-up: imports, pools, first queries
            if args.idle:  # what the service spends with nobody writing (sweeps, session checks, timers)
                before = cpu_seconds(service)
                await asyncio.sleep(args.idle)
                print(f"idle: {(cpu_seconds(service) - before) * 1000 / args.idle:.1f} ms CPU per second", flush=True)
            for level in levels:
                before, driver_before = cpu_seconds(service), time.process_time()
                loop_before = main_thread_seconds(service.popen.pid)
                result: Result = await run_level("full", url, level, args.seconds, texts)
                answered = max(1, len(result.latencies))
                service_ms = (cpu_seconds(service) - before) * 1000 / answered
                loop_ms = (main_thread_seconds(service.popen.pid) - loop_before) * 1000 / answered
                driver_ms = (time.process_time() - driver_before) * 1000 / answered
                print(f"{level} visitor(s): {len(result.latencies)} answered, p50 {result.percentile(50):.1f} ms, "
                      f"p95 {result.percentile(95):.1f} ms, errors {result.errors}, empty {result.empty}; "
                      f"CPU ms per message: service {service_ms:.2f} (event loop {loop_ms:.2f}), "
                      f"driver {driver_ms:.2f}", flush=True)
            if args.profile:  # SIGINT: Sanic stops, cProfile writes its statistics
                service.popen.send_signal(signal.SIGINT)
                service.popen.wait(timeout=30)
        finally:
            stack.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="The live-agent service's CPU per visitor message")
    parser.add_argument("--visitors", default="1,20")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of no traffic measured first (0: none)")
    parser.add_argument("--profile", default="", help="run the service under cProfile, statistics to this file")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
