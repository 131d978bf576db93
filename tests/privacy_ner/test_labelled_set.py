"""The hand-labelled masking set parses and every labelled entity really is in its sentence.

No accuracy is asserted here: bench/privacy_ner.py measures that (it needs spaCy's Finnish model).
"""

from __future__ import annotations

from collections import Counter

import yaml

from bench.privacy_ner import KINDS, LABELLED, load_labelled


def test_labelled_file_parses_and_every_entity_occurs_in_its_sentence() -> None:
    raw = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))["sentences"]
    sentences = load_labelled()  # raises ValueError for a missing, ambiguous or misplaced substring
    assert len(sentences) == len(raw) >= 80
    for item, sentence in zip(raw, sentences, strict=True):
        assert sentence.text == item["text"]
        for entity, (start, end, kind) in zip(item["entities"], sentence.entities, strict=True):
            assert entity["text"] in sentence.text
            assert sentence.text[start:end] == entity["text"]
            assert kind == entity["kind"] in KINDS
        assert sentence.personal == bool(sentence.entities)


def test_set_has_both_halves_and_both_kinds() -> None:
    sentences = load_labelled()
    halves = Counter(s.personal for s in sentences)
    kinds = Counter(kind for s in sentences for _, _, kind in s.entities)
    assert halves[True] >= 40 and halves[False] >= 40
    assert kinds["PERSON"] > 0 and kinds["ADDRESS"] > 0
    assert len({s.text for s in sentences}) == len(sentences), "duplicate sentence"


def test_street_addresses_are_masked_in_text_editors_and_logs_see():
    from lumo_shared.privacy import mask_personal_data

    assert mask_personal_data("asun nykyään Kalevankatu 12 B 34, Helsinki") == \
        "asun nykyään [katuosoite], Helsinki"
    assert mask_personal_data("muutin Hämeentielle 5:een viime kuussa") == "muutin [katuosoite] viime kuussa"
    # Places and agency words are not personal data: left as they are.
    for text in ("muutin Tampereelle", "Lumon palvelupiste on auki", "asumistuki maksetaan 5. päivä"):
        assert mask_personal_data(text) == text
