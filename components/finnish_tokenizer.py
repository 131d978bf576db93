"""Whitespace tokenizer that gives each token a Finnish lemma key and a folded surface form.

Rasa's ``CountVectorsFeaturizer`` reads ``token.lemma`` when ``use_lemma`` is on (its default)
and ``token.text`` otherwise. So one pipeline can featurize the lemma keys as extra word
features while character n-grams stay on the surface text, as Finnish needs: case endings carry
meaning that lemmas throw away ("hakemukseni" vs "hakemus").

With ``fold_diacritics`` the surface form is folded (ä -> a, ö -> o), so a visitor who types
"kasittely" produces the same character n-grams as the training example "käsittely". Offsets do
not move: folding keeps every character in place.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from components.finnish_morphology import FinnishLemmatizer, fold_diacritics


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class FinnishTokenizer(WhitespaceTokenizer):
    """Whitespace tokens with Finnish lemma keys (see the module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Returns the component's default config."""
        return {
            **WhitespaceTokenizer.get_default_config(),
            # Fold ä/ö/å in token text, so typed-without-umlaut words match.
            "fold_diacritics": True,
            # Look words up in Voikko's dictionary; off means Snowball stems only.
            "use_dictionary": True,
            # Try restoring ä/ö for words the dictionary does not know.
            "restore_diacritics": True,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        """Loads the lemmatizer once for the component's lifetime."""
        super().__init__(config)
        self._fold = bool(self._config["fold_diacritics"])
        self._lemmatizer = FinnishLemmatizer(
            use_dictionary=bool(self._config["use_dictionary"]),
            restore_diacritics=bool(self._config["restore_diacritics"]),
        )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "FinnishTokenizer":
        """Creates a new component (see parent class for full docstring)."""
        return cls(config)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Tokenizes on whitespace, then adds lemma keys to text tokens."""
        tokens = super().tokenize(message, attribute)
        if attribute != TEXT:
            return tokens
        result = []
        for token in tokens:
            start = token.start
            # A glued "enhaluu" becomes two tokens, "en" and "haluu", over the same characters.
            for part in self._lemmatizer.parts(token.text):
                surface = part.lower()
                if self._fold:
                    surface = fold_diacritics(surface)
                result.append(
                    Token(
                        text=surface,
                        start=start,
                        end=start + len(part),
                        data=token.data,
                        lemma=self._lemmatizer.lemma(part),
                    )
                )
                start += len(part)
        return result
