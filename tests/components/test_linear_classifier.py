"""LinearClassifier as a Rasa graph component: Rasa's output format, determinism, persistence, the e5 cascade.

Trained on a small inline data set through the real tokenizer and featurizers of config.yml.
"""

from __future__ import annotations

import random
from typing import List, Tuple

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.finnish_tokenizer import FinnishTokenizer
from components.linear_classifier import PATH_KEY, LinearClassifier, training_examples
from tests.conftest import ROOT

EXAMPLES: List[Tuple[str, str]] = [
    ("greet", "moi"), ("greet", "hei"), ("greet", "hyvää päivää"), ("greet", "terve"), ("greet", "moikka"),
    ("thank", "kiitos"), ("thank", "kiitti"), ("thank", "kiitos paljon"), ("thank", "kiitos avusta"),
    ("faq/login", "miten kirjaudun"), ("faq/login", "miten kirjaudun asiointipalveluun"),
    ("faq/login", "millä tunnuksilla kirjaudutaan"), ("faq/login", "kirjautuminen pankkitunnuksilla"),
    ("faq/login", "missä on kirjautuminen"),
    ("faq/payment_dates", "milloin tuki maksetaan"), ("faq/payment_dates", "maksupäivät"),
    ("faq/payment_dates", "mikä on maksupäivä"), ("faq/payment_dates", "koska rahat tulee tilille"),
    ("faq/payment_dates", "minä päivänä maksatte"),
    ("out_of_scope", "anna lasagnen resepti"), ("out_of_scope", "kuka voitti jääkiekon mm-kultaa"),
    ("out_of_scope", "sataako huomenna"), ("out_of_scope", "kerro vitsi"),
]
RESPONSES = {
    "utter_faq/login": [{"text": "Kirjaudu osoitteessa https://asiointi.lumo.example."}],
    "utter_faq/payment_dates": [{"text": "Tuki maksetaan kuun 5. päivä."}],
}


def message(label: str, text: str) -> Message:
    intent, _, topic = label.partition("/")
    data = {TEXT: text, "intent": intent}
    if topic:
        data["intent_response_key"] = label
    return Message(data=data)


class Pipeline:
    """Tokenizer + the two CountVectorsFeaturizers of config.yml + the classifier, trained in a temp dir."""

    def __init__(self, tmp_path, examples=EXAMPLES, **config) -> None:
        (tmp_path / "storage").mkdir(parents=True)
        self.storage = LocalModelStorage(tmp_path / "storage")
        self.tokenizer = FinnishTokenizer.create(
            {**FinnishTokenizer.get_default_config(), "fold_diacritics": True, "restore_diacritics": True},
            None, None, None)
        self.featurizers = []
        for index, extra in enumerate(({"use_lemma": True},
                                       {"analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5, "use_lemma": False})):
            context = ExecutionContext(graph_schema=None, node_name=f"run_CountVectorsFeaturizer{index}")
            self.featurizers.append(CountVectorsFeaturizer.create(
                {**CountVectorsFeaturizer.get_default_config(), **extra}, self.storage, Resource(f"cv{index}"),
                context))
        self.config = {**LinearClassifier.get_default_config(), **config}
        self.resource = Resource("linear")
        self.context = ExecutionContext(graph_schema=None, node_name="run_LinearClassifier")
        data = TrainingData([message(label, text) for label, text in examples], responses=RESPONSES)
        self.tokenizer.process_training_data(data)
        for featurizer in self.featurizers:
            featurizer.train(data)
            featurizer.process_training_data(data)
        self.classifier = LinearClassifier.create(self.config, self.storage, self.resource, self.context)
        self.classifier.train(data)

    def featurize(self, texts: List[str]) -> List[Message]:
        messages = [Message(data={TEXT: text}) for text in texts]
        self.tokenizer.process(messages)
        for featurizer in self.featurizers:
            featurizer.process(messages)
        return messages

    def parse(self, texts: List[str], classifier=None) -> List[Message]:
        messages = self.featurize(texts)
        (classifier or self.classifier).process(messages)
        return messages

    def loaded(self) -> LinearClassifier:
        return LinearClassifier.load(self.config, self.storage, self.resource, self.context)


@pytest.fixture(autouse=True)
def e5_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMO_E5_CACHE", str(tmp_path / "e5.sqlite"))


@pytest.fixture
def pipeline(tmp_path) -> Pipeline:
    return Pipeline(tmp_path)


def test_fills_intent_ranking_and_response_selector_as_rasa_does(pipeline):
    [parsed] = pipeline.parse(["miten mä kirjaudun palveluun"])
    intent = parsed.get("intent")
    assert intent["name"] == "faq" and 0 < intent["confidence"] <= 1
    ranking = parsed.get("intent_ranking")
    assert [entry["name"] for entry in ranking][0] == "faq"
    assert {entry["name"] for entry in ranking} == {"faq", "greet", "thank", "out_of_scope"}
    assert ranking == sorted(ranking, key=lambda entry: -entry["confidence"])
    selector = parsed.get("response_selector")
    assert selector["all_retrieval_intents"] == ["faq"]
    response = selector["faq"]["response"]
    assert response["intent_response_key"] == "faq/login"
    assert response["utter_action"] == "utter_faq/login"
    assert response["responses"] == RESPONSES["utter_faq/login"]
    topics = selector["faq"]["ranking"]
    assert [entry["intent_response_key"] for entry in topics] == ["faq/login", "faq/payment_dates"]
    assert sum(entry["confidence"] for entry in topics) == pytest.approx(1.0)
    assert all(isinstance(entry["id"], int) for entry in topics)
    # In Rasa's parse output, as DIET and the ResponseSelector would put them.
    output = parsed.as_dict(only_output_properties=True)
    assert {"intent", "intent_ranking", "response_selector"} <= set(output)


def test_a_retrieval_intent_scores_as_its_best_topic_not_the_sum(pipeline):
    classifier = pipeline.classifier
    [features] = pipeline.featurize(["maksupäivä kirjautuminen"])
    probabilities, _paths = classifier.predict([features])
    row = dict(zip(classifier.labels, probabilities[0].tolist(), strict=True))
    classifier._fill(features, probabilities[0])
    faq = next(entry for entry in features.get("intent_ranking") if entry["name"] == "faq")
    assert faq["confidence"] == pytest.approx(max(row["faq/login"], row["faq/payment_dates"]))


def test_plain_intents_have_no_selector_topic_leak(pipeline):
    [parsed] = pipeline.parse(["kiitti"])
    assert parsed.get("intent")["name"] == "thank"
    assert parsed.get("intent")["confidence"] == parsed.get("intent_ranking")[0]["confidence"]


def test_the_same_data_in_any_order_trains_the_same_weights_bit_for_bit(tmp_path):
    first = Pipeline(tmp_path / "a").classifier
    shuffled = list(EXAMPLES)
    random.Random(7).shuffle(shuffled)
    second = Pipeline(tmp_path / "b", examples=shuffled).classifier
    assert first.labels == second.labels
    for model in ("words", "sentence"):
        assert np.array_equal(getattr(first, model).weights, getattr(second, model).weights)
        assert np.array_equal(getattr(first, model).intercept, getattr(second, model).intercept)
    for block_a, block_b in zip(first.matrix.blocks, second.matrix.blocks, strict=True):
        assert np.array_equal(block_a.idf, block_b.idf)


def test_a_persisted_model_loads_and_predicts_the_same(pipeline):
    texts = ["moi", "milloin rahat tulee", "sataako lunta", "en tiedä mitä kysyisin"]
    before = pipeline.classifier.predict(pipeline.featurize(texts))
    loaded = pipeline.loaded()
    after = loaded.predict(pipeline.featurize(texts))
    assert np.array_equal(before[0], after[0]) and before[1] == after[1]
    assert loaded.responses == RESPONSES


def test_e5_runs_only_for_messages_the_word_model_is_unsure_of(tmp_path, monkeypatch):
    pipeline = Pipeline(tmp_path, e5_below_confidence=0.5)
    embedded: List[str] = []
    original = pipeline.classifier.encoder.embed
    monkeypatch.setattr(pipeline.classifier.encoder, "embed", lambda texts: embedded.extend(texts) or original(texts))
    texts = ["kiitos paljon", "asdf qwerty"]
    classifier = pipeline.classifier
    _probabilities, paths = classifier.predict(pipeline.featurize(texts))
    words_only = classifier.words.probabilities(classifier.matrix.transform(pipeline.featurize(texts)))
    for row, path in zip(words_only, paths, strict=True):
        assert path == ("words" if row.max() >= 0.5 else "sentence")
    assert embedded == [text for text, path in zip(texts, paths, strict=True) if path == "sentence"]
    assert "sentence" in paths and "words" in paths  # the test data exercises both
    parsed = pipeline.parse(texts)
    assert [m.get(PATH_KEY) for m in parsed] == paths


@pytest.mark.parametrize("threshold, expected", [(0.0, "words"), (1.01, "sentence")])
def test_the_e5_threshold_switches_the_sentence_model_off_and_on(tmp_path, threshold, expected):
    pipeline = Pipeline(tmp_path, e5_below_confidence=threshold)
    _probabilities, paths = pipeline.classifier.predict(pipeline.featurize(["moi", "mikä on pi"]))
    assert paths == [expected, expected]


def test_without_a_sentence_encoder_only_the_word_model_is_trained(tmp_path):
    pipeline = Pipeline(tmp_path, sentence_encoder=None)
    assert pipeline.classifier.sentence is None and pipeline.classifier.encoder is None
    [parsed] = pipeline.parse(["kiitos"])
    assert parsed.get("intent")["name"] == "thank" and parsed.get(PATH_KEY) == "words"
    assert pipeline.loaded().sentence is None


def test_messages_without_text_are_left_alone(pipeline):
    empty = Message(data={"intent": "greet"})
    pipeline.classifier.process([empty])
    assert empty.get("intent") == "greet" and empty.get("response_selector") is None


def test_an_untrained_component_loads_and_predicts_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    storage = LocalModelStorage(tmp_path / "empty")
    context = ExecutionContext(graph_schema=None, node_name="x")
    classifier = LinearClassifier.load(LinearClassifier.get_default_config(), storage, Resource("none"), context)
    message = Message(data={TEXT: "moi"})
    assert classifier.process([message]) == [message] and message.get("intent") is None


def test_invalid_config_is_refused():
    with pytest.raises(ValueError):
        LinearClassifier.validate_config({"C": 0})
    with pytest.raises(ValueError):
        LinearClassifier.validate_config({"sentence_encoder": "bert"})


def test_training_examples_are_read_from_the_shipped_model_archive():
    model = ROOT / "models" / "lumo.tar.gz"
    if not model.exists():
        pytest.fail("models/lumo.tar.gz is missing: run `make train` (make test does it)")
    examples = training_examples(model)
    assert ("faq/login", "miten kirjaudun") in examples
    assert len(examples) > 1000 and all(label and text for label, text in examples)


def test_sentence_features_of_a_featurizer_without_a_name_are_read():
    # SpacyFeaturizer (the spaCy ablation) leaves its features' origin unset; CountVectors names itself,
    # and Rasa joins the names of combined features into a list.
    from rasa.shared.nlu.training_data.features import Features

    from components.linear_classifier import _sentence_features

    message = Message(data={TEXT: "hei"})
    for origin in (None, "CountVectorsFeaturizer", ["a", "b"]):
        message.features.append(Features(np.ones((1, 3)), "sentence", TEXT, origin))
    assert set(_sentence_features(message)) == {"None", "CountVectorsFeaturizer", "a+b"}
