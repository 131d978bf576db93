"""Project-level gates: training data validation and the conversation (story) tests."""

from __future__ import annotations

import subprocess
import sys

from content.regression import story_failures
from tests.conftest import ROOT


def test_training_data_and_domain_validate_clean():
    result = subprocess.run([sys.executable, "scripts/validate.py"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "clean" in result.stdout


def test_story_tests_pass_without_prediction_errors():
    assert story_failures(ROOT / "models" / "lumo.tar.gz") is None
