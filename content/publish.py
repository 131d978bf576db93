"""Train and publish: validate -> train -> regression gate -> load into the running Rasa, or nothing.

The running bot is touched only in the last step and only after every gate passed: Rasa loads the
candidate model (`PUT /model`; scripts/rasa_server.py loads it in a worker thread, so visitors are
answered by the old model until the swap) and only then do the files move:

    models/lumo.tar.gz       the model that answers visitors (and that a restart loads)
    models/previous.tar.gz   the one before it: one-click rollback swaps the two
    models/candidates/       trained, not (yet) published

Training and testing run in subprocesses, so the caller's event loop (the live-agent service)
stays free and never imports TensorFlow. One publish at a time per machine (a file lock).
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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Protocol

from content import copy
from content.regression import RegressionResult
from content.validation import validate

logger = logging.getLogger(__name__)
# Our batched DIET/ResponseSelector (components/batched_classifiers.py) train as Rasa's own classes.
STARTING = re.compile(r"Starting to train component '(?:Batched)?(\w+)'")
EPOCHS = re.compile(r"Epochs:\s+(\d+)%")
# Share of the training time spent before, in and after the two neural components (measured on
# this project: start-up and featurizing ~12 %, DIET ~60 %, the response selector ~25 %, policies ~3 %).
TRAIN_SHARES = {"DIETClassifier": (0.12, 0.72), "ResponseSelector": (0.72, 0.97)}
CODE_ROOT = Path(__file__).resolve().parent.parent
# Overall progress of each stage (percent at its start, percent at its end).
STAGE_SPAN = {"validate": (0, 5), "train": (5, 80), "test": (80, 95), "load": (95, 100)}
MAX_CONFUSIONS = 6


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
        self.python = python or sys.executable
        self.rasa = rasa or str(Path(self.python).parent / "rasa")
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
            await on_progress(Progress("load", STAGE_SPAN["load"][0], copy.text("stage.load")))
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
        await on_progress(Progress("validate", 0, copy.text("stage.validate")))
        report = await asyncio.to_thread(validate, self.root, Path(self.rasa))
        if not report.ok:
            raise PublishFailed("validate", copy.text("failed.validate"), report.lines())

    async def _train(self, candidate: Path, on_progress: ProgressCallback) -> None:
        start, end = STAGE_SPAN["train"]
        await on_progress(Progress("train", start, copy.text("stage.train")))
        process = await asyncio.create_subprocess_exec(
            self.rasa, "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
            "--out", str(candidate.parent), "--fixed-model-name", candidate.name[: -len(".tar.gz")],
            cwd=self.root, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=self._env(),
        )
        tail: List[str] = []
        component, last_percent = "", -1
        assert process.stdout is not None
        buffer = b""
        while True:
            chunk = await process.stdout.read(4096)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = re.split(rb"[\r\n]", buffer)
            for raw in lines:
                line = raw.decode("utf-8", "replace")
                if not line.strip():
                    continue
                tail = (tail + [line])[-40:]
                started = STARTING.search(line)
                if started:
                    component = started.group(1)
                epochs = EPOCHS.search(line)
                share = TRAIN_SHARES.get(component)
                if epochs and share:
                    within = share[0] + (share[1] - share[0]) * int(epochs.group(1)) / 100
                    percent = round(start + (end - start) * within)
                    if percent != last_percent:
                        last_percent = percent
                        part = copy.BOOK.lookup(f"part.{component}") or component
                        await on_progress(Progress("train", percent, copy.text(
                            "stage.train_component", part=part, percent=epochs.group(1))))
        code = await process.wait()
        if code != 0 or not candidate.exists():
            logger.warning("rasa train exited with %s:\n%s", code, "\n".join(tail))
            raise PublishFailed("train", copy.text("failed.train"))

    async def _test(self, candidate: Path, on_progress: ProgressCallback) -> Dict[str, Any]:
        await on_progress(Progress("test", STAGE_SPAN["test"][0], copy.text("stage.test")))
        process = await asyncio.create_subprocess_exec(
            self.python, "-m", "content.regression", str(candidate), "--content", str(self.root), cwd=self.root,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self._env(),
        )
        out, err = await process.communicate()
        try:
            report = json.loads(out.decode("utf-8").strip().splitlines()[-1])
        except (IndexError, ValueError):
            logger.warning("Regression run failed (%s): %s", process.returncode, err.decode("utf-8", "replace")[-3000:])
            raise PublishFailed("test", copy.text("failed.test")) from None
        if not report["passed"]:
            raise PublishFailed("test", copy.text("failed.test"), explain(report))
        return report


def explain(report: Dict[str, Any]) -> List[str]:
    """Finnish lines that tell an editor why a candidate failed the regression gate.

    The test questions themselves are never shown: they are held out, and an editor who copied
    them into the content would make the gate measure nothing. The lines name the topics that got
    mixed up and how often, which is what the editor can act on.
    """
    result = RegressionResult.from_json(report)
    lines = []
    for suite in result.suites:
        if not suite.passed:
            lines.append(copy.text("test.suite", name=suite.name.capitalize(), accuracy=_percent(suite.accuracy),
                                   required=_percent(suite.required)))
            pairs = Counter((expected, got) for _text, expected, got in suite.errors)
            for (expected, got), count in pairs.most_common(MAX_CONFUSIONS):
                key = "test.confusion_one" if count == 1 else "test.confusion_many"
                lines.append(copy.text(key, count=count, expected=topic_name(expected), got=topic_name(got)))
    for text, topic, got in result.button_errors:
        lines.append(copy.text("test.button", text=text, topic=topic, got=got))
    if report.get("story_failures"):
        lines.append(copy.text("test.stories"))
    if lines:
        lines.append(copy.text("test.advice"))
    return lines


def topic_name(label: str) -> str:
    """"faq/login" -> "faq/login"; the non-topic labels by their Finnish description."""
    return copy.BOOK.lookup(f"labels.{label}") or label


def _percent(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",")
