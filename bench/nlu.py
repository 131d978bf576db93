"""NLU benchmark: Rasa's default pipeline against ours, trained and scored in one run.

    python bench/nlu.py                 # baseline + ours
    python bench/nlu.py --ablations     # also ours without e5 / without lemmas / without folding

Both pipelines train on the same data (data/) and are scored on the held-out files in tests/nlu/
(written independently of the training data). FAQ messages are scored by their response-selector
key. Prints a table and a last summary line, and writes bench/REPORT.md (NLU section).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.nlu_eval import (  # noqa: E402
    HELDOUT,
    HELDOUT_TYPOS,
    OUT_OF_SCOPE_PROBE,
    load_examples,
    predicted_label,
    score,
)
from bench.report import write_section  # noqa: E402

TARGETS = {"held-out phrasings": 0.95, "typos / no ä-ö": 0.90, "out-of-scope probe": 0.80}
RASA = Path(sys.executable).parent / "rasa"


def ours() -> dict:
    with open(ROOT / "config.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def variant(drop: str) -> dict:
    config = copy.deepcopy(ours())
    pipeline = config["pipeline"]
    if drop == "e5":
        config["pipeline"] = [c for c in pipeline if "E5SentenceFeaturizer" not in c["name"]]
    elif drop == "lemmas":
        for component in pipeline:
            if "FinnishTokenizer" in component["name"]:
                component["use_dictionary"] = False
    elif drop == "folding":  # the opposite: what folding ä/ö and restoring them would do
        for component in pipeline:
            if "FinnishTokenizer" in component["name"]:
                component["fold_diacritics"] = True
                component["restore_diacritics"] = True
    return config


def train(name: str, config: dict, workdir: Path) -> Tuple[Path, float]:
    config_path = workdir / f"{name}.yml"
    config_path.write_text(yaml.safe_dump({**config, "policies": None}, allow_unicode=True))
    started = time.monotonic()
    # No training cache: every pipeline trains from scratch, so training times compare.
    env = {**os.environ, "RASA_MAX_CACHE_SIZE": "0"}
    subprocess.run(
        [str(RASA), "train", "nlu", "--config", str(config_path), "--nlu", "data",
         "--domain", "domain.yml", "--out", str(workdir), "--fixed-model-name", name],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return workdir / f"{name}.tar.gz", time.monotonic() - started


def evaluate(model: Path) -> Dict[str, object]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    result: Dict[str, object] = {}
    latencies: List[float] = []

    async def parse(texts: List[str]) -> List[dict]:
        out = []
        for text in texts:
            started = time.perf_counter()
            out.append(await agent.parse_message(text))
            latencies.append(time.perf_counter() - started)
        return out

    for name, path, oos in (
        ("held-out phrasings", HELDOUT, False),
        ("typos / no ä-ö", HELDOUT_TYPOS, False),
        ("out-of-scope probe", OUT_OF_SCOPE_PROBE, True),
    ):
        examples = load_examples(path)
        parses = asyncio.run(parse([text for text, _ in examples]))
        result[name] = score(name, examples, [predicted_label(p) for p in parses], oos)
    result["parse_ms"] = statistics.median(latencies) * 1000
    return result


def table(rows: List[Tuple[str, Dict[str, object], float]]) -> List[str]:
    header = (
        "| pipeline | held-out acc | held-out macro-F1 | typos acc | typos macro-F1 "
        "| out-of-scope safe | parse median ms | train s |"
    )
    lines = [header, "|" + "---|" * 8]
    for name, result, seconds in rows:
        h, t, o = (result[k] for k in ("held-out phrasings", "typos / no ä-ö", "out-of-scope probe"))
        lines.append(
            f"| {name} | {h.accuracy:.1%} | {h.macro_f1:.3f} | {t.accuracy:.1%} | {t.macro_f1:.3f} "
            f"| {o.accuracy:.1%} | {result['parse_ms']:.1f} | {seconds:.0f} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ablations", action="store_true", help="also train ablated variants of ours")
    args = parser.parse_args()
    with open(ROOT / "bench" / "configs" / "rasa_default.yml", encoding="utf-8") as handle:
        baseline = yaml.safe_load(handle)
    candidates = [("Rasa default", baseline), ("ours (config.yml)", ours())]
    if args.ablations:
        candidates += [
            ("ours without e5", variant("e5")),
            ("ours, Snowball stems instead of Voikko lemmas", variant("lemmas")),
            ("ours with ä/ö folding + restoration", variant("folding")),
        ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, config) in enumerate(candidates):
            print(f"training {name} ...", flush=True)
            model, seconds = train(f"m{index}", config, Path(tmp))
            rows.append((name, evaluate(model), seconds))
    lines = table(rows)
    sizes = {name: load_examples(path) for name, path in
             (("held-out", HELDOUT), ("typos", HELDOUT_TYPOS), ("oos", OUT_OF_SCOPE_PROBE))}
    notes = [
        "",
        f"Test files: {len(sizes['held-out'])} held-out phrasings, {len(sizes['typos'])} typo / no-ä/ö "
        f"phrasings, {len(sizes['oos'])} out-of-scope probes (tests/nlu/). FAQ topics are scored by "
        "their response-selector key; \"out-of-scope safe\" counts answers `out_of_scope` or `nlu_fallback`.",
        "Targets: held-out >= 95 %, typos >= 90 %, out-of-scope safe >= 80 %.",
        "Why each part of our pipeline is there (ablations): docs/nlu.md. Parse latency is per message in one "
        "process; throughput is issue 5's benchmark.",
    ]
    print("\n".join(lines + notes))
    command = "python bench/nlu.py" + (" --ablations" if args.ablations else "")
    write_section("NLU", "\n".join([f"Generated by `{command}`.", ""] + lines + notes))
    base, mine = rows[0][1], rows[1][1]
    ratio = {k: mine[k].accuracy / max(1e-9, base[k].accuracy) for k in TARGETS}
    met = all(mine[k].accuracy >= v for k, v in TARGETS.items())
    print(
        "SUMMARY ours/default accuracy: held-out x{:.2f}, typos x{:.2f}, out-of-scope x{:.2f}; targets {}".format(
            ratio["held-out phrasings"], ratio["typos / no ä-ö"], ratio["out-of-scope probe"],
            "met" if met else "NOT met",
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
