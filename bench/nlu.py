"""NLU benchmark: Rasa's default pipeline against ours and its ablations, trained and scored in one run.

    python bench/nlu.py                 # Rasa's default pipeline + ours
    python bench/nlu.py --ablations     # also ours with e5 on every message, without e5, with Snowball
                                        # stems, without ä/ö folding, and with spaCy's Finnish pipeline

Every pipeline trains on the same data (data/) from scratch (no training cache, no e5 cache) and is
scored on the held-out files in tests/nlu/ (written independently of the training data). FAQ
messages are scored by their response-selector key. Per pipeline: accuracy, parse median (the whole
NLU graph, one message at a time in one process), classification median (the classifier nodes
alone: DIET + ResponseSelector for Rasa's default, LinearClassifier for ours), the share of messages
that needed the e5 sentence model, and training time. Prints a table and a last summary line, and
writes bench/REPORT.md (NLU section).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
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

# The issue's floor: what the DIET pipeline scored on the files before issue 12's new phrasings.
TARGETS = {"held-out phrasings": 0.960, "typos / no ä-ö": 0.951, "out-of-scope probe": 0.926}
PARSE_MS_TARGET, CLASSIFY_MS_TARGET, TRAIN_S_TARGET = 15.0, 1.0, 60.0
CLASSIFIER_NODES = ("LinearClassifier", "DIETClassifier", "ResponseSelector", "LogisticRegressionClassifier")
RASA = Path(sys.executable).parent / "rasa"
TENSORFLOW_COMPONENTS = ("DIETClassifier", "ResponseSelector", "TEDPolicy", "UnexpecTEDIntentPolicy",
                         "ConveRTFeaturizer", "LanguageModelFeaturizer")


def ours() -> dict:
    with open(ROOT / "config.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _component(config: dict, name: str) -> dict:
    return next(c for c in config["pipeline"] if c["name"].endswith(name))


def variant(kind: str) -> dict:
    """Ours with one part changed (docs/nlu.md explains each)."""
    config = copy.deepcopy(ours())
    pipeline = config["pipeline"]
    if kind == "e5 always":
        _component(config, "LinearClassifier")["e5_below_confidence"] = 1.01
    elif kind == "no e5":
        _component(config, "LinearClassifier")["sentence_encoder"] = None
    elif kind == "stems":
        _component(config, "FinnishTokenizer")["use_dictionary"] = False
    elif kind == "no folding":
        tokenizer = _component(config, "FinnishTokenizer")
        tokenizer["fold_diacritics"] = False
        tokenizer["restore_diacritics"] = False
    elif kind == "spacy":
        # spaCy's Finnish pipeline (tokens, Voikko lemmas, 300-d word vectors) in place of ours.
        index = pipeline.index(_component(config, "FinnishTokenizer"))
        pipeline[index:index + 1] = [
            {"name": "SpacyNLP", "model": "spacy_fi_experimental_web_md", "case_sensitive": False},
            {"name": "SpacyTokenizer"},
            {"name": "SpacyFeaturizer", "pooling": "mean"},
        ]
    else:
        raise ValueError(kind)
    return config


def uses_tensorflow(config: dict) -> bool:
    """Whether a config names one of Rasa's TensorFlow components, or leaves its pipeline to Rasa, whose default
    pipeline has DIET and the ResponseSelector."""
    if not config.get("pipeline"):
        return True
    return any(str(component.get("name")) in TENSORFLOW_COMPONENTS
               for component in [*(config.get("pipeline") or []), *(config.get("policies") or [])])


def train(name: str, config: dict, workdir: Path) -> Tuple[Path, float]:
    config_path = workdir / f"{name}.yml"
    config_path.write_text(yaml.safe_dump({**config, "policies": None}, allow_unicode=True))
    started = time.monotonic()
    # No training cache and no e5 cache: every pipeline trains from scratch, so training times compare.
    env = {**os.environ, "RASA_MAX_CACHE_SIZE": "0", "LUMO_E5_CACHE": str(workdir / f"{name}-e5.sqlite")}
    with open(workdir / f"{name}.log", "wb") as log:
        # Ours trains as `make train` does, without TensorFlow (rasa_runtime/train.py); Rasa's default needs it.
        entry = [sys.executable, "-m", "rasa_runtime.train"] if not uses_tensorflow(config) else [str(RASA), "train"]
        result = subprocess.run(
            [*entry, "nlu", "--config", str(config_path), "--nlu", "data",
             "--domain", "domain.yml", "--out", str(workdir), "--fixed-model-name", name],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    if result.returncode != 0:
        tail = (workdir / f"{name}.log").read_text(errors="replace").strip().splitlines()[-3:]
        print("\n".join(tail), flush=True)
        raise subprocess.CalledProcessError(result.returncode, result.args)
    return workdir / f"{name}.tar.gz", time.monotonic() - started


def evaluate(model: Path) -> Dict[str, object]:
    from rasa.core.agent import Agent
    from rasa.engine.graph import GraphNode

    agent = Agent.load(str(model))
    result: Dict[str, object] = {}
    latencies: List[float] = []
    node_times: Dict[str, List[float]] = collections.defaultdict(list)
    paths: List[str] = []
    original = GraphNode.__call__

    def timed(node: GraphNode, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        output = original(node, *args, **kwargs)
        node_times[node._node_name].append(time.perf_counter() - started)
        return output

    async def parse(texts: List[str]) -> List[dict]:
        out = []
        for text in texts:
            count = {name: len(times) for name, times in node_times.items()}
            started = time.perf_counter()
            parsed = await agent.parse_message(text)
            latencies.append(time.perf_counter() - started)
            classify = sum(sum(times[count.get(name, 0):]) for name, times in node_times.items()
                           if any(part in name for part in CLASSIFIER_NODES))
            node_times["classify"].append(classify)
            paths.append(parsed.get("lumo_nlu_model") or "")
            out.append(parsed)
        return out

    asyncio.run(parse(["moi", "miten kirjaudun", "kiitos"]))  # warm-up: lazy loads, caches
    latencies.clear()
    node_times.clear()
    GraphNode.__call__ = timed  # type: ignore[method-assign]
    try:
        for name, path, oos in (
            ("held-out phrasings", HELDOUT, False),
            ("typos / no ä-ö", HELDOUT_TYPOS, False),
            ("out-of-scope probe", OUT_OF_SCOPE_PROBE, True),
        ):
            examples = load_examples(path)
            parses = asyncio.run(parse([text for text, _ in examples]))
            result[name] = score(name, examples, [predicted_label(p) for p in parses], oos)
    finally:
        GraphNode.__call__ = original  # type: ignore[method-assign]
    result["parse_ms"] = statistics.median(latencies) * 1000
    result["classify_ms"] = statistics.median(node_times["classify"]) * 1000
    result["e5_share"] = (sum(path == "sentence" for path in paths) / len(paths)) if any(paths) else None
    return result


def table(rows: List[Tuple[str, Dict[str, object], float]]) -> List[str]:
    header = (
        "| pipeline | held-out acc | held-out macro-F1 | typos acc | typos macro-F1 "
        "| out-of-scope safe | parse median ms | classification median ms | e5 share | train s |"
    )
    lines = [header, "|" + "---|" * 10]
    for name, result, seconds in rows:
        h, t, o = (result[k] for k in ("held-out phrasings", "typos / no ä-ö", "out-of-scope probe"))
        share = result["e5_share"]
        lines.append(
            f"| {name} | {h.accuracy:.1%} | {h.macro_f1:.3f} | {t.accuracy:.1%} | {t.macro_f1:.3f} "
            f"| {o.accuracy:.1%} | {result['parse_ms']:.1f} | {result['classify_ms']:.2f} "
            f"| {'-' if share is None else f'{share:.0%}'} | {seconds:.0f} |"
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
            ("ours, e5 on every message", variant("e5 always")),
            ("ours without e5", variant("no e5")),
            ("ours, Snowball stems instead of Voikko lemmas", variant("stems")),
            ("ours without ä/ö folding and restoration", variant("no folding")),
            ("ours with spaCy fi (tokens, lemmas, vectors) instead of our tokenizer", variant("spacy")),
        ]
    rows = []
    failed: List[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, config) in enumerate(candidates):
            print(f"training {name} ...", flush=True)
            try:
                model, seconds = train(f"m{index}", config, Path(tmp))
            except subprocess.CalledProcessError:
                if index < 2:
                    raise  # the comparison itself cannot be made
                failed.append(name)  # an ablation that does not train is reported, not fatal
                print(f"training {name} FAILED (the end of rasa train's log is above)", flush=True)
                continue
            rows.append((name, evaluate(model), seconds))
            print("\n".join(table(rows[-1:])[2:]), flush=True)
    lines = table(rows) + [f"| {name} | training failed | | | | | | | | |" for name in failed]
    sizes = {name: load_examples(path) for name, path in
             (("held-out", HELDOUT), ("typos", HELDOUT_TYPOS), ("oos", OUT_OF_SCOPE_PROBE))}
    notes = [
        "",
        f"Test files: {len(sizes['held-out'])} held-out phrasings, {len(sizes['typos'])} typo / no-ä/ö "
        f"phrasings, {len(sizes['oos'])} out-of-scope probes (tests/nlu/). FAQ topics are scored by "
        "their response-selector key; \"out-of-scope safe\" counts answers `out_of_scope` or `nlu_fallback`.",
        "Targets (issue 12): at least the DIET pipeline's 96.0 % held-out, 95.1 % typos, 92.6 % out-of-scope "
        "safe; parse median <= 15 ms, classification <= 1 ms, training <= 60 s (from scratch, 2 cores).",
        "\"e5 share\": messages for which the word model was unsure and the e5 sentence model was asked. "
        "Why each part of our pipeline is there (ablations): docs/nlu.md. Throughput and memory: the Load section.",
    ]
    print("\n".join(lines + notes))
    command = "python bench/nlu.py" + (" --ablations" if args.ablations else "")
    write_section("NLU", "\n".join([f"Generated by `{command}`.", ""] + lines + notes))
    base, (mine, mine_train) = rows[0][1], (rows[1][1], rows[1][2])
    ratio = {k: mine[k].accuracy / max(1e-9, base[k].accuracy) for k in TARGETS}
    met = (all(mine[k].accuracy >= v for k, v in TARGETS.items()) and mine["parse_ms"] <= PARSE_MS_TARGET
           and mine["classify_ms"] <= CLASSIFY_MS_TARGET and mine_train <= TRAIN_S_TARGET)
    print(
        "SUMMARY ours/default accuracy: held-out x{:.2f}, typos x{:.2f}, out-of-scope x{:.2f}; parse {:.1f} ms "
        "(default {:.1f}), classification {:.2f} ms, training {:.0f} s; targets {}".format(
            ratio["held-out phrasings"], ratio["typos / no ä-ö"], ratio["out-of-scope probe"], mine["parse_ms"],
            base["parse_ms"], mine["classify_ms"], mine_train, "met" if met else "NOT met",
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
