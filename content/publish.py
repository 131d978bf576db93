"""Train and publish: validate -> train -> regression gate -> load into the running Rasa, or nothing.

The running bot is touched only in the last step and only after every gate passed: Rasa loads the
candidate model (`PUT /model`; rasa_runtime/model_loading.py loads it in a worker thread, so visitors are
answered by the old model until the swap) and only then do the files move:

    models/lumo.tar.gz       the model that answers visitors (and that a restart loads)
    models/previous.tar.gz   the one before it: one-click rollback swaps the two
    models/candidates/       trained, not (yet) published

Training and testing run in subprocesses, so the caller's event loop (the live-agent service)
stays free and never imports Rasa's training code. Training is `python -m rasa_runtime.train`, the
same path as `make train`: it refuses another Rasa release (rasa_runtime/version.py) and needs no
TensorFlow. One publish at a time per machine (a file lock).
Used by the editor view (liveagent/blueprints/editor_api.py) and by `make publish`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import json
import logging
import os
import re
import sys
import time
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional, Protocol, Tuple

from content import copy
from content.regression import RegressionResult, closest_example
from content.validation import validate

logger = logging.getLogger(__name__)
CODE_ROOT = Path(__file__).resolve().parent.parent
MAX_CHANGED_MESSAGES = 5  # test messages shown per topic that got worse
MAX_MISSED_EXAMPLES = 5


@dataclass(frozen=True)
class Milestone:
    """A point inside a stage: a line its subprocess prints there (None: the stage's end), the seconds
    measured from the previous milestone to it, and the work done in between (a key under "part." in
    copy_fi.yml, shown to the editor while it runs)."""

    pattern: Optional[str]
    seconds: float
    part: Optional[str] = None


# Where a publish spends its time, measured on this machine (2 cores, idle, a new topic of 15 examples, the
# e5 cache warm; 35 s in all on 2026-12-06, docs/nlu.md, "The publish gate"). The bar is drawn from these seconds
# alone: each stage's share of the bar is its share of the total, and inside a stage the bar moves with the
# elapsed time towards the next milestone, never past it until the subprocess reports it.
TIMELINE: Dict[str, Tuple[Milestone, ...]] = {
    "validate": (Milestone(None, 4.5),),
    "train": (
        Milestone(r"Starting to train component '(?:\w*Tokenizer|CountVectorsFeaturizer)'", 4.0, "start"),
        Milestone(r"Starting to train component 'LinearClassifier'", 5.0, "CountVectorsFeaturizer"),
        Milestone(r"Finished training component 'LinearClassifier'", 11.0, "LinearClassifier"),
        Milestone(r"Your Rasa model is trained and saved", 0.3, "policies"),
        Milestone(None, 0.5, "save"),
    ),
    "test": (
        Milestone(r"PROGRESS candidate_loaded", 2.3, "load_candidate"),
        Milestone(r"PROGRESS candidate_scored", 2.7, "score_candidate"),
        Milestone(r"PROGRESS baseline_loaded", 0.2, "load_baseline"),
        Milestone(r"PROGRESS baseline_scored", 3.0, "score_baseline"),
        Milestone(r"PROGRESS stories", 0.4, "stories"),
        Milestone(None, 0.4, "stories"),
    ),
    "load": (Milestone(None, 1.0),),
}
STAGE_ORDER = ("validate", "train", "test", "load")
TICK_SECONDS = 1.0
# An estimate never reaches its next milestone by time alone: at most this share of the way there.
MAX_ESTIMATED = 0.9


def _spans() -> Dict[str, Tuple[int, int]]:
    total = sum(m.seconds for stage in STAGE_ORDER for m in TIMELINE[stage])
    spans, done = {}, 0.0
    for stage in STAGE_ORDER:
        seconds = sum(m.seconds for m in TIMELINE[stage])
        spans[stage] = (round(100 * done / total), round(100 * (done + seconds) / total))
        done += seconds
    return spans


# Overall progress of each stage (percent at its start, percent at its end), from TIMELINE.
STAGE_SPAN = _spans()


@dataclass(frozen=True)
class Progress:
    stage: str  # validate | train | test | load | done
    percent: int
    detail: str  # Finnish, for the editor


class PublishFailed(Exception):
    """A gate failed or a step broke; nothing changed for visitors. ``message``/``details``: Finnish."""

    def __init__(self, stage: str, message: str, details: Optional[List[str]] = None) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = message
        self.details = details or []


class ModelLoader(Protocol):
    async def load(self, model_path: Path) -> None:
        """Make the running Rasa server(s) answer with ``model_path``; raise if it could not."""


@dataclass(frozen=True)
class Published:
    model: Path
    previous: Optional[Path]
    regression: Dict[str, Any] = field(default_factory=dict)


ProgressCallback = Callable[[Progress], Awaitable[None]]


class ModelFiles:
    """The model files on disk: current, previous, candidates."""

    def __init__(self, models_dir: Path) -> None:
        self.dir = models_dir
        self.current = models_dir / "lumo.tar.gz"
        self.previous = models_dir / "previous.tar.gz"
        self.candidates = models_dir / "candidates"

    def candidate(self, run_id: str) -> Path:
        self.candidates.mkdir(parents=True, exist_ok=True)
        return self.candidates / f"{run_id}.tar.gz"

    def promote(self, candidate: Path) -> None:
        """candidate -> current, current -> previous (each step an atomic rename)."""
        if self.current.exists():
            os.replace(self.current, self.previous)
        os.replace(candidate, self.current)
        os.utime(self.current)  # newer than the data it was trained on: `make run` will not retrain

    def swap_with_previous(self) -> None:
        swap = self.dir / "swap.tar.gz"
        os.replace(self.previous, swap)
        os.replace(self.current, self.previous)
        os.replace(swap, self.current)
        os.utime(self.current)


class Publisher:
    def __init__(self, root: Path, loader: ModelLoader, models_dir: Optional[Path] = None,
                 python: Optional[str] = None, rasa: Optional[str] = None) -> None:
        self.root = root
        self.loader = loader
        self.files = ModelFiles(models_dir or root / "models")
        # the interpreter of the subprocesses: `-m rasa_runtime.train` trains, `-m content.regression` tests
        self.python = python or sys.executable
        self.rasa = rasa or str(Path(self.python).parent / "rasa")  # only for `rasa data validate`
        self._lock_path = self.files.dir / ".publish.lock"

    # -- the one-at-a-time lock ------------------------------------------------------------------
    def _acquire(self, stage: str) -> int:
        self.files.dir.mkdir(parents=True, exist_ok=True)
        handle = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise PublishFailed(stage, copy.text("failed.busy")) from None
        return handle

    @staticmethod
    def _release(handle: int) -> None:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)

    # -- publish -----------------------------------------------------------------------------------
    async def publish(self, on_progress: ProgressCallback, run_id: Optional[str] = None) -> Published:
        lock = self._acquire("validate")
        run_id = run_id or dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        candidate = self.files.candidate(run_id)
        try:
            await self._validate(on_progress)
            await self._train(candidate, on_progress)
            regression = await self._test(candidate, on_progress)
            load = StageProgress("load", on_progress, "stage.load")
            async with load.ticking():
                try:
                    await self.loader.load(candidate)
                except Exception as error:  # noqa: BLE001 - any loader failure leaves the bot untouched
                    logger.warning("Loading the new model failed: %s", error)
                    raise PublishFailed("load", copy.text("failed.load")) from error
            self.files.promote(candidate)
            await on_progress(Progress("done", 100, copy.text("stage.published")))
            previous = self.files.previous if self.files.previous.exists() else None
            return Published(self.files.current, previous, regression)
        finally:
            candidate.unlink(missing_ok=True)
            self._release(lock)

    async def rollback(self) -> Path:
        """Rasa answers with the previous model again; the two files swap places."""
        lock = self._acquire("load")
        try:
            if not self.files.previous.exists():
                raise PublishFailed("load", copy.text("failed.no_previous"))
            try:
                await self.loader.load(self.files.previous)
            except Exception as error:  # noqa: BLE001
                logger.warning("Loading the previous model failed: %s", error)
                raise PublishFailed("load", copy.text("failed.rollback")) from error
            self.files.swap_with_previous()
            return self.files.current
        finally:
            self._release(lock)

    def _env(self) -> Dict[str, str]:
        """Subprocess environment: the content comes from ``root``, the code (custom components,
        the regression module) from this checkout, whichever directory the content lives in."""
        path = os.pathsep.join(p for p in (str(CODE_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": path}

    # -- the steps ---------------------------------------------------------------------------------
    async def _validate(self, on_progress: ProgressCallback) -> None:
        stage = StageProgress("validate", on_progress, "stage.validate")
        async with stage.ticking():
            report = await asyncio.to_thread(validate, self.root, Path(self.rasa))
        if not report.ok:
            raise PublishFailed("validate", copy.text("failed.validate"), report.lines())
        await stage.finish()

    async def _train(self, candidate: Path, on_progress: ProgressCallback) -> None:
        stage = StageProgress("train", on_progress, "stage.train", "stage.train_component")
        tail: List[str] = []
        async with stage.ticking():
            # `rasa data validate` has just passed: Rasa need not validate the same files again.
            process = await asyncio.create_subprocess_exec(
                self.python, "-m", "rasa_runtime.train", "--skip-validation", "--config", "config.yml",
                "--domain", "domain.yml", "--data", "data", "--out", str(candidate.parent),
                "--fixed-model-name", candidate.name[: -len(".tar.gz")],
                cwd=self.root, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=self._env(),
            )
            assert process.stdout is not None

            async def on_line(line: str) -> None:
                tail.append(line)
                del tail[:-40]
                await stage.line(line)

            await _read_lines(process.stdout, on_line)
            code = await process.wait()
        if code != 0 or not candidate.exists():
            logger.warning("rasa_runtime.train exited with %s:\n%s", code, "\n".join(tail))
            raise PublishFailed("train", copy.text("failed.train"))
        await stage.finish()

    async def _test(self, candidate: Path, on_progress: ProgressCallback) -> Dict[str, Any]:
        """The gate (content/regression.py): the candidate against the model in use, in one subprocess."""
        stage = StageProgress("test", on_progress, "stage.test", "stage.test_step")
        baseline = ["--baseline", str(self.files.current)] if self.files.current.exists() else []
        errors: List[str] = []
        async with stage.ticking():
            process = await asyncio.create_subprocess_exec(
                self.python, "-m", "content.regression", str(candidate), "--content", str(self.root), *baseline,
                cwd=self.root, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self._env(),
            )
            assert process.stdout is not None and process.stderr is not None

            async def on_line(line: str) -> None:
                errors.append(line)
                del errors[:-60]
                await stage.line(line)

            out, _ = await asyncio.gather(process.stdout.read(), _read_lines(process.stderr, on_line))
            await process.wait()
        try:
            report = json.loads(out.decode("utf-8").strip().splitlines()[-1])
        except (IndexError, ValueError):
            logger.warning("Regression run failed (%s): %s", process.returncode, "\n".join(errors)[-3000:])
            raise PublishFailed("test", copy.text("failed.test")) from None
        if not report["passed"]:
            raise PublishFailed("test", copy.text("failed.test"), explain(report))
        await stage.finish()
        return report


class StageProgress:
    """The bar inside one stage of TIMELINE: jumps to each milestone the subprocess reports and in between
    moves with the elapsed time against the measured seconds, stopping short of the next milestone."""

    def __init__(self, stage: str, on_progress: ProgressCallback, detail: str, part_detail: Optional[str] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stage = stage
        self.milestones = TIMELINE[stage]
        self.start, self.end = STAGE_SPAN[stage]
        self._on_progress = on_progress
        self._detail, self._part_detail = detail, part_detail
        self._clock = clock
        total = sum(m.seconds for m in self.milestones)
        self._shares, done = [], 0.0
        for milestone in self.milestones:
            done += milestone.seconds
            self._shares.append(done / total)
        self.reached = 0
        self._since = clock()
        self._last: Optional[Progress] = None

    def percent(self) -> int:
        if self.reached >= len(self.milestones):
            return self.end
        before = self._shares[self.reached - 1] if self.reached else 0.0
        seconds = self.milestones[self.reached].seconds
        fraction = min(MAX_ESTIMATED, (self._clock() - self._since) / seconds) if seconds > 0 else 0.0
        within = before + (self._shares[self.reached] - before) * fraction
        return int(self.start + (self.end - self.start) * within)

    def detail(self) -> str:
        index = min(self.reached, len(self.milestones) - 1)
        part = self.milestones[index].part
        name = copy.BOOK.lookup(f"part.{part}") if part else None
        if self._part_detail and name:
            return copy.text(self._part_detail, part=name)
        return copy.text(self._detail)

    async def emit(self) -> None:
        percent = max(self.percent(), self._last.percent if self._last else self.start)
        progress = Progress(self.stage, percent, self.detail())
        if progress != self._last:
            self._last = progress
            await self._on_progress(progress)

    async def line(self, text: str) -> None:
        """A line of the stage's subprocess: a milestone (or a later one) moves the bar there."""
        for index in range(self.reached, len(self.milestones)):
            pattern = self.milestones[index].pattern
            if pattern and re.search(pattern, text):
                self.reached, self._since = index + 1, self._clock()
                await self.emit()
                return

    async def finish(self) -> None:
        """The stage is done: the bar at its end."""
        self.reached = len(self.milestones)
        await self.emit()

    @asynccontextmanager
    async def ticking(self) -> AsyncIterator["StageProgress"]:
        """Reports the stage's start, a moving estimate every TICK_SECONDS, and nothing after it ends."""
        await self.emit()

        async def tick() -> None:
            while True:
                await asyncio.sleep(TICK_SECONDS)
                await self.emit()

        ticker = asyncio.create_task(tick())
        try:
            yield self
        finally:
            ticker.cancel()
            try:
                await ticker
            except asyncio.CancelledError:
                pass


async def _read_lines(stream: asyncio.StreamReader, on_line: Callable[[str], Awaitable[None]]) -> None:
    """Each non-empty line of ``stream`` (progress bars end theirs with \\r)."""
    buffer = b""
    while True:
        chunk = await stream.read(4096)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = re.split(rb"[\r\n]", buffer)
        for raw in lines:
            if raw.strip():
                await on_line(raw.decode("utf-8", "replace"))
    if buffer.strip():
        await on_line(buffer.decode("utf-8", "replace"))


# -- why a candidate was refused, for the editor ---------------------------------------------------------
def explain(report: Dict[str, Any]) -> List[str]:
    """Finnish lines that tell an editor why a candidate was refused.

    In "compare" mode (a model was in use): the topics that got worse with the test messages that
    changed, each pointed at the editor's new example most like it when the message now goes to
    that example's topic; the editor's new examples the candidate did not understand; fallback
    buttons; story tests. The test messages are shown: they are what the editor can act on.
    """
    titles: Dict[str, str] = report.get("titles") or {}
    lines: List[str] = []
    if report.get("mode") == "compare":
        lines += _explain_change(report, titles)
    else:
        lines += _explain_targets(report, titles)
    for text, topic, got in report.get("button_errors") or []:
        lines.append(copy.text("test.button", text=text, topic=topic_name(topic, titles), got=topic_name(got, titles)))
    if report.get("story_failures"):
        lines.append(copy.text("test.stories"))
    if lines:
        lines.append(copy.text("test.advice"))
    return lines


def _explain_change(report: Dict[str, Any], titles: Dict[str, str]) -> List[str]:
    lines: List[str] = []
    examples = report.get("new_examples") or []
    margin = report.get("margin") or {}
    topics = {t["label"]: t for t in report.get("topics") or []}
    for label in report.get("worse_topics") or []:
        topic = topics[label]
        lines.append(copy.text("test.topic_worse", topic=topic_name(label, titles), total=topic["total"],
                               before=topic["before"], after=topic["after"]))
        lost = [c for c in report.get("changed") or [] if c["expected"] == label and c["was_right"]]
        for change in lost[:MAX_CHANGED_MESSAGES]:
            lines.append(_changed_line(change, examples, titles))
        if len(lost) > MAX_CHANGED_MESSAGES:
            lines.append(copy.text("test.more_messages", count=len(lost) - MAX_CHANGED_MESSAGES))
    overall = report.get("overall") or {}
    if overall.get("worse"):
        total = max(1, int(overall["total"]))
        lines.append(copy.text("test.overall_worse", before=_percent(overall["before"] / total),
                               after=_percent(overall["after"] / total),
                               margin=_number(float(margin.get("overall_points", 0)))))
        shown = {c["text"] for c in report.get("changed") or [] if c["expected"] in (report.get("worse_topics") or [])}
        lost = [c for c in report.get("changed") or [] if c["was_right"] and c["text"] not in shown]
        for change in lost[:MAX_CHANGED_MESSAGES]:
            lines.append(_changed_line(change, examples, titles))
    for topic in report.get("not_understood") or []:
        lines.append(copy.text("test.examples_not_understood", topic=topic_name(topic["label"], titles),
                               understood=topic["understood"], total=topic["total"],
                               required=round(100 * float(margin.get("new_examples", 0.8)))))
        for text, got in topic["missed"][:MAX_MISSED_EXAMPLES]:
            lines.append(copy.text("test.example_missed", text=text, got=topic_name(got, titles)))
    return lines


def _changed_line(change: Dict[str, Any], examples: List[Dict[str, str]], titles: Dict[str, str]) -> str:
    line = copy.text("test.message_changed", text=change["text"], got=topic_name(change["after"], titles))
    cause = closest_example(change["text"], change["after"], examples)
    if cause is not None:
        line += " " + copy.text("test.caused_by", example=cause, topic=topic_name(change["after"], titles))
    return line


def _explain_targets(report: Dict[str, Any], titles: Dict[str, str]) -> List[str]:
    """No model in use to compare with: the absolute targets decided."""
    result = RegressionResult.from_json(report)
    lines = []
    for suite in result.suites:
        if not suite.passed:
            lines.append(copy.text("test.suite", name=suite.name.capitalize(), accuracy=_percent(suite.accuracy),
                                   required=_percent(suite.required)))
            pairs = Counter((expected, got) for _text, expected, got in suite.errors)
            for (expected, got), count in pairs.most_common(MAX_CHANGED_MESSAGES):
                key = "test.confusion_one" if count == 1 else "test.confusion_many"
                lines.append(copy.text(key, count=count, expected=topic_name(expected, titles),
                                       got=topic_name(got, titles)))
                texts = [text for text, e, g in suite.errors if (e, g) == (expected, got)]
                lines.append(copy.text("test.messages", texts="; ".join(f"”{t}”" for t in texts[:3])))
    return lines


def label_title(label: str, titles: Optional[Dict[str, str]] = None) -> Optional[str]:
    """A label as editors (and agents) know it: an FAQ topic's title ("Kirjautuminen", from ``titles``:
    content.regression.topic_titles), an intent's Finnish description ("oman asian tilanne"); None for
    a label that has neither."""
    return (titles or {}).get(label) or copy.BOOK.lookup(f"labels.{label}")


def topic_name(label: str, titles: Optional[Dict[str, str]] = None) -> str:
    """A label in a sentence of a publish report: its title in quotes ("”Kirjautuminen”"), or the label
    as it is."""
    title = label_title(label, titles)
    return copy.text("test.titled", title=title) if title else label


def _percent(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",")


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")
