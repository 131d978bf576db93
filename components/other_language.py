"""Swedish and English visitors: the message's language as an entity, and an intent for what has no content yet.

Runs after the intent classifier and before FallbackClassifier (config.yml). For every message it
identifies the language (components/language_id.py: Finnish, Swedish, English, or not sure) and

- puts it in the parse output as ``language`` (``{"name": "sv", "confidence": 0.93}``; name None when
  not sure): the editors' missed-messages inbox reads it from the tracker (content/missed.py);
- when sure, adds the entity ``language`` with that code: the slot ``language`` (domain.yml) follows it,
  and responses with variations conditioned on the slot answer in that language. A message the
  identifier is not sure of ("ok", "Anna", an emoji) leaves the slot as it was;
- for a language in ``languages_without_content`` (today Swedish and English: the FAQ and the rest of
  the content are Finnish) it replaces the intent with ``intent`` (``other_language``, whose rule
  explains in that language what the service offers), unless the classifier was sure of one of
  ``keep_intents`` (a greeting, thanks, yes/no, "are you a bot", a request for a human): those have
  answers in every language as response variations, so "thanks" keeps its own answer.

Adding full Swedish content later is data, not code: Swedish training examples and ``language: sv``
variations of the responses, and "sv" out of ``languages_without_content`` in config.yml.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from components.language_id import Identification, LanguageIdentifier, LanguageSettings

# The parse output's key for the identification (content/missed.py reads it from tracker events).
LANGUAGE_KEY = "language"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=False,
)
class OtherLanguageClassifier(GraphComponent, IntentClassifier, EntityExtractorMixin):
    """The message's language as an entity, and ``other_language`` for languages without content."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        defaults = LanguageSettings()
        return {
            # The intent for messages in a language without content, and the entity that carries the language.
            "intent": "other_language",
            "entity": "language",
            "languages_without_content": ["sv", "en"],
            # Intents whose answers exist in every language: kept when the classifier is this sure of them.
            "keep_intents": ["greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "request_human"],
            "keep_confidence": 0.8,
            # The identification rule (components/language_id.py, chosen by bench/language_id.py).
            "languages": list(defaults.languages),
            "identified": list(defaults.identified),
            "finnish_max": defaults.finnish_max,
            "finnish_words_max": defaults.finnish_words_max,
            "finnish_min": defaults.finnish_min,
            "min_letters": defaults.min_letters,
            "one_word_min": defaults.one_word_min,
            "low_accuracy": defaults.low_accuracy,
        }

    def __init__(self, config: Dict[Text, Any], identifier: Optional[LanguageIdentifier] = None) -> None:
        self.validate_config(config)
        self.config = {**self.get_default_config(), **config}
        self.identifier = identifier or LanguageIdentifier(LanguageSettings.from_config(self.config))
        self.without_content = set(self.config["languages_without_content"])
        self.keep_intents = set(self.config["keep_intents"])

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "OtherLanguageClassifier":
        return cls(config)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        merged = {**cls.get_default_config(), **config}
        settings = LanguageSettings.from_config(merged)
        if not set(merged["languages_without_content"]) <= set(settings.identified):
            raise ValueError("OtherLanguageClassifier: 'languages_without_content' must be 'identified' languages")

    @staticmethod
    def required_packages() -> List[Text]:
        return ["lingua"]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = self.identifier.identify(text)
            message.set(LANGUAGE_KEY, found.to_json(), add_to_output=True)
            if found.language is None:
                continue
            self._add_entity(message, found)
            if found.language in self.without_content and not self._keeps_intent(message):
                # How sure it is not Finnish (at least 1 - finnish_max): ahead of every classifier intent.
                self._route(message, 1.0 - float(found.scores.get("fi", 0.0)))
        return messages

    def _add_entity(self, message: Message, found: Identification) -> None:
        entity = {
            ENTITY_ATTRIBUTE_TYPE: self.config["entity"],
            ENTITY_ATTRIBUTE_VALUE: found.language,
            ENTITY_ATTRIBUTE_START: 0,
            ENTITY_ATTRIBUTE_END: len(message.get(TEXT)),
            ENTITY_ATTRIBUTE_CONFIDENCE: round(found.confidence, 4),
            EXTRACTOR: self.__class__.__name__,
        }
        message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)

    def _keeps_intent(self, message: Message) -> bool:
        intent = message.get(INTENT) or {}
        return (intent.get(INTENT_NAME_KEY) in self.keep_intents
                and float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= float(self.config["keep_confidence"]))

    def _route(self, message: Message, confidence: float) -> None:
        """``intent`` first with ``confidence``; the classifier's ranking after it, scaled to the rest."""
        name = self.config["intent"]
        rest = max(0.0, 1.0 - confidence)
        ranking = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}]
        ranking += [{INTENT_NAME_KEY: entry.get(INTENT_NAME_KEY),
                     PREDICTED_CONFIDENCE_KEY: float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0) * rest}
                    for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get(INTENT_NAME_KEY) != name]
        message.set(INTENT, {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
