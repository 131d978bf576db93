"""spaCy's Finnish NER as a masker of names and street addresses (issue 12): accuracy and cost.

    python bench/privacy_ner.py        # no arguments; prints Markdown tables

Scores maskers on the hand-labelled sentences in tests/privacy_ner/labelled.yml (PERSON and ADDRESS
spans, plus sentences with no personal data at all):

- token-level precision / recall per kind (tokens are words; "34:ssä" is one word, "Jukka-Pekka" two),
- "hidden": share of labelled entities whose every word the masker blanks (with any tag),
- how many words it blanks in the sentences that hold no personal data.

Then measures what the pipeline costs in a fresh process (import and load time, resident memory,
median milliseconds per message over held-out chat messages from tests/nlu/heldout.yml).

Nothing here is used by the service; it only informs the decision in issue 12.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lumo_shared.privacy import STREET_ADDRESS  # noqa: E402

LABELLED = ROOT / "tests" / "privacy_ner" / "labelled.yml"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
MODEL = "spacy_fi_experimental_web_md"  # pip package spacy-fi-experimental-web-md==0.11.0 (spaCy 3.4)
KINDS = ("PERSON", "ADDRESS")
# spaCy labels a masker would treat as an address (the model has no street-address label).
SPACY_PLACE_LABELS = {"FAC", "LOC", "GPE"}

Span = Tuple[int, int, str]  # start, end (exclusive), kind


@dataclass(frozen=True)
class Sentence:
    text: str
    personal: bool
    entities: Tuple[Span, ...]


def load_labelled(path: Path = LABELLED) -> List[Sentence]:
    """The labelled sentences, every entity resolved to a character span.

    Raises ValueError when an entity's substring is not in its sentence, occurs more than once
    without a ``start``, or its ``start`` does not point at it.
    """
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    sentences = []
    for number, item in enumerate(data["sentences"], 1):
        text, personal = item["text"], item["personal"]
        if not isinstance(text, str) or not isinstance(personal, bool):
            raise ValueError(f"sentence {number}: text must be a string and personal true/false")
        spans = []
        for entity in item.get("entities") or []:
            sub, kind = entity["text"], entity["kind"]
            if kind not in KINDS:
                raise ValueError(f"sentence {number}: unknown kind {kind!r}")
            if "start" in entity:
                start = entity["start"]
                if text[start : start + len(sub)] != sub:
                    raise ValueError(f"sentence {number}: {sub!r} is not at {start} in {text!r}")
            else:
                start = text.find(sub)
                if start < 0:
                    raise ValueError(f"sentence {number}: {sub!r} does not occur in {text!r}")
                if text.find(sub, start + 1) >= 0:
                    raise ValueError(f"sentence {number}: {sub!r} occurs twice in {text!r}: give start")
            spans.append((start, start + len(sub), kind))
        if personal != bool(spans):
            raise ValueError(f"sentence {number}: personal: {personal} but {len(spans)} entities")
        sentences.append(Sentence(text, personal, tuple(spans)))
    return sentences


# --- the address regex ---------------------------------------------------------------------------
# The address pattern the project masks with (lumo_shared/privacy.py).


def regex_addresses(text: str) -> List[Span]:
    return [(m.start(), m.end(), "ADDRESS") for m in STREET_ADDRESS.finditer(text)]


# --- scoring --------------------------------------------------------------------------------------
_WORD = re.compile(r"\w+(?::\w+)?")


def _words(text: str) -> List[Tuple[int, int]]:
    return [(m.start(), m.end()) for m in _WORD.finditer(text)]


def _covered(word: Tuple[int, int], spans: Sequence[Span], kind: Optional[str] = None) -> bool:
    return any(s < word[1] and word[0] < e and (kind is None or k == kind) for s, e, k in spans)


def score(sentences: Sequence[Sentence], predictions: Sequence[Sequence[Span]], kinds: Sequence[str]) -> dict:
    """Token-level P/R per kind in ``kinds``, share of entities fully hidden, blanks in clean sentences."""
    counts = {kind: [0, 0, 0] for kind in (*KINDS, "ANY")}  # tp, fp, fn
    hidden = {kind: [0, 0] for kind in KINDS}  # fully blanked, total
    clean_words = clean_blanked = clean_touched = 0
    blanked_examples: List[str] = []
    for sentence, predicted in zip(sentences, predictions, strict=True):
        for word in _words(sentence.text):
            for kind in (*KINDS, "ANY"):
                gold = _covered(word, sentence.entities, None if kind == "ANY" else kind)
                pred = _covered(word, predicted, None if kind == "ANY" else kind)
                tally = counts[kind]
                tally[0] += gold and pred
                tally[1] += pred and not gold
                tally[2] += gold and not pred
            if not sentence.personal:
                clean_words += 1
                if _covered(word, predicted):
                    clean_blanked += 1
                    blanked_examples.append(sentence.text[word[0] : word[1]])
        for start, end, kind in sentence.entities:
            inner = [w for w in _words(sentence.text) if start <= w[0] and w[1] <= end]
            hidden[kind][1] += 1
            hidden[kind][0] += all(_covered(w, predicted) for w in inner)
        if not sentence.personal and predicted:
            clean_touched += 1

    def ratio(a: int, b: int) -> Optional[float]:
        return a / b if b else None

    result: dict = {}
    for kind, (tp, fp, fn) in counts.items():
        predicts_kind = kind == "ANY" or kind in kinds
        result[kind] = {
            "p": ratio(tp, tp + fp) if predicts_kind else None,
            "r": ratio(tp, tp + fn) if predicts_kind else None,
        }
    for kind, (done, total) in hidden.items():
        result[kind]["hidden"] = (done, total)
    clean_sentences = sum(not s.personal for s in sentences)
    result["clean"] = (clean_blanked, clean_words, clean_touched, clean_sentences)
    result["clean_examples"] = blanked_examples
    return result


def spacy_entities(nlp, sentences: Sequence[Sentence]) -> List[List[Tuple[int, int, str]]]:
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(s.text for s in sentences)]


def maskers(ents: List[List[Tuple[int, int, str]]], sentences: Sequence[Sentence]) -> Dict[str, Tuple[list, tuple]]:
    """name -> (predicted spans per sentence, kinds the masker predicts)."""
    person = [[(s, e, "PERSON") for s, e, label in doc if label == "PERSON"] for doc in ents]
    places = [[(s, e, "ADDRESS") for s, e, label in doc if label in SPACY_PLACE_LABELS] for doc in ents]
    regex = [regex_addresses(sentence.text) for sentence in sentences]
    return {
        "spaCy PERSON only": (person, ("PERSON",)),
        "spaCy PERSON + FAC/LOC/GPE as address": (
            [p + q for p, q in zip(person, places, strict=True)],
            KINDS,
        ),
        "address regex only": (regex, ("ADDRESS",)),
        "spaCy PERSON + address regex": ([p + q for p, q in zip(person, regex, strict=True)], KINDS),
    }


def _pct(value: Optional[float]) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def accuracy_table(sentences: Sequence[Sentence], ents) -> Tuple[str, Dict[str, dict]]:
    n_person = sum(k == "PERSON" for s in sentences for _, _, k in s.entities)
    n_address = sum(k == "ADDRESS" for s in sentences for _, _, k in s.entities)
    n_personal = sum(s.personal for s in sentences)
    lines = [
        f"{len(sentences)} sentences: {n_personal} with personal data ({n_person} PERSON, {n_address} ADDRESS "
        f"entities), {len(sentences) - n_personal} without. P/R are token-level for that kind; 'hidden' = "
        "entities whose every word is blanked (any tag); 'any' = P/R of blanking personal words, kind ignored.",
        "",
        "| masker | PERSON P | PERSON R | PERSON hidden | ADDRESS P | ADDRESS R | ADDRESS hidden "
        "| any P | any R | clean: words blanked | clean: sentences touched |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    results = {}
    for name, (predicted, kinds) in maskers(ents, sentences).items():
        r = score(sentences, predicted, kinds)
        results[name] = r
        blanked, words, touched, clean = r["clean"]
        hidden = {k: f"{r[k]['hidden'][0]}/{r[k]['hidden'][1]}" for k in KINDS}
        lines.append(
            f"| {name} | {_pct(r['PERSON']['p'])} | {_pct(r['PERSON']['r'])} | {hidden['PERSON']} "
            f"| {_pct(r['ADDRESS']['p'])} | {_pct(r['ADDRESS']['r'])} | {hidden['ADDRESS']} "
            f"| {_pct(r['ANY']['p'])} | {_pct(r['ANY']['r'])} | {blanked}/{words} | {touched}/{clean} |"
        )
    return "\n".join(lines), results


# --- cost in a fresh process ----------------------------------------------------------------------
_COST_PROBE = r"""
import json, statistics, sys, time
def rss_mib():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
block_tf, ner_only = sys.argv[1] == "1", sys.argv[2] == "1"
texts = json.load(sys.stdin)
if block_tf:
    sys.modules["tensorflow"] = None  # thinc imports TensorFlow when it is installed; this skips it
r0, t0 = rss_mib(), time.perf_counter()
import spacy
r1, t1 = rss_mib(), time.perf_counter()
exclude = ["tok2vec", "tagger", "morphologizer", "parser", "attribute_ruler", "lemmatizer"] if ner_only else []
nlp = spacy.load(sys.argv[3], exclude=exclude)
r2, t2 = rss_mib(), time.perf_counter()
for text in texts[:20]:
    nlp(text)
times = []
for text in texts:
    start = time.perf_counter()
    nlp(text)
    times.append(1000 * (time.perf_counter() - start))
times.sort()
print(json.dumps({
    "import_s": t1 - t0, "load_s": t2 - t1, "rss_start": r0, "rss_import": r1, "rss_load": r2,
    "rss_end": rss_mib(), "median_ms": statistics.median(times), "p95_ms": times[int(0.95 * len(times)) - 1],
    "tensorflow": sys.modules.get("tensorflow") is not None, "pipes": nlp.pipe_names, "n": len(texts),
}))
"""


def heldout_messages(limit: int = 200) -> List[str]:
    with open(HELDOUT, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    texts = []
    for block in data["nlu"]:
        for line in (block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                texts.append(line[2:].strip())
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]


def cost_table() -> str:
    texts = heldout_messages()
    variants = [
        ("full pipeline (as installed: thinc also imports TensorFlow)", "0", "0"),
        ("full pipeline, TensorFlow import blocked", "1", "0"),
        ("NER only (`exclude` the other pipes), TensorFlow blocked", "1", "1"),
    ]
    lines = [
        f"Fresh process each; {len(texts)} held-out chat messages from tests/nlu/heldout.yml "
        f"(median {statistics.median(len(t) for t in texts):.0f} characters), one `nlp(text)` call each.",
        "",
        "| variant | import spacy | spacy.load | RSS before | + import | + load | after messages "
        "| median ms/msg | p95 ms/msg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, block_tf, ner_only in variants:
        out = subprocess.run(
            [sys.executable, "-c", _COST_PROBE, block_tf, ner_only, MODEL],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        m = json.loads(out.stdout.strip().splitlines()[-1])
        lines.append(
            f"| {name} | {m['import_s']:.1f} s | {m['load_s']:.1f} s | {m['rss_start']:.0f} MiB "
            f"| +{m['rss_import'] - m['rss_start']:.0f} MiB | +{m['rss_load'] - m['rss_import']:.0f} MiB "
            f"| {m['rss_end']:.0f} MiB | {m['median_ms']:.1f} | {m['p95_ms']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    import spacy

    sentences = load_labelled()
    nlp = spacy.load(MODEL)
    ents = spacy_entities(nlp, sentences)
    table, results = accuracy_table(sentences, ents)
    print(f"## spaCy Finnish NER as a masker ({MODEL} {nlp.meta['version']}, spaCy {spacy.__version__})\n")
    print(f"NER labels: {', '.join(nlp.get_pipe('ner').labels)}\n")
    print(table)
    print("\nWords blanked in the sentences without personal data:\n")
    for name, r in results.items():
        print(f"- {name}: {', '.join(r['clean_examples']) or 'none'}")
    missed = [
        sentence.text[s:e]
        for sentence, doc in zip(sentences, ents, strict=True)
        for s, e, kind in sentence.entities
        if kind == "PERSON" and not any(ps < e and s < pe and label == "PERSON" for ps, pe, label in doc)
    ]
    print(f"\nPERSON entities spaCy does not touch at all: {', '.join(missed) or 'none'}")
    other = sorted(
        {
            f"{sentence.text[s:e]} ({label})"
            for sentence, doc in zip(sentences, ents, strict=True)
            for s, e, label in doc
            if label != "PERSON"
        }
    )
    print(f"\nOther spaCy entities on the set: {'; '.join(other) or 'none'}")
    print("\n## Cost\n")
    print(cost_table())


if __name__ == "__main__":
    main()
