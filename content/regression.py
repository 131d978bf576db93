"""The regression gate a model must pass before it answers visitors.

One definition, used by `make test` (tests/nlu/test_regression.py, tests/test_project.py) and by
publishing (content/publish.py): the held-out Finnish phrasings, the typo/no-ä/ö phrasings, the
out-of-scope probe, every fallback button's example question, and Rasa's story tests.

Run as ``python -m content.regression MODEL`` it prints one JSON object (NLU and stories) (used by publishing, which
evaluates a candidate model in a separate process so the service never loads TensorFlow).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bench.nlu_eval import HELDOUT, HELDOUT_TYPOS, OUT_OF_SCOPE_PROBE, ROOT

# (key, file, minimum accuracy, out-of-scope scoring, minimum number of messages, Finnish name)
SUITES: Tuple[Tuple[str, Path, float, bool, int, str], ...] = (
    ("heldout", HELDOUT, 0.95, False, 300, "uudet muotoilut"),
    ("typos", HELDOUT_TYPOS, 0.90, False, 200, "kirjoitusvirheet ja ä/ö puuttuu"),
    ("out_of_scope", OUT_OF_SCOPE_PROBE, 0.80, True, 60, "aiheen ulkopuoliset kysymykset"),
)


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


def evaluate(model_path: Path, root: Path = ROOT) -> RegressionResult:
    """Loads the model (seconds; TensorFlow) and scores it on every suite."""
    from rasa.core.agent import Agent

    from bench.nlu_eval import load_examples, predicted_label, score  # imports Rasa: only when evaluating

    agent = Agent.load(str(model_path))

    def predict(texts: List[str]) -> List[str]:
        async def parse_all() -> List[Dict[str, Any]]:
            return [await agent.parse_message(text) for text in texts]

        return [predicted_label(parse) for parse in asyncio.run(parse_all())]

    suites = []
    for key, path, required, out_of_scope, _minimum, name in SUITES:
        examples = load_examples(path)
        result = score(name, examples, predict([text for text, _ in examples]), out_of_scope)
        suites.append(SuiteResult(key, name, result.total, result.accuracy, required, result.errors))
    buttons = button_examples(root)
    got = predict([example for example, _ in buttons])
    button_errors = [(example, topic, label) for (example, topic), label in zip(buttons, got, strict=True)
                     if label != topic]
    return RegressionResult(suites, button_errors)


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


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description="Score MODEL on the regression gate; print JSON.")
    parser.add_argument("model", type=Path)
    parser.add_argument("--content", type=Path, default=ROOT, help="project whose data/ the model was trained on")
    args = parser.parse_args(argv)
    model = args.model
    report = evaluate(model, args.content).to_json()
    report["story_failures"] = story_failures(model)
    report["passed"] = report["passed"] and report["story_failures"] is None
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
