"""DIET and ResponseSelector that run one TensorFlow call for a whole list of messages.

Rasa's classifiers predict message by message: `process` loops and calls the model once per
message, and a call costs about 3-5 ms of fixed overhead (model data, tf.function dispatch) before
any arithmetic. Rasa hands `process` a list, and the server batches concurrent visitors' messages
into one list (`rasa_runtime/batching.py`), so here the whole list goes through the model in one
call and Rasa's own per-message code reads its slice. Training and single-message prediction are
Rasa's, unchanged.

Messages are batched only with messages of the same number of tokens: DIET's output for a short
message moves slightly when it is padded to a longer one's length (0.007 in confidence for "moi"
next to a nine-word sentence), so mixing lengths would make the server's answers differ from the
ones the NLU tests check. With equal lengths a batch gives exactly the single-message result (tested).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message


def _row(value: Any, index: int) -> Any:
    """The slice of one batch output that belongs to message ``index`` (batch axis kept)."""
    if isinstance(value, dict):
        return {key: _row(item, index) for key, item in value.items()}
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return value[index : index + 1]
    return value


class BatchPrediction:
    """Mixin for DIET-based classifiers: one model call per `process` list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._batch_outputs: Dict[int, Optional[Dict[str, Any]]] = {}

    def process(self, messages: List[Message]) -> List[Message]:
        """Predicts the whole list in one model call, then lets Rasa fill in each message."""
        self._batch_outputs = self._predict_batch(messages)
        try:
            return super().process(messages)  # type: ignore[misc]
        finally:
            self._batch_outputs = {}

    def _predict(self, message: Message) -> Optional[Dict[str, Any]]:
        if id(message) in self._batch_outputs:
            return self._batch_outputs[id(message)]
        return super()._predict(message)  # type: ignore[misc]

    def _predict_batch(self, messages: List[Message]) -> Dict[int, Optional[Dict[str, Any]]]:
        if len(messages) < 2 or self.model is None:  # type: ignore[attr-defined]
            return {}
        by_length: Dict[int, List[Message]] = {}
        for message in messages:
            by_length.setdefault(len(message.get(TOKENS_NAMES[TEXT]) or ()), []).append(message)
        outputs: Dict[int, Optional[Dict[str, Any]]] = {}
        for group in by_length.values():
            if len(group) > 1:
                outputs.update(self._predict_same_length(group))
        return outputs

    def _predict_same_length(self, messages: List[Message]) -> Dict[int, Optional[Dict[str, Any]]]:
        model_data = self._create_model_data(messages, training=False)  # type: ignore[attr-defined]
        if model_data.is_empty() or model_data.number_of_examples() != len(messages):
            return {}  # some message has no features: Rasa's per-message path handles it
        outputs = self.model.run_inference(model_data, batch_size=len(messages))  # type: ignore[attr-defined]
        return {id(message): _row(outputs, index) for index, message in enumerate(messages)}


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class BatchedDIETClassifier(BatchPrediction, DIETClassifier):
    """Rasa's DIETClassifier, predicting a list of messages in one call."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BatchedResponseSelector(BatchPrediction, ResponseSelector):
    """Rasa's ResponseSelector, predicting a list of messages in one call."""
