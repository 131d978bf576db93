"""Editors' content checks: each problem is found, with the right file, line and Finnish advice."""

from __future__ import annotations

import textwrap
from pathlib import Path

from content.checks import MAX_ANSWER_CHARS, MIN_EXAMPLES, Speller, check_project
from tests.conftest import ROOT


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def examples(prefix: str, count: int) -> str:
    return "".join(f"    - {prefix} kysymys numero {n}\n" for n in range(count))


def project(tmp_path: Path, faq: str) -> Path:
    write(tmp_path, "domain.yml", 'version: "3.1"\nresponses:\n  utter_greet:\n  - text: "Hei!"\n')
    write(tmp_path, "data/faq/topic.yml", faq)
    return tmp_path


def test_the_real_project_has_no_errors():
    findings = check_project(ROOT)
    assert [str(f) for f in findings if f.severity == "virhe"] == []


def test_topic_without_answer_and_too_few_examples(tmp_path):
    root = project(tmp_path, 'version: "3.1"\nnlu:\n- intent: faq/uusi\n  examples: |\n' + examples("uusi", 3))
    findings = [str(f) for f in check_project(root, spelling=False)]
    assert "data/faq/topic.yml:3: virhe: Aiheella faq/uusi ei ole vastausta. Lisää samaan tiedostoon " \
           "responses-kohtaan vastaus nimeltä utter_faq/uusi." in findings
    assert any(f"vain 3 esimerkkiä. Kirjoita vähintään {MIN_EXAMPLES}" in f for f in findings)


def test_answer_without_examples_long_answer_and_bad_link(tmp_path):
    long_text = "Tämä on pitkä vastaus. " * 40
    root = project(tmp_path, f"""
        version: "3.1"
        responses:
          utter_faq/orpo:
          - text: "Katso http://lumo.example/sivu tai https://rikki"
          utter_faq/pitka:
          - text: "{long_text}"
        """)
    findings = [str(f) for f in check_project(root, spelling=False)]
    assert any("utter_faq/orpo ei ole esimerkkejä" in f and f.startswith("data/faq/topic.yml:3:") for f in findings)
    assert any("Linkki http://lumo.example/sivu" in f for f in findings)
    assert any("Linkki https://rikki" in f for f in findings)
    assert any(f"enintään {MAX_ANSWER_CHARS}" in f and f.startswith("data/faq/topic.yml:6:") for f in findings)


def test_same_example_in_two_intents(tmp_path):
    faq = ('version: "3.1"\nnlu:\n- intent: faq/yksi\n  examples: |\n' + examples("yksi", MIN_EXAMPLES)
           + "    - Miten kirjaudun?\n- intent: faq/kaksi\n  examples: |\n" + examples("kaksi", MIN_EXAMPLES)
           + '    - miten  KIRJAUDUN?\nresponses:\n  utter_faq/yksi:\n  - text: "Vastaus yksi."\n'
           + '  utter_faq/kaksi:\n  - text: "Vastaus kaksi."\n')
    root = project(tmp_path, faq)
    [duplicate] = [f for f in check_project(root, spelling=False) if "on myös aiheessa" in f.message]
    assert duplicate.line == 4 + MIN_EXAMPLES + 1 + 2 + MIN_EXAMPLES + 1
    assert "faq/yksi (data/faq/topic.yml:" in duplicate.message


def test_spelling_is_a_warning_and_knows_inflected_finnish():
    speller = Speller(["Lumo"])
    assert speller.unknown_words("Lähetä liitteet asiointipalvelussa Lumon kautta.") == []
    assert speller.unknown_words("Lähetä liiteet asoimtipalvelussa") == ["liiteet", "asoimtipalvelussa"]


def test_broken_yaml_is_reported_not_a_crash(tmp_path):
    root = project(tmp_path, 'version: "3.1"\nnlu:\n- intent: faq/x\n  examples: |\n    - a\n   bad: [\n')
    [finding] = [f for f in check_project(root, spelling=False) if "rakenne on rikki" in f.message]
    assert finding.path == "data/faq/topic.yml" and finding.severity == "virhe"
