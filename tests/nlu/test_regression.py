"""NLU regression on the held-out Finnish files (tests/nlu/*.yml): the same gate publishing uses."""

from __future__ import annotations

import pytest

from content.regression import SUITES, RegressionResult, evaluate
from tests.conftest import ROOT

MODEL = ROOT / "models" / "lumo.tar.gz"


@pytest.fixture(scope="module")
def result() -> RegressionResult:
    if not MODEL.exists():
        pytest.fail("models/lumo.tar.gz is missing: run `make train` (make test does it)")
    return evaluate(MODEL)


def report(suite) -> str:
    lines = [f"{suite.name}: {suite.accuracy:.1%} of {suite.total}"]
    lines += [f"  {text!r}: expected {expected}, got {got}" for text, expected, got in suite.errors]
    return "\n".join(lines)


@pytest.mark.parametrize("key, minimum", [(key, minimum) for key, _p, _r, _o, minimum, _n in SUITES])
def test_suite_is_large_enough_and_reaches_its_target(result, key, minimum):
    suite = next(s for s in result.suites if s.key == key)
    assert suite.total >= minimum
    assert suite.passed, report(suite)


def test_targets_are_the_issue_figures():
    assert {key: required for key, _p, required, *_ in SUITES} == {
        "heldout": 0.95, "typos": 0.90, "out_of_scope": 0.80}


def test_fallback_button_questions_reach_their_topic(result):
    """The example question each fallback button sends must be understood as that topic."""
    assert result.button_errors == []


def test_result_survives_the_json_round_trip_publishing_uses(result):
    again = RegressionResult.from_json(result.to_json())
    assert again.passed == result.passed
    assert [s.accuracy for s in again.suites] == [s.accuracy for s in result.suites]


def test_story_tests_run_in_the_gates_process_and_catch_a_wrong_turn(tmp_path):
    """The publish gate runs what `rasa test core --fail-on-prediction-errors` checks on the candidate it
    has already loaded (content.regression.story_failures_of)."""
    from content.regression import _load, story_failures_of

    agent = _load(MODEL)
    assert story_failures_of(agent) is None
    wrong = tmp_path / "wrong.yml"
    wrong.write_text('version: "3.1"\nstories:\n- story: thanks answered as a greeting\n  steps:\n'
                     "  - user: |\n      kiitos\n    intent: thank\n  - action: utter_greet\n", encoding="utf-8")
    failure = story_failures_of(agent, wrong)
    assert failure is not None and "thanks answered as a greeting" in failure
