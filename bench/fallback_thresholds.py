"""How FallbackClassifier's two thresholds were chosen: a grid over the held-out files.

Parses every message of tests/nlu/ once with the trained model (models/lumo.tar.gz by default), keeps
the classifier's own ranking (FallbackClassifier only adds ``nlu_fallback`` in front of it), and
replays FallbackClassifier's rule for each pair on the grid: a message goes to the fallback when the
top intent's confidence is below ``threshold`` or the top two are closer than ``ambiguity_threshold``.
Prints, per pair, the accuracy on the held-out and typo files (a fallback counts as wrong there),
the out-of-scope probe's safe share, and how many in-scope messages would get "did you mean..."
instead of an answer. docs/nlu.md says how the pair in config.yml was picked from this table.

Run: python bench/fallback_thresholds.py [--model models/lumo.tar.gz]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.nlu_eval import (  # noqa: E402
    HELDOUT,
    HELDOUT_TYPOS,
    OUT_OF_SCOPE_PROBE,
    SAFE_FOR_OUT_OF_SCOPE,
    load_examples,
    predicted_label,
)

THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)
AMBIGUITIES = (0.0, 0.02, 0.05, 0.1)


@dataclass(frozen=True)
class Parsed:
    expected: str
    label: str  # the classifier's answer before FallbackClassifier
    top: float
    second: float


def before_fallback(parse: Dict[str, Any]) -> Tuple[str, float, float]:
    """The classifier's label and top two intent confidences, with FallbackClassifier's entry removed."""
    ranking = [entry for entry in parse.get("intent_ranking") or [] if entry.get("name") != "nlu_fallback"]
    top = ranking[0] if ranking else {"name": "nlu_fallback", "confidence": 0.0}
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    label = predicted_label({**parse, "intent": top})
    return label, float(top["confidence"]), float(second)


def parse_files(model: Path) -> Dict[str, List[Parsed]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse(texts: Sequence[str]) -> List[Dict[str, Any]]:
        return [await agent.parse_message(text) for text in texts]

    parsed: Dict[str, List[Parsed]] = {}
    for name, path in (("held-out", HELDOUT), ("typos", HELDOUT_TYPOS), ("out-of-scope", OUT_OF_SCOPE_PROBE)):
        examples = load_examples(path)
        parses = asyncio.run(parse([text for text, _ in examples]))
        parsed[name] = [Parsed(expected, *before_fallback(p)) for (_text, expected), p in
                        zip(examples, parses, strict=True)]
    return parsed


def replay(items: Sequence[Parsed], threshold: float, ambiguity: float) -> List[str]:
    return ["nlu_fallback" if p.top < threshold or p.top - p.second < ambiguity else p.label for p in items]


def accuracy(items: Sequence[Parsed], threshold: float, ambiguity: float) -> float:
    labels = replay(items, threshold, ambiguity)
    return sum(p.expected == label for p, label in zip(items, labels, strict=True)) / len(items)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "lumo.tar.gz")
    args = parser.parse_args()
    parsed = parse_files(args.model)
    in_scope = parsed["held-out"] + parsed["typos"]
    print(f"{len(parsed['held-out'])} held-out, {len(parsed['typos'])} typo / no-ä-ö, "
          f"{len(parsed['out-of-scope'])} out-of-scope messages; model {args.model}")
    print("| threshold | ambiguity | held-out acc | typos acc | out-of-scope safe | in-scope to fallback "
          "| in-scope wrong answer |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for threshold in THRESHOLDS:
        for ambiguity in AMBIGUITIES:
            oos = replay(parsed["out-of-scope"], threshold, ambiguity)
            safe = sum(label in SAFE_FOR_OUT_OF_SCOPE for label in oos) / len(oos)
            labels = replay(in_scope, threshold, ambiguity)
            to_fallback = sum(label == "nlu_fallback" for label in labels) / len(labels)
            pairs = zip(in_scope, labels, strict=True)
            wrong = sum(label not in ("nlu_fallback", p.expected) for p, label in pairs) / len(labels)
            held_out = accuracy(parsed["held-out"], threshold, ambiguity)
            typos = accuracy(parsed["typos"], threshold, ambiguity)
            print(f"| {threshold:.2f} | {ambiguity:.2f} | {held_out:.1%} | {typos:.1%} | {safe:.1%} "
                  f"| {to_fallback:.1%} | {wrong:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
