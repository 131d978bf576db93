"""Project-level gates: training data validation and the conversation (story) tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def test_training_data_and_domain_validate_clean():
    result = subprocess.run([sys.executable, "scripts/validate.py"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "clean" in result.stdout


def test_story_tests_pass_without_prediction_errors(tmp_path):
    result = subprocess.run(
        [str(BIN / "rasa"), "test", "core", "--model", "models/lumo.tar.gz", "--stories", "tests/stories",
         "--fail-on-prediction-errors", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True,
    )
    failed = (tmp_path / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert result.returncode == 0, failed + result.stderr[-2000:]
    assert "None of the test stories failed" in failed
