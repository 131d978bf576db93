"""LinearClassifier reading a message clause by clause (config ``segments``) and dropping unsure readings
(``min_confidence``), through the real tokenizer and featurizers of config.yml."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from rasa.shared.nlu.constants import FEATURE_TYPE_SEQUENCE

from components.linear_classifier import TOPICS_KEY, _sentence_features, _text_features
from lumo_shared.tracker_events import TOPICS_KEY as SHARED_TOPICS_KEY
from tests.components.test_linear_classifier import Pipeline

SEGMENTS = {"intent": "several_topics", "topic_prefixes": ["faq/"], "confident": 0.5, "max_topics": 3}


@pytest.fixture(autouse=True)
def e5_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMO_E5_CACHE", str(tmp_path / "e5.sqlite"))


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clauses")
    return Pipeline(tmp / "whole"), Pipeline(tmp / "clauses", segments=SEGMENTS)


def test_a_clauses_features_are_the_sums_of_its_tokens_rows(pipelines):
    """What makes scoring a clause without featurizing it again right: for every featurizer, the sum of
    a message's token rows is its sentence row."""
    _whole, pipeline = pipelines
    for message in pipeline.featurize(["miten mä kirjaudun palveluun", "kiitos paljon, moikka!", "maksupäivät?"]):
        sentence, sequence = _sentence_features(message), _text_features(message, FEATURE_TYPE_SEQUENCE)
        assert set(sentence) == set(sequence) and len(sentence) == 2
        for origin, rows in sequence.items():
            assert sp.issparse(rows)
            assert np.allclose(np.asarray(rows.sum(axis=0)).ravel(), sentence[origin].toarray().ravel())


def test_a_message_of_one_clause_is_read_exactly_as_without_clauses(pipelines):
    whole, clauses = pipelines
    texts = ["miten mä kirjaudun palveluun", "kiitos", "milloin tuki maksetaan?", "hei, miten kirjaudun",
             "haluaisin tietää, milloin tuki maksetaan"]
    for before, after in zip(whole.parse(texts), clauses.parse(texts), strict=True):
        for key in ("intent", "intent_ranking", "response_selector"):
            assert after.get(key) == before.get(key), before.get("text")
        assert after.get(TOPICS_KEY) is None


def test_two_questions_become_several_topics_with_each_topic_and_its_clause(pipelines):
    _whole, clauses = pipelines
    [parsed] = clauses.parse(["miten kirjaudun palveluun ja milloin tuki maksetaan?"])
    ranking = parsed.get("intent_ranking")
    assert parsed.get("intent")["name"] == "several_topics" == ranking[0]["name"]
    assert ranking[0]["confidence"] >= max(entry["confidence"] for entry in ranking[1:])
    found = parsed.as_dict(only_output_properties=True)[SHARED_TOPICS_KEY]
    assert found["mode"] == "answer" and found["limit"] == 3 and "acknowledge" not in found
    assert [(t["label"], t["text"]) for t in found["topics"]] == [
        ("faq/login", "miten kirjaudun palveluun"), ("faq/payment_dates", "milloin tuki maksetaan")]
    assert all(0.5 <= t["confidence"] <= 1 for t in found["topics"])
    # the whole message's own reading is still there for everything else that reads the parse
    assert parsed.get("response_selector")["faq"]["response"]["intent_response_key"] in {"faq/login",
                                                                                         "faq/payment_dates"}


def test_without_the_segments_setting_nothing_is_split(pipelines):
    whole, _clauses = pipelines
    [parsed] = whole.parse(["miten kirjaudun palveluun ja milloin tuki maksetaan?"])
    assert parsed.get("intent")["name"] == "faq" and parsed.get(TOPICS_KEY) is None


def test_a_label_below_its_min_confidence_is_no_reading_and_the_next_one_wins(tmp_path):
    plain = Pipeline(tmp_path / "plain", sentence_encoder=None)
    strict = Pipeline(tmp_path / "strict", sentence_encoder=None, min_confidence={"greet": 1.01})
    [before] = plain.parse(["moi"])
    [after] = strict.parse(["moi"])
    assert before.get("intent")["name"] == "greet"
    assert after.get("intent")["name"] != "greet"
    probabilities, _paths = strict.classifier.predict(strict.featurize(["moi"]))
    row = dict(zip(strict.classifier.labels, probabilities[0].tolist(), strict=True))
    assert row["greet"] == 0.0 and sum(row.values()) == pytest.approx(1.0)
    # the other labels keep their proportions
    plain_row = dict(zip(plain.classifier.labels, plain.classifier.predict(plain.featurize(["moi"]))[0][0].tolist(),
                         strict=True))
    rest = 1.0 - plain_row["greet"]
    assert all(row[label] == pytest.approx(plain_row[label] / rest) for label in row if label != "greet")


def test_a_feeling_beside_the_topic_of_the_whole_message_comes_with_its_answer(tmp_path):
    """``feeling_beside``: a message read as a topic whose probabilities also give an ``acknowledge`` label
    enough gets that one topic to answer and the label to acknowledge (thanks stands in for a feeling)."""
    pipeline = Pipeline(tmp_path / "beside", sentence_encoder=None,
                        segments={**SEGMENTS, "acknowledge": ["thank"], "feeling_beside": 1.01})
    text = "kiitos, minä päivänä tuki maksetaan"
    [parsed] = pipeline.parse([text])
    assert parsed.get("intent")["name"] == "faq" and parsed.get(TOPICS_KEY) is None  # 1.01: never
    probabilities, _paths = pipeline.classifier.predict(pipeline.featurize([text]))
    row = dict(zip(pipeline.classifier.labels, probabilities[0].tolist(), strict=True))
    assert max(row, key=row.get) == "faq/payment_dates" and 0.01 < row["thank"]

    pipeline.classifier.segments = replace(pipeline.classifier.segments, feeling_beside=row["thank"] + 0.01)
    assert pipeline.parse([text])[0].get(TOPICS_KEY) is None  # the feeling is not likely enough
    pipeline.classifier.segments = replace(pipeline.classifier.segments, feeling_beside=row["thank"] - 0.01)
    [parsed] = pipeline.parse([text])
    assert parsed.get("intent")["name"] == "several_topics"
    found = parsed.as_dict(only_output_properties=True)[SHARED_TOPICS_KEY]
    assert found["mode"] == "answer" and found["acknowledge"] == "thank"
    assert [(t["label"], t["text"]) for t in found["topics"]] == [("faq/payment_dates", text)]
    assert found["topics"][0]["confidence"] == pytest.approx(row["faq/payment_dates"])


def test_a_feeling_too_weak_to_be_the_reading_can_still_be_beside_the_topic(tmp_path):
    """The feeling's probability is read before ``min_confidence`` drops it: a message whose best label
    is a feeling below its minimum is read as the next label, the topic, with the feeling beside it."""
    config = {"sentence_encoder": None, "min_confidence": {"thank": 1.01}}
    plain = Pipeline(tmp_path / "plain", **config)
    text = "kiitos kiitos, maksupäivät"
    [raw], _paths = plain.classifier._score([_sentence_features(m) for m in plain.featurize([text])], [text])
    raw_row = dict(zip(plain.classifier.labels, raw.tolist(), strict=True))
    assert max(raw_row, key=raw_row.get) == "thank"  # thanks first, dropped by min_confidence
    assert plain.parse([text])[0].get("response_selector")["faq"]["response"]["intent_response_key"] == \
        "faq/payment_dates"
    beside = Pipeline(tmp_path / "beside", segments={**SEGMENTS, "acknowledge": ["thank"],
                                                     "feeling_beside": raw_row["thank"] - 0.01}, **config)
    [parsed] = beside.parse([text])
    found = parsed.as_dict(only_output_properties=True)[SHARED_TOPICS_KEY]
    assert found["acknowledge"] == "thank" and [t["label"] for t in found["topics"]] == ["faq/payment_dates"]
