"""The Finnish NLU components as Rasa graph components, on real Rasa messages."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.e5_encoder import E5Encoder
from components.finnish_morphology import FinnishLemmatizer, fold_diacritics
from components.finnish_tokenizer import FinnishTokenizer


@pytest.fixture(scope="module")
def lemmatizer() -> FinnishLemmatizer:
    return FinnishLemmatizer()


@pytest.fixture
def context() -> ExecutionContext:
    return ExecutionContext(graph_schema=None, node_name="test_node")


def tokenizer(**config) -> FinnishTokenizer:
    return FinnishTokenizer.create({**FinnishTokenizer.get_default_config(), **config}, None, None, None)


def test_fold_diacritics_keeps_length():
    assert fold_diacritics("Käsittely Ööliä Åbo") == "Kasittely Oolia Abo"


@pytest.mark.parametrize(
    "words",
    [
        ("kirjaudun", "kirjautumaan", "kirjautua"),  # inflected verb forms
        ("käsittely", "kasittely"),  # missing umlauts
        ("pääsen", "paasen", "pääsee"),
        ("liitteet", "liitteen", "liite"),
        ("onks", "onko"),  # spoken clitic form
        ("mä", "minä"),
    ],
)
def test_forms_of_one_word_share_a_lemma_key(lemmatizer, words):
    keys = {lemmatizer.lemma(word) for word in words}
    assert len(keys) == 1, dict(zip(words, lemmatizer.lemmas(words), strict=True))


def test_different_words_keep_different_keys(lemmatizer):
    assert lemmatizer.lemma("hakemus") != lemmatizer.lemma("päätös")
    assert lemmatizer.lemma("kirjautua") != lemmatizer.lemma("kirjoittaa")


def test_unknown_words_fall_back_to_snowball_stems(lemmatizer):
    # Neither in the dictionary nor fixable: the stem still unites the inflections.
    assert lemmatizer.lemma("zzblorgeilla") == lemmatizer.lemma("zzblorgeille")


def test_dictionary_can_be_switched_off():
    stems_only = FinnishLemmatizer(use_dictionary=False)
    assert stems_only.lemma("kirjaudun") != FinnishLemmatizer().lemma("kirjaudun")


def test_tokenizer_folds_surface_and_sets_lemmas_without_moving_offsets():
    message = Message(data={TEXT: "Onks mun hakemus KÄSITELTY?"})
    tokenizer().process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert [t.text for t in tokens] == ["onks", "mun", "hakemus", "kasitelty"]
    assert [(t.start, t.end) for t in tokens] == [(0, 4), (5, 8), (9, 16), (17, 26)]
    assert tokens[0].lemma == "olla"
    assert tokens[1].lemma == "mina"


@pytest.mark.parametrize("glued, parts", [("enhaluu", ["en", "haluu"]), ("eitarvitse", ["ei", "tarvitse"]),
                                          ("onkshakemus", ["onks", "hakemus"])])
def test_a_negation_or_question_word_glued_to_a_known_word_is_split(lemmatizer, glued, parts):
    assert lemmatizer.parts(glued) == parts


@pytest.mark.parametrize("word", ["eilen", "etuus", "entinen", "onnistuu", "eteenpäin", "ettei", "zzblorg"])
def test_known_and_unsplittable_words_stay_whole(lemmatizer, word):
    assert lemmatizer.parts(word) == [word]


def test_tokenizer_splits_glued_words_into_tokens_over_the_same_characters():
    message = Message(data={TEXT: "Eitarvitse kiitos"})
    tokenizer().process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert [t.text for t in tokens] == ["ei", "tarvitse", "kiitos"]
    assert [(t.start, t.end) for t in tokens] == [(0, 2), (2, 10), (11, 17)]
    assert [t.lemma for t in tokens[:2]] == ["ei", "tarvita"]


def test_tokenizer_without_folding_keeps_umlauts():
    message = Message(data={TEXT: "käsittely"})
    tokenizer(fold_diacritics=False).process([message])
    assert message.get(TOKENS_NAMES[TEXT])[0].text == "käsittely"


def test_count_vectors_see_lemmas_and_surface(tmp_path, context):
    storage = LocalModelStorage(tmp_path)
    train = TrainingData([Message(data={TEXT: "miten kirjaudun", "intent": "a"}),
                          Message(data={TEXT: "kasittely kestaa", "intent": "b"})])
    tokenizer().process_training_data(train)
    featurizer = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "use_lemma": True}, storage, Resource("cvf"), context
    )
    featurizer.train(train)
    featurizer.process_training_data(train)
    message = Message(data={TEXT: "kirjautumaan ei pääse"})
    tokenizer().process([message])
    featurizer.process([message])
    seq, sentence = message.get_sparse_features(TEXT)
    # "kirjautumaan" shares the lemma of "kirjaudun": a known word, so the sentence vector is not empty.
    assert sentence.features.sum() > 0


def test_e5_encoder_gives_normalised_vectors_that_know_paraphrases():
    vectors = E5Encoder().embed(["en pääse kirjautumaan", "kirjautuminen ei onnistu", "mikä on lasagnen resepti"])
    assert vectors.shape == (3, 384)
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0, atol=1e-3)
    # Paraphrases sit closer than an unrelated sentence.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_e5_cache_gives_the_same_vectors_and_embeds_only_new_texts(tmp_path, monkeypatch):
    encoder = E5Encoder()
    cache = tmp_path / "e5.sqlite"
    texts = ["miten kirjaudun", "kiitos", "miten kirjaudun"]
    first = encoder.embed_cached(texts, cache)
    assert np.array_equal(first, encoder.embed(texts))
    embedded = []
    original = encoder.embed

    def counting(batch):
        embedded.extend(batch)
        return original(batch)

    monkeypatch.setattr(encoder, "embed", counting)
    again = encoder.embed_cached(["kiitos", "uusi esimerkki", "miten kirjaudun"], cache)
    assert embedded == ["uusi esimerkki"]
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[0])


def test_e5_cache_that_cannot_be_opened_is_skipped(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    vectors = E5Encoder().embed_cached(["moi"], blocker / "e5.sqlite")
    assert vectors.shape == (1, 384)
