"""Masking personal data: in texts that leave the conversation, and in log records once a process
installs it (its entry point does; importing lumo_shared does not)."""

from __future__ import annotations

import logging

from lumo_shared.privacy import install_log_masking, mask_personal_data

TEXT = "Hetuni on 010190-123A, tili FI21 1234 5600 0007 85, soita 040 123 4567 tai maija@example.fi"
MASKED = "Hetuni on [henkilötunnus], tili [tilinumero], soita [puhelinnumero] tai [sähköposti]"


def test_personal_data_is_replaced_by_what_it_was():
    assert mask_personal_data(TEXT) == MASKED
    assert mask_personal_data("Asun Kalevankatu 12 B 34:ssä") == "Asun [katuosoite]"
    assert mask_personal_data("Milloin päätös tulee?") == "Milloin päätös tulee?"


def test_log_masking_is_installed_only_when_asked_and_masks_messages_and_tracebacks(caplog):
    previous = logging.getLogRecordFactory()
    try:
        install_log_masking()
        installed = logging.getLogRecordFactory()
        install_log_masking()  # idempotent: not wrapped twice
        assert logging.getLogRecordFactory() is installed
        logger = logging.getLogger("tests.lumo_shared.privacy")
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("visitor wrote: %s", TEXT)
            try:
                raise ValueError(TEXT)
            except ValueError:
                logger.exception("lookup failed")
    finally:
        logging.setLogRecordFactory(previous)
    assert f"visitor wrote: {MASKED}" in caplog.text
    assert f"ValueError: {MASKED}" in caplog.text
    assert "010190-123A" not in caplog.text and "maija@example.fi" not in caplog.text
