"""Masking of personal data in text that leaves the conversation (summaries, logs).

Finnish personal identity codes (henkilötunnus), IBANs, e-mail addresses, phone numbers and street
addresses are replaced by a tag naming what was there, so an agent still sees that the visitor gave
one. Personal names are not masked: spaCy's Finnish recogniser finds 86 % of them without blanking
ordinary words, but costs 300-700 MB per service process (docs/nlu.md, bench/privacy_ner.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any

# ddmmyy, century sign (+, -, A-F, U-Y), 3-digit individual number, check character.
HETU = re.compile(r"\b(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}[-+A-FU-Y]\d{3}[0-9A-FHJ-NPR-Y]\b", re.I)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", re.I)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE = re.compile(r"(?<![\w+])(?:\+358|00358|0)[ -]?\d{1,3}(?:[ -]?\d){5,8}\b")
# A street address: a (compound) street name in any case form, a house number, optionally a staircase
# letter and an apartment number ("Kalevankatu 12 B 34", "Hämeentiellä 5:ssä"). Measured on a labelled
# Finnish set (tests/privacy_ner/labelled.yml, bench/privacy_ner.py).
_STREET_ENDINGS = (
    "katu|kadu|tie|kuja|polku|polu|väylä|ranta|ranna|rinne|rintee|tori|aukio|raitti|raiti|"
    "kaari|kaare|kaarre|kaartee|piha|linja|bulevardi|esplanadi|puistikko|puistiko|mäki|mäe"
)
STREET_ADDRESS = re.compile(
    r"\b[^\W\d_]{2,}(?:" + _STREET_ENDINGS + r")[^\W\d_]*"  # a compound street name in any case form
    r"\s+\d{1,4}(?:\s?[-–]\s?\d{1,4})?"  # house number (or range)
    r"(?:\s?[a-zåäö](?![^\W_]))?"  # staircase letter
    r"(?:\s?(?:as\.?\s?)?\d{1,3})?"  # apartment number
    r"(?::[^\W\d_]+)?",  # case ending glued to the number: 34:ssä, 3:een
    re.IGNORECASE,
)

_PATTERNS = ((HETU, "[henkilötunnus]"), (IBAN, "[tilinumero]"), (EMAIL, "[sähköposti]"), (PHONE, "[puhelinnumero]"),
             (STREET_ADDRESS, "[katuosoite]"))


def mask_personal_data(text: str) -> str:
    """``text`` with identity codes, IBANs, e-mail addresses, phone numbers and street addresses masked."""
    for pattern, tag in _PATTERNS:
        text = pattern.sub(tag, text)
    return text


_FORMATTER = logging.Formatter()


class _MaskingRecordFactory:
    """Log-record factory that masks personal data in every formatted log message."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._inner(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken log call must not break the action
            return record
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # Tracebacks quote exception messages: format and mask them now.
            record.exc_text = mask_personal_data(_FORMATTER.formatException(record.exc_info))
        return record


def install_log_masking() -> None:
    """Mask personal data in all log records of this process (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _MaskingRecordFactory):
        logging.setLogRecordFactory(_MaskingRecordFactory(factory))
