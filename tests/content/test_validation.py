"""Validation (make validate, publishing) accepts only the warnings Rasa cannot avoid, and reports everything else."""

from __future__ import annotations

from content import validation as validate
from tests.conftest import ROOT


def test_responses_uttered_by_actions_are_found():
    used = validate.responses_used_by_actions(ROOT)
    assert {"utter_login_required", "utter_handoff", "utter_account_application_processing", "utter_default"} <= used


def test_unused_warning_is_accepted_only_for_responses_actions_use():
    output = (
        "UserWarning: The utterance 'utter_handoff' is not used in any story or rule.\n"
        "UserWarning: The utterance 'utter_forgotten' is not used in any story or rule.\n"
    )
    assert validate.problems(output, {"utter_handoff"}) == ["response utter_forgotten is used nowhere"]


def test_other_warnings_and_errors_are_reported():
    output = (
        "UserWarning: The following duplicated intents have been found across multiple domain files: faq\n"
        "UserWarning: The intent 'greet' is listed in the domain file, but is not found in the NLU training data.\n"
        "2026-01-01 10:00:00 ERROR    rasa.validator  - Found a conflict\n"
    )
    found = validate.problems(output, set())
    assert len(found) == 2
    assert "greet" in found[0]
    assert "conflict" in found[1]
