"""Load benchmark: the full stack over Socket.IO against plain `rasa run`, side by side in one run.

Targets (issue 5), on the same machine in the same run:
- plain: `rasa run` (REST channel) serving a model trained with Rasa's default configuration
  (bench/configs/rasa_default.yml: default pipeline AND default policies) on our data, with our
  action server;
- full: widget protocol (Socket.IO) -> live-agent service -> our Rasa (python -m rasa_runtime) ->
  action server, as `make run` wires them;
- direct: the same Rasa of ours over its REST channel, without the service: full - direct is what
  the service's hop costs.

Visitors are asyncio tasks in a closed loop (each sends its next message when the previous one was
answered). The message mix is the held-out Finnish phrasings (tests/nlu/heldout*.yml, ~600 distinct
texts) without requests for a human; every visitor starts a new conversation every five messages.
Before the levels, each Rasa (plain and ours) is timed from process start to its first answer on the
REST channel and then sent 1,000 distinct Finnish messages one after another (tests/nlu/*.yml, then
training examples from data/nlu), after which its resident memory (VmRSS, VmHWM) is read and whether
TensorFlow is mapped into it (issue 12: at most 800 MB, first answer within 20 s).
Reported per level (1, 20, 100, 200 visitors): p50/p95/p99 latency, messages per second, errors,
empty replies; then the agent relay (visitor -> agent -> visitor with 50 chats), resident memory of
every process, start-up to first answer and training time. Writes the "Load" section of
bench/REPORT.md and bench/charts/*.png. The driver shares the machine's two cores with the servers;
its own cost is part of every figure, on both sides alike.

Run: make bench-load   (or python bench/load.py --levels 1,20 --seconds 10 for a quick look;
python bench/load.py --footprint-only for the start-up and memory figures alone, ~3 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.nlu_eval import HELDOUT, HELDOUT_TYPOS, OUT_OF_SCOPE_PROBE, load_examples  # noqa: E402
from bench.report import write_section  # noqa: E402
from stack.processes import Process, free_port, start, stop_all  # noqa: E402
from stack.processes import wait_ready as wait_until_ready  # noqa: E402

BIN = Path(sys.executable).parent
CHARTS = ROOT / "bench" / "charts"
OURS = ROOT / "models" / "lumo.tar.gz"
BASELINE = ROOT / "models" / "bench" / "rasa-default.tar.gz"
SECRET = "bench-service-secret-0123456789abcdefghijkl"
RASA_SECRET = "bench-rasa-jwt-secret-0123456789abcdef"
JWT_KEY = "bench-identity-key-0123456789abcdefghijklmnop"
ACTION_SERVER_TOKEN = "bench-action-server-token-0123456789abcdef"
PASSWORD = "bench-agent-password"
MESSAGES_PER_CONVERSATION = 5
REPLY_TIMEOUT = 30.0
KINDS = ("plain", "direct", "full")


# -- processes ---------------------------------------------------------------------------------------


def rss_mb(process: Process) -> Tuple[float, float]:
    """(current, peak) resident memory in MB, from /proc."""
    values = {}
    try:
        with open(f"/proc/{process.pid}/status", encoding="ascii") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0]) / 1024
    except OSError:
        return 0.0, 0.0
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def tensorflow_loaded(process: Process) -> bool:
    """Whether TensorFlow's libraries are mapped into the process."""
    try:
        with open(f"/proc/{process.pid}/maps", encoding="ascii", errors="replace") as handle:
            return any("site-packages/tensorflow/" in line for line in handle)
    except OSError:
        return False


def cpu_seconds(process: Process) -> float:
    """User + system CPU time of the process (all its threads), from /proc."""
    try:
        with open(f"/proc/{process.pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Stack:
    """The benchmark's processes (stack/processes.py), each logging to the run's temporary directory."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: List[Process] = []
        # LUMO_ENV=demo: the service's demo agents log in (bench traffic is anonymous visitors)
        self.env = {**os.environ, "LUMO_ENV": "demo", "TF_CPP_MIN_LOG_LEVEL": "2", "LUMO_JWT_KEY": JWT_KEY,
                    "LUMO_ACCOUNTS_DATABASE_URL": f"sqlite:///{tmp}/accounts.sqlite",
                    "RASA_JWT_SECRET": RASA_SECRET, "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
                    "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}

    def start(self, name: str, command: List[str], env: Optional[Dict[str, str]] = None,
              ready_url: Optional[str] = None) -> Process:
        process = start(name, command, {**self.env, **(env or {})}, ready_url, self.tmp / f"{name}.log")
        self.procs.append(process)
        return process

    def stop(self) -> None:
        stop_all(self.procs)


async def wait_ready(process: Process, timeout: float = 300) -> None:
    """Until the process answers its ready URL (in a thread: the event loop keeps running)."""
    await asyncio.to_thread(wait_until_ready, [process], timeout)


def endpoints_file(tmp: Path, actions_port: int) -> Path:
    path = tmp / f"endpoints-{actions_port}.yml"
    path.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
                    "  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n", encoding="utf-8")
    return path


# -- the message mix -----------------------------------------------------------------------------------


def message_mix() -> List[str]:
    texts = [text for path in (HELDOUT, HELDOUT_TYPOS) for text, label in load_examples(path)
             if label not in ("request_human",)]
    return list(dict.fromkeys(texts))


FOOTPRINT_MESSAGES = 1000


def footprint_texts(count: int) -> List[str]:
    """``count`` distinct Finnish messages: the held-out test phrasings first, then training examples."""
    paths = [HELDOUT, HELDOUT_TYPOS, OUT_OF_SCOPE_PROBE, *sorted((ROOT / "data" / "nlu").rglob("*.yml"))]
    texts = list(dict.fromkeys(text for path in paths for text, _label in load_examples(path)))
    if len(texts) < count:
        raise SystemExit(f"only {len(texts)} distinct phrasings for a footprint of {count} messages")
    return texts[:count]


@dataclass
class Footprint:
    """A Rasa process after start-up and ``messages`` distinct messages."""

    start_seconds: float  # process start to the first answer on the REST channel
    rss_mb: float
    peak_mb: float
    tensorflow: bool
    messages: int
    answered: int  # HTTP 200 (an answer may be empty when an action server is slow)

    def line(self, name: str) -> str:
        return (f"- {name}: first answer {self.start_seconds:.1f} s after start; after {self.messages} distinct "
                f"messages {self.rss_mb:.0f} MB resident, {self.peak_mb:.0f} MB peak; TensorFlow "
                f"{'loaded' if self.tensorflow else 'not loaded'}")


async def footprint(url: str, process: Process, texts: List[str]) -> Footprint:
    """Start-up to first answer, then ``texts`` one after another (five per conversation), then memory."""
    start_seconds = await first_answer("direct", url, process)
    answered = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REPLY_TIMEOUT)) as session:
        for index, text in enumerate(texts):
            body = {"sender": f"footprint-{index // MESSAGES_PER_CONVERSATION}", "message": text}
            try:
                async with session.post(f"{url}/webhooks/rest/webhook", json=body) as response:
                    await response.read()
                    answered += response.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                pass
    rss, peak = rss_mb(process)
    return Footprint(start_seconds, rss, peak, tensorflow_loaded(process), len(texts), answered)


# -- drivers ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    latencies: List[float] = field(default_factory=list)  # seconds, answered messages
    errors: int = 0
    empty: int = 0
    seconds: float = 0.0
    cpu: Dict[str, float] = field(default_factory=dict)  # CPU seconds per process during the level

    def cpu_ms_per_message(self, name: str) -> float:
        return self.cpu.get(name, 0.0) * 1000 / len(self.latencies) if self.latencies else float("nan")

    def add(self, other: "Result") -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.empty += other.empty

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


async def rest_visitor(url: str, texts: List[str], stop_at: float, seed: int, result: Result,
                       session: aiohttp.ClientSession) -> None:
    rng = random.Random(seed)
    conversation = 0
    while time.monotonic() < stop_at:
        conversation += 1
        sender = f"bench-{seed}-{conversation}"
        for _ in range(MESSAGES_PER_CONVERSATION):
            if time.monotonic() >= stop_at:
                return
            started = time.monotonic()
            try:
                async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender,
                                        "message": rng.choice(texts)}) as response:
                    body = await response.json(content_type=None)
                    if response.status != 200:
                        result.errors += 1
                        continue
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
                result.errors += 1
                continue
            if not any(m.get("text") for m in body or []):
                result.empty += 1
            else:
                result.latencies.append(time.monotonic() - started)


# Agent chats are people typing: each side waits 0.5-2.5 s (uniform, seeded) before its next
# message, so 50 chats send about 33 messages a second between them, not all in the same instant.
THINK_SECONDS = (0.5, 2.5)
QUIET = 0.02  # the service emits all messages of one answer back to back; 20 ms of silence ends it


async def drain(replies: asyncio.Queue) -> None:
    """Consume the rest of a multi-message answer, so it is not taken for the next reply."""
    while True:
        try:
            await asyncio.wait_for(replies.get(), QUIET)
        except asyncio.TimeoutError:
            return


async def socketio_visitor(url: str, texts: List[str], stop_at: float, seed: int, result: Result) -> None:
    rng = random.Random(seed)
    while time.monotonic() < stop_at:
        client = socketio.AsyncClient(reconnection=False)
        replies: asyncio.Queue = asyncio.Queue()
        confirmed = asyncio.Event()
        client.on("session_confirm", lambda _data, confirmed=confirmed: confirmed.set())

        async def on_bot(data: dict, replies: asyncio.Queue = replies) -> None:
            await replies.put(data)

        client.on("bot_uttered", on_bot)
        try:
            await client.connect(url, headers={"Origin": url}, transports=["websocket"], wait_timeout=20)
            await client.emit("session_request", {"session_id": None})
            await asyncio.wait_for(confirmed.wait(), REPLY_TIMEOUT)
        except (socketio.exceptions.ConnectionError, asyncio.TimeoutError, OSError):
            result.errors += 1
            await client.disconnect()
            await asyncio.sleep(0.5)
            continue
        try:
            for _ in range(MESSAGES_PER_CONVERSATION):
                if time.monotonic() >= stop_at:
                    break
                while not replies.empty():
                    replies.get_nowait()
                started = time.monotonic()
                await client.emit("user_uttered", {"message": rng.choice(texts)})
                try:
                    reply = await asyncio.wait_for(replies.get(), REPLY_TIMEOUT)
                except asyncio.TimeoutError:
                    result.empty += 1
                    continue
                latency = time.monotonic() - started
                await drain(replies)
                if reply.get("text"):
                    result.latencies.append(latency)
                else:
                    result.empty += 1
        finally:
            await client.disconnect()


async def run_level(kind: str, url: str, visitors: int, seconds: float, texts: List[str]) -> Result:
    result = Result()
    stop_at = time.monotonic() + seconds
    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=REPLY_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        if kind in ("plain", "direct"):
            tasks = [rest_visitor(url, texts, stop_at, seed, result, session) for seed in range(visitors)]
        else:
            tasks = [socketio_visitor(url, texts, stop_at, seed, result) for seed in range(visitors)]
        await asyncio.gather(*tasks)
    result.seconds = time.monotonic() - started
    return result


# -- the agent relay -------------------------------------------------------------------------------------


async def relay(url: str, chats: int, rounds: int = 5) -> Tuple[Result, Result]:
    """visitor -> agent and agent -> visitor latency with ``chats`` conversations held by agents."""
    to_agent, to_visitor = Result(), Result()
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, headers={"Origin": url}) as session:
        async with session.post(f"{url}/api/agent/login", json={"username": "aino", "password": PASSWORD}) as r:
            csrf = (await r.json())["csrf_token"]
        headers = {"X-CSRF-Token": csrf}
        await session.put(f"{url}/api/agent/presence", json={"presence": "online"}, headers=headers)
        socket = await session.ws_connect(url.replace("http", "ws") + "/api/agent/ws")
        inbox: Dict[str, asyncio.Queue] = {}

        async def read_socket() -> None:
            async for frame in socket:
                data = frame.json()
                if data.get("type") == "message" and data["message"].get("sender") == "visitor":
                    inbox.setdefault(data["conversation_id"], asyncio.Queue()).put_nowait(time.monotonic())

        reader = asyncio.create_task(read_socket())
        visitors = []
        for _ in range(chats):
            client = socketio.AsyncClient(reconnection=False)
            got: asyncio.Queue = asyncio.Queue()
            token: Dict[str, str] = {}

            def confirm(data: Dict[str, str], token: Dict[str, str] = token) -> None:
                token["id"] = data["session_id"]

            async def on_bot(data: dict, got: asyncio.Queue = got) -> None:
                await got.put((time.monotonic(), data))

            client.on("session_confirm", confirm)
            client.on("bot_uttered", on_bot)
            await client.connect(url, headers={"Origin": url}, transports=["websocket"])
            await client.emit("session_request", {"session_id": None})
            while "id" not in token:
                await asyncio.sleep(0.02)
            await client.emit("user_uttered", {"message": "haluan puhua ihmisen kanssa"})
            visitors.append((client, got, token["id"].split(".")[0]))
        deadline = time.monotonic() + 120  # every escalation handled before the relay is measured
        while time.monotonic() < deadline:
            async with session.get(f"{url}/api/agent/queue") as r:
                if len((await r.json())["conversations"]) >= chats:
                    break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1)
        for _client, _got, conversation_id in visitors:
            async with session.post(f"{url}/api/agent/conversations/{conversation_id}/claim", headers=headers) as r:
                if r.status != 200:
                    to_agent.errors += 1
            inbox.setdefault(conversation_id, asyncio.Queue())
        await asyncio.sleep(1)

        async def one_chat(client: socketio.AsyncClient, got: asyncio.Queue, conversation_id: str,
                           rng: random.Random) -> None:
            for n in range(rounds):
                await asyncio.sleep(rng.uniform(*THINK_SECONDS))  # the visitor types
                sent = time.monotonic()
                await client.emit("user_uttered", {"message": f"kysymys {n}"})
                try:
                    arrived = await asyncio.wait_for(inbox[conversation_id].get(), REPLY_TIMEOUT)
                    to_agent.latencies.append(arrived - sent)
                except asyncio.TimeoutError:
                    to_agent.errors += 1
                while not got.empty():
                    got.get_nowait()
                await asyncio.sleep(rng.uniform(*THINK_SECONDS))  # the agent types
                sent = time.monotonic()
                async with session.post(f"{url}/api/agent/conversations/{conversation_id}/messages",
                                        json={"text": f"vastaus {n}"}, headers=headers) as r:
                    if r.status != 201:
                        to_visitor.errors += 1
                        continue
                try:
                    while True:
                        arrived, data = await asyncio.wait_for(got.get(), REPLY_TIMEOUT)
                        if data.get("text") == f"vastaus {n}":
                            to_visitor.latencies.append(arrived - sent)
                            break
                except asyncio.TimeoutError:
                    to_visitor.errors += 1

        await asyncio.gather(*(one_chat(*visitor, random.Random(seed)) for seed, visitor in enumerate(visitors)))
        reader.cancel()
        await socket.close()
        for client, _got, _id in visitors:
            await client.disconnect()
    return to_agent, to_visitor


# -- orchestration -----------------------------------------------------------------------------------------


def train_baseline() -> float:
    """Trains the baseline model (default config) unless one newer than data/ exists; returns seconds."""
    newest_input = max(p.stat().st_mtime for p in [*(ROOT / "data").rglob("*.yml"), ROOT / "domain.yml"])
    if BASELINE.exists() and BASELINE.stat().st_mtime > newest_input:
        return float("nan")
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as out:
        config = Path(out) / "config.yml"  # a copy: Rasa writes the defaults it fills in back into the file
        shutil.copy(ROOT / "bench" / "configs" / "rasa_default.yml", config)
        subprocess.run([str(BIN / "rasa"), "train", "--config", str(config), "--domain",
                        "domain.yml", "--data", "data", "--out", out, "--fixed-model-name", "baseline"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_MAX_CACHE_SIZE": "0"})
        shutil.move(str(Path(out) / "baseline.tar.gz"), BASELINE)
    return time.monotonic() - started


async def first_answer(kind: str, url: str, process: Process) -> float:
    """Seconds from the process start to its first real answer."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        result = await run_level(kind, url, 1, 0.01, ["moi"])
        if result.latencies:
            return time.monotonic() - process.started_at
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{kind}: no answer")


def table(levels: List[int], results: Dict[Tuple[str, int], Result]) -> List[str]:
    lines = ["| target | visitors | p50 ms | p95 ms | p99 ms | msg/s | answered | errors | empty |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for level in levels:
        for kind in KINDS:
            r = results[(kind, level)]
            lines.append(f"| {kind} | {level} | {r.percentile(50):.0f} | {r.percentile(95):.0f} | "
                         f"{r.percentile(99):.0f} | {r.throughput:.1f} | {len(r.latencies)} | {r.errors} | {r.empty} |")
    return lines


def cpu_table(levels: List[int], results: Dict[Tuple[str, int], Result]) -> List[str]:
    """CPU milliseconds each process spent per answered message (all threads, from /proc)."""
    names = ["plain-rasa", "rasa", "actions", "liveagent", "driver"]
    lines = ["| target | visitors | " + " | ".join(names) + " | all |", "| --- | ---: |" + " ---: |" * (len(names) + 1)]
    for level in levels:
        for kind in KINDS:
            r = results[(kind, level)]
            used = {name: r.cpu_ms_per_message(name) if r.cpu.get(name, 0.0) > 0.05 else 0.0 for name in names}
            cells = " | ".join(f"{used[name]:.1f}" if used[name] else "-" for name in names)
            lines.append(f"| {kind} | {level} | {cells} | {sum(used.values()):.1f} |")
    return lines


def charts(levels: List[int], results: Dict[Tuple[str, int], Result]) -> List[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    CHARTS.mkdir(parents=True, exist_ok=True)
    labels = {"plain": "plain rasa run (default config, REST)", "direct": "our Rasa, REST (no service)",
              "full": "full stack (Socket.IO -> service -> Rasa)"}
    fig, ax = plt.subplots(figsize=(7, 4))
    for kind in KINDS:
        ax.plot(levels, [results[(kind, level)].throughput for level in levels], marker="o", label=labels[kind])
    ax.set_xlabel("concurrent visitors")
    ax.set_ylabel("answered messages per second")
    ax.set_title("Throughput against concurrent visitors")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(CHARTS / "throughput.png", dpi=110)
    plt.close(fig)
    middle = 20 if 20 in levels else levels[0]
    fig, ax = plt.subplots(figsize=(7, 4))
    for kind in KINDS:
        values = sorted(x * 1000 for x in results[(kind, middle)].latencies)
        if values:
            ax.plot(values, [i / len(values) for i in range(len(values))], label=labels[kind])
    ax.set_xlabel("latency ms")
    ax.set_ylabel("share of messages answered within")
    ax.set_title(f"Latency distribution at {middle} concurrent visitors")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(CHARTS / "latency.png", dpi=110)
    plt.close(fig)
    return ["![throughput](charts/throughput.png)", "", "![latency](charts/latency.png)"]


async def main_async(args: argparse.Namespace) -> int:
    levels = [int(v) for v in args.levels.split(",")]
    texts = message_mix()
    print(f"message mix: {len(texts)} distinct phrasings", flush=True)
    train_seconds = train_baseline() if "plain" in args.kinds else float("nan")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        stack = Stack(tmp)
        try:
            actions_port, plain_port, rasa_port, service_port = (free_port() for _ in range(4))
            actions = stack.start("actions", [sys.executable, "-m", "actions.server", "--port", str(actions_port)],
                                  ready_url=f"http://127.0.0.1:{actions_port}/health")
            await wait_ready(actions)
            endpoints = str(endpoints_file(tmp, actions_port))
            plain_url = f"http://127.0.0.1:{plain_port}"
            distinct_texts = footprint_texts(args.footprint_messages)
            footprints: Dict[str, Footprint] = {}
            if "plain" in args.kinds:
                plain = stack.start("plain-rasa", [str(BIN / "rasa"), "run", "--model", str(BASELINE), "--port",
                                                   str(plain_port), "--interface", "127.0.0.1", "--endpoints",
                                                   endpoints])
                footprints["plain"] = await footprint(plain_url, plain, distinct_texts)
                print(footprints["plain"].line("plain rasa run"), flush=True)
                if args.footprint_only:
                    plain.stop()  # the next start-up gets the machine to itself
            rasa = stack.start("rasa", [sys.executable, "-m", "rasa_runtime", "--model", str(OURS), "--port",
                                        str(rasa_port), "--interface", "127.0.0.1", "--endpoints", endpoints],
                               dict(item.split("=", 1) for item in args.rasa_env))
            footprints["ours"] = await footprint(f"http://127.0.0.1:{rasa_port}", rasa, distinct_texts)
            print(footprints["ours"].line("our Rasa (python -m rasa_runtime)"), flush=True)
            if args.footprint_only:
                return 0
            service_url = f"http://127.0.0.1:{service_port}"
            service = stack.start("liveagent", [sys.executable, "-m", "liveagent", "serve"], {
                "LIVEAGENT_SECRET": SECRET, "LIVEAGENT_PORT": str(service_port),
                "LIVEAGENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/liveagent.sqlite",
                "LIVEAGENT_RASA_URL": f"http://127.0.0.1:{rasa_port}", "LIVEAGENT_ALLOWED_ORIGINS": service_url,
                "LIVEAGENT_PUBLIC_URL": service_url,
                "LIVEAGENT_ALWAYS_OPEN": "1", "LIVEAGENT_DEMO_PASSWORD": PASSWORD,
                "LIVEAGENT_QUEUE_CAPACITY": "500", "LIVEAGENT_LIMIT_CONNECTIONS": "0",
                "LIVEAGENT_LIMIT_MESSAGES": "0", "LIVEAGENT_LIMIT_SESSION_REQUESTS": "0",
                "LIVEAGENT_MAX_SOCKETS_PER_ADDRESS": "0", "LIVEAGENT_RASA_TIMEOUT_SECONDS": str(REPLY_TIMEOUT),
            }, ready_url=f"{service_url}/health")
            await wait_ready(service)
            full_start = await first_answer("full", service_url, service)

            results: Dict[Tuple[str, int], Result] = {}
            for level in levels:
                for kind, url in (("plain", plain_url), ("direct", f"http://127.0.0.1:{rasa_port}"),
                                  ("full", service_url)):
                    if kind not in args.kinds:
                        continue
                    print(f"{kind}: {level} visitors for {args.seconds:.0f} s ...", flush=True)
                    before = {p.name: cpu_seconds(p) for p in stack.procs}
                    driver_before = time.process_time()
                    results[(kind, level)] = result = await run_level(kind, url, level, args.seconds, texts)
                    result.cpu = {p.name: cpu_seconds(p) - before[p.name] for p in stack.procs}
                    result.cpu["driver"] = time.process_time() - driver_before
            to_agent, to_visitor = Result(), Result()
            if args.relay_chats:
                to_agent, to_visitor = await relay(service_url, args.relay_chats)
            memory = {p.name: rss_mb(p) for p in stack.procs}
        finally:
            stack.stop()

    if set(args.kinds) != set(KINDS):  # an experiment: figures only, REPORT.md untouched
        for (kind, level), r in results.items():
            print(f"{kind} {level}: p50 {r.percentile(50):.0f} p95 {r.percentile(95):.0f} p99 "
                  f"{r.percentile(99):.0f} ms, {r.throughput:.1f} msg/s, errors {r.errors}, empty {r.empty}; "
                  "CPU ms per message: " + ", ".join(f"{name} {r.cpu_ms_per_message(name):.1f}" for name in r.cpu
                                                     if r.cpu[name] > 0.05))
        print(*(f"{name}: {rss:.0f} MB now, {peak:.0f} MB peak" for name, (rss, peak) in memory.items()), sep="\n")
        if args.relay_chats:
            print(f"relay visitor -> agent p50 {to_agent.percentile(50):.1f} p95 {to_agent.percentile(95):.1f} ms, "
                  f"agent -> visitor p50 {to_visitor.percentile(50):.1f} p95 {to_visitor.percentile(95):.1f} ms, "
                  f"errors {to_agent.errors + to_visitor.errors}")
        return 0
    lines = table(levels, results)
    print("\n".join(lines))
    base = {level: results[("plain", level)] for level in levels}
    full = {level: results[("full", level)] for level in levels}
    best_plain = max(r.throughput for r in base.values())
    best_full = max(r.throughput for r in full.values())
    one = levels[0]
    direct = {level: results[("direct", level)] for level in levels}
    added_median = full[one].percentile(50) - direct[one].percentile(50)
    ours_total = sum(memory[name][1] for name in ("actions", "rasa", "liveagent"))
    relay_lines = [
        f"- visitor -> agent: p50 {to_agent.percentile(50):.1f} ms, p95 {to_agent.percentile(95):.1f} ms, "
        f"{len(to_agent.latencies)} messages, {to_agent.errors} errors",
        f"- agent -> visitor: p50 {to_visitor.percentile(50):.1f} ms, p95 {to_visitor.percentile(95):.1f} ms, "
        f"{len(to_visitor.latencies)} messages, {to_visitor.errors} errors",
    ]
    memory_lines = [f"- {name}: {rss:.0f} MB now, {peak:.0f} MB peak" for name, (rss, peak) in memory.items()]
    train_line = (f"- baseline training (default config, no cache): {train_seconds:.0f} s"
                  if train_seconds == train_seconds
                  else "- baseline training: cached model reused (see the NLU section for training times)")
    summary = (f"summary: throughput full/plain = {best_full / best_plain:.2f}x "
               f"({best_full:.1f} vs {best_plain:.1f} msg/s); "
               f"service hop adds {added_median:+.1f} ms to the median at {one} visitor(s); "
               f"p95 at 20 = {full[20].percentile(95) if 20 in full else float('nan'):.0f} ms; "
               f"relay p95 = {max(to_agent.percentile(95), to_visitor.percentile(95)):.1f} ms; "
               f"errors+empty at {levels[-1]} = {full[levels[-1]].errors + full[levels[-1]].empty}; "
               f"our processes peak {ours_total:.0f} MB")
    body = "\n".join([
        "`python bench/load.py` (`make bench`): plain, direct and full run side by side in one run on this machine; "
        f"closed-loop visitors, {args.seconds:.0f} s per level, {len(texts)} distinct Finnish phrasings, a new "
        "conversation every five messages. Latency = until the first answer message arrives.",
        "", *lines, "",
        "CPU milliseconds per answered message, by process (user + system time of all its threads during the "
        "level, from /proc; the driver is this script):", "", *cpu_table(levels, results), "",
        "Agent relay with "
        f"{args.relay_chats} concurrent agent chats (one agent holding all; each side types 0.5-2.5 s before "
        "each message):", *relay_lines, "",
        "Resident memory at the end of the run:", *memory_lines, "",
        "Start-up to first answer (REST) and resident memory after "
        f"{args.footprint_messages} distinct messages sent one after another (issue 12: at most 800 MB, "
        "first answer within 20 s):",
        footprints["plain"].line("plain rasa run (default config)"),
        footprints["ours"].line("our Rasa (python -m rasa_runtime)"),
        f"- the service: first answer through it {full_start:.1f} s after its start", train_line, "",
        *charts(levels, results), "", summary,
    ])
    write_section("Load", body)
    print(summary)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Load benchmark: full stack against plain rasa run")
    parser.add_argument("--levels", default="1,20,100,200")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--relay-chats", type=int, default=50)
    parser.add_argument("--kinds", type=lambda v: v.split(","), default=list(KINDS),
                        help="targets to load (an experiment with fewer than all does not write REPORT.md)")
    parser.add_argument("--footprint-messages", type=int, default=FOOTPRINT_MESSAGES,
                        help="distinct messages sent to each Rasa before its memory is read")
    parser.add_argument("--footprint-only", action="store_true",
                        help="only start-up to first answer and memory after the messages, for plain and our Rasa "
                             "(one after the other; prints, REPORT.md untouched)")
    parser.add_argument("--rasa-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for our Rasa (experiments, e.g. MALLOC_ARENA_MAX=2)")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
