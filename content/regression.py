"""The regression gate a model must pass before it answers visitors.

Two uses of the same test files (the held-out Finnish phrasings, the typo/no-ä/ö phrasings, the
out-of-scope probe and every fallback button's example question):

- **absolute targets** (`evaluate`, tests/nlu/test_regression.py): the shipped model must reach
  each suite's accuracy. They test the model in the repository, not an editor's publish.
- **the publish gate** (`python -m content.regression CANDIDATE --baseline MODEL_IN_USE`): both
  models are scored in one process on the same messages and `compare` judges the change. A
  publish is refused only when a topic or the whole set got worse beyond a margin measured from
  what harmless edits change (docs/nlu.md, "The publish gate"), when the editor's own new examples are not
  understood, when a fallback button stops reaching its topic, or when a story test fails. Without
  a usable model in use, the absolute targets decide.

The subprocess prints one JSON object on stdout (the last line) and its progress on stderr as
``PROGRESS <step>`` lines, so publishing (content/publish.py) can keep its bar truthful
while the service never imports Rasa or TensorFlow.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from bench.nlu_eval import HELDOUT, HELDOUT_TYPOS, OUT_OF_SCOPE_PROBE, ROOT, SAFE_FOR_OUT_OF_SCOPE

logger = logging.getLogger(__name__)

# (key, file, minimum accuracy, out-of-scope scoring, minimum number of messages, Finnish name)
SUITES: Tuple[Tuple[str, Path, float, bool, int, str], ...] = (
    ("heldout", HELDOUT, 0.95, False, 300, "uudet muotoilut"),
    ("typos", HELDOUT_TYPOS, 0.90, False, 200, "kirjoitusvirheet ja ä/ö puuttuu"),
    ("out_of_scope", OUT_OF_SCOPE_PROBE, 0.80, True, 60, "aiheen ulkopuoliset kysymykset"),
)
BUTTONS = "buttons"
STORIES = ROOT / "tests" / "stories"


@dataclass(frozen=True)
class Margin:
    """How much worse a candidate may score before it is refused (docs/nlu.md, "The publish gate": measured).

    Training is deterministic, so the same data scores the same; what a margin has to absorb is what
    a harmless edit moves. Measured (docs/nlu.md, "The publish gate"): harmless edits moved at most one test
    message of an untouched topic, two of a topic the new one overlaps, and at most 0.25 points of
    the whole set; login-problem phrasings added to faq/login took 10 of faq/login_problem's 34
    messages (1.26 points of the whole set).
    """

    topic_messages: int = 2  # a topic may lose at most this many test messages (net)
    overall_points: float = 1.0  # the whole set may lose at most this many percentage points
    new_examples: float = 0.8  # share of each topic's new examples the candidate must understand


MARGIN = Margin()


@dataclass(frozen=True)
class Scored:
    """One test message as one model read it."""

    suite: str  # a SUITES key or BUTTONS
    text: str
    expected: str
    got: str
    right: bool


@dataclass
class SuiteResult:
    key: str
    name: str
    total: int
    accuracy: float
    required: float
    errors: List[Tuple[str, str, str]] = field(default_factory=list)  # (text, expected, got)

    @property
    def passed(self) -> bool:
        return self.accuracy >= self.required


@dataclass
class RegressionResult:
    suites: List[SuiteResult]
    button_errors: List[Tuple[str, str, str]]  # (example question, topic, got)

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.suites) and not self.button_errors

    def to_json(self) -> Dict[str, Any]:
        return {"passed": self.passed, "suites": [asdict(s) for s in self.suites],
                "button_errors": self.button_errors}

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "RegressionResult":
        suites = [SuiteResult(**{**s, "errors": [tuple(e) for e in s["errors"]]}) for s in data["suites"]]
        return cls(suites, [tuple(e) for e in data["button_errors"]])


def button_examples(root: Path) -> List[Tuple[str, str]]:
    """(example question, "faq/<topic>") for every fallback button: each must reach its topic."""
    import yaml

    found = []
    for path in sorted((root / "data" / "faq").glob("*.yml")):
        responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}
        for name, variants in responses.items():
            example = ((variants or [{}])[0].get("metadata") or {}).get("example")
            if example:
                found.append((example, name[len("utter_"):]))
    return found


def topic_titles(root: Path) -> Dict[str, str]:
    """"faq/<topic>" -> the Finnish title editors gave it (data/faq/*.yml, metadata.title)."""
    import yaml

    titles = {}
    for path in sorted((root / "data" / "faq").glob("*.yml")):
        try:
            responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}
        except yaml.YAMLError:
            continue
        for name, variants in responses.items():
            title = ((variants or [{}])[0].get("metadata") or {}).get("title")
            if title and name.startswith("utter_"):
                titles[name[len("utter_"):]] = str(title)
    return titles


# -- scoring ---------------------------------------------------------------------------------------
def test_messages(root: Path) -> List[Tuple[str, str, str, bool]]:
    """(suite, text, expected, out-of-scope scoring) of every gate message, in a fixed order."""
    from bench.nlu_eval import load_examples  # imports Rasa: only when evaluating

    messages = []
    for key, path, _required, out_of_scope, _minimum, _name in SUITES:
        messages += [(key, text, label, out_of_scope) for text, label in load_examples(path)]
    messages += [(BUTTONS, text, topic, False) for text, topic in button_examples(root)]
    return messages


def predict(agent: Any, texts: Sequence[str]) -> List[str]:
    """The label (intent, or "faq/<topic>") ``agent`` gives each text.

    All texts are parsed at once through the running bot's micro-batcher (rasa_runtime/batching.py):
    the NLU graph runs on batches of messages, e5 embeds the unsure ones of a batch in one call, and
    scoring a model takes a second or two instead of about ten. Each message is parsed as alone.
    """
    from bench.nlu_eval import predicted_label
    from rasa_runtime import batching

    if not getattr(batching, "_lumo_installed", False):
        batching.install()
        batching._lumo_installed = True  # type: ignore[attr-defined]

    async def parse_all() -> List[Dict[str, Any]]:
        return list(await asyncio.gather(*(agent.parse_message(text) for text in texts)))

    return [predicted_label(parse) for parse in asyncio.run(parse_all())]


def score(agent: Any, messages: Sequence[Tuple[str, str, str, bool]]) -> List[Scored]:
    got = predict(agent, [text for _suite, text, _expected, _oos in messages])
    return [Scored(suite, text, expected, label, label in SAFE_FOR_OUT_OF_SCOPE if oos else label == expected)
            for (suite, text, expected, oos), label in zip(messages, got, strict=True)]


def absolute(scored: Sequence[Scored]) -> RegressionResult:
    """The absolute targets of SUITES and the buttons, from one model's scored messages."""
    suites = []
    for key, _path, required, _oos, _minimum, name in SUITES:
        mine = [s for s in scored if s.suite == key]
        right = sum(s.right for s in mine)
        suites.append(SuiteResult(key, name, len(mine), right / max(1, len(mine)), required,
                                  [(s.text, s.expected, s.got) for s in mine if not s.right]))
    buttons = [(s.text, s.expected, s.got) for s in scored if s.suite == BUTTONS and not s.right]
    return RegressionResult(suites, buttons)


def evaluate(model_path: Path, root: Path = ROOT) -> RegressionResult:
    """Loads the model (seconds) and scores it on every suite against the absolute targets."""
    from rasa.core.agent import Agent

    return absolute(score(Agent.load(str(model_path)), test_messages(root)))


# -- the publish gate ------------------------------------------------------------------------------
def new_examples(candidate: Iterable[Tuple[str, str]], in_use: Iterable[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """(label, text) the candidate was trained on and the model in use was not: the editor's new ones."""
    known = {(label, _normal(text)) for label, text in in_use}
    return sorted({(label, text) for label, text in candidate if (label, _normal(text)) not in known})


def compare(candidate: Sequence[Scored], baseline: Sequence[Scored],
            examples: Sequence[Tuple[str, str, str]] = (), known_labels: Optional[Iterable[str]] = None,
            margin: Margin = MARGIN) -> Dict[str, Any]:
    """Judges the change from ``baseline`` (the model in use) to ``candidate`` on the same messages.

    ``examples``: the editor's new training examples as (label, text, what the candidate says);
    ``known_labels``: the labels the model in use knows (a fallback button of a topic it never had
    is the editor's new one). Returns the gate's JSON report (without story tests).
    """
    if [(s.suite, s.text) for s in candidate] != [(s.suite, s.text) for s in baseline]:
        raise ValueError("both models must be scored on the same messages")
    known = set(known_labels) if known_labels is not None else None
    pairs = [(c, b) for c, b in zip(candidate, baseline, strict=True) if c.suite != BUTTONS]
    topics: Dict[str, Dict[str, Any]] = {}
    for now, before in pairs:
        topic = topics.setdefault(now.expected, {"label": now.expected, "total": 0, "before": 0, "after": 0})
        topic["total"] += 1
        topic["before"] += before.right
        topic["after"] += now.right
    worse = sorted((t for t in topics.values() if t["before"] - t["after"] > margin.topic_messages),
                   key=lambda t: (t["after"] - t["before"], t["label"]))
    changed = [{"suite": now.suite, "text": now.text, "expected": now.expected, "before": before.got,
                "after": now.got, "was_right": before.right, "is_right": now.right}
               for now, before in pairs if now.right != before.right]
    total = len(pairs)
    right_before = sum(b.right for _c, b in pairs)
    right_after = sum(c.right for c, _b in pairs)
    drop_points = 100.0 * (right_before - right_after) / max(1, total)
    overall_worse = drop_points > margin.overall_points + 1e-9
    by_label: Dict[str, List[Tuple[str, str]]] = {}
    for label, text, got in examples:
        by_label.setdefault(label, []).append((text, got))
    not_understood = []
    for label, items in sorted(by_label.items()):
        understood = sum(got == label for _text, got in items)
        if understood < margin.new_examples * len(items):
            not_understood.append({"label": label, "total": len(items), "understood": understood,
                                   "missed": [[text, got] for text, got in items if got != label]})
    button_errors = [[now.text, now.expected, now.got] for now, before in zip(candidate, baseline, strict=True)
                     if now.suite == BUTTONS and not now.right
                     and (before.right or (known is not None and now.expected not in known))]
    passed = not worse and not overall_worse and not not_understood and not button_errors
    return {
        "mode": "compare", "passed": passed, "margin": asdict(margin),
        "overall": {"total": total, "before": right_before, "after": right_after, "worse": overall_worse},
        "topics": sorted(topics.values(), key=lambda t: t["label"]),
        "worse_topics": [t["label"] for t in worse],
        "changed": changed,
        "new_examples": [{"label": label, "text": text, "got": got} for label, text, got in examples],
        "not_understood": not_understood,
        "button_errors": button_errors,
    }


# -- which new example caused a change --------------------------------------------------------------
def _normal(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ä", "a").replace("ö", "o").replace("å", "o")
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


def _grams(text: str, n: int = 3) -> Counter:
    grams: Counter = Counter()
    for word in _normal(text).split():
        padded = f" {word} "
        grams.update(padded[i:i + n] for i in range(max(1, len(padded) - n + 1)))
    return grams


def similarity(a: str, b: str) -> float:
    """Cosine similarity of character trigram counts (words padded, ä/ö folded, case ignored)."""
    x, y = _grams(a), _grams(b)
    dot = sum(count * y[gram] for gram, count in x.items())
    norm = math.sqrt(sum(v * v for v in x.values())) * math.sqrt(sum(v * v for v in y.values()))
    return dot / norm if norm else 0.0


def closest_example(text: str, label: str, examples: Sequence[Dict[str, str]]) -> Optional[str]:
    """The editor's new example of ``label`` most like ``text`` (None when ``label`` got none)."""
    mine = [e["text"] for e in examples if e["label"] == label]
    if not mine:
        return None
    return max(mine, key=lambda candidate: (similarity(text, candidate), -len(candidate)))


# -- story tests -----------------------------------------------------------------------------------
def story_failures(model_path: Path, root: Path = ROOT, rasa: Optional[Path] = None) -> Optional[str]:
    """Runs Rasa's story tests (`rasa test core --fail-on-prediction-errors`); None when all pass,
    else the failed stories as Rasa writes them."""
    rasa = rasa or Path(sys.executable).parent / "rasa"
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run(
            [str(rasa), "test", "core", "--model", str(model_path), "--stories", str(root / "tests" / "stories"),
             "--fail-on-prediction-errors", "--out", out],
            cwd=root, capture_output=True, text=True,
        )
        failed = Path(out) / "failed_test_stories.yml"
        report = failed.read_text(encoding="utf-8") if failed.exists() else ""
        if result.returncode == 0 and "None of the test stories failed" in report:
            return None
        return report or result.stderr[-3000:] or f"rasa test core exited with {result.returncode}"


def story_failures_of(agent: Any, stories: Path = STORIES) -> Optional[str]:
    """What `rasa test core --fail-on-prediction-errors` checks, on an agent already loaded (saves
    starting Rasa and loading the model again): None when every story passes, else the failed story."""
    from rasa.core.test import WrongPredictionException, test

    with tempfile.TemporaryDirectory() as out:
        try:
            asyncio.run(test(str(stories), agent, out_directory=out, fail_on_prediction_errors=True,
                             disable_plotting=True, successes=False, errors=False, warnings=False))
        except WrongPredictionException as failure:
            return str(failure)
    return None


# -- the subprocess publishing runs -----------------------------------------------------------------
def _progress(step: str) -> None:
    """A milestone for publishing's progress bar (content/publish.py TIMELINE)."""
    print(f"\nPROGRESS {step}", file=sys.stderr, flush=True)  # on a line of its own whatever Rasa printed


def _load(model_path: Path) -> Any:
    from rasa.core.agent import Agent

    return Agent.load(str(model_path))


def gate(candidate_path: Path, root: Path, baseline_path: Optional[Path] = None,
         margin: Margin = MARGIN) -> Dict[str, Any]:
    """The publish gate's report for ``candidate_path`` (see the module docstring)."""
    from components.linear_classifier import training_examples

    messages = test_messages(root)
    candidate = _load(candidate_path)
    _progress("candidate_loaded")
    scored = score(candidate, messages)
    _progress("candidate_scored")
    baseline_scored: Optional[List[Scored]] = None
    in_use: List[Tuple[str, str]] = []
    if baseline_path is not None and baseline_path.exists():
        try:
            in_use = training_examples(baseline_path)
            baseline = _load(baseline_path)
            _progress("baseline_loaded")
            baseline_scored = score(baseline, messages)
            _progress("baseline_scored")
        except Exception as error:  # noqa: BLE001 - an unreadable model in use: the absolute targets decide
            logger.warning("The model in use (%s) could not be scored (%s); absolute targets apply",
                           baseline_path, error)
            baseline_scored = None
    if baseline_scored is not None:
        mine = new_examples(training_examples(candidate_path), in_use) if in_use else []
        got = predict(candidate, [text for _label, text in mine])
        known = {label for label, _text in in_use} or None
        report = compare(scored, baseline_scored, [(label, text, label_got) for (label, text), label_got
                                                   in zip(mine, got, strict=True)], known, margin)
    else:
        report = {**absolute(scored).to_json(), "mode": "absolute"}
        report["changed"] = []
        report["new_examples"] = []
    report["suites"] = absolute(scored).to_json()["suites"]  # in "compare" mode: information only
    report["titles"] = topic_titles(root)
    report["story_failures"] = story_failures_of(candidate)
    _progress("stories")
    report["passed"] = bool(report["passed"]) and report["story_failures"] is None
    return report


def main(argv: List[str]) -> int:
    from rasa_runtime import no_tensorflow

    # As in the server and in training: neither model has a TensorFlow component (rasa_runtime.train refuses
    # them), so Rasa's module-level TensorFlow import is stood in for (about 2.5 s of CPU per publish).
    no_tensorflow.install()
    parser = argparse.ArgumentParser(description="Judge the candidate MODEL against the model in use; print JSON.")
    parser.add_argument("model", type=Path)
    parser.add_argument("--content", type=Path, default=ROOT, help="project whose data/ the model was trained on")
    parser.add_argument("--baseline", type=Path, default=None, help="the model in use (none: absolute targets)")
    args = parser.parse_args(argv)
    print(json.dumps(gate(args.model, args.content, args.baseline), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
