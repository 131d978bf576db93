"""`python -m rasa_runtime` and `python -m rasa_runtime.train`: the entry points refuse a Rasa release their
patches were not written for (rasa_runtime/version.py)."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest

import rasa_runtime
from rasa_runtime import __main__ as entry_point
from rasa_runtime import no_tensorflow, train, version
from tests.conftest import ROOT


def test_the_installed_rasa_is_the_one_the_patches_were_written_for():
    assert rasa_runtime.RASA_VERSION == "3.6.21"
    assert version.installed_rasa_version() == rasa_runtime.RASA_VERSION
    assert f"rasa=={rasa_runtime.RASA_VERSION}\n" in (ROOT / "requirements.txt").read_text(encoding="utf-8")


def refusal(refused: str, installed) -> str:
    found = f"Rasa {installed} is installed" if installed else "Rasa is not installed"
    return (
        f"{refused}: {found}, but rasa_runtime patches Rasa 3.6.21 internals (batching, model "
        "loading, action calls, API auth, erasure, no TensorFlow). Install rasa==3.6.21 (requirements.txt), or "
        "re-check every patch in rasa_runtime/ against the new release and then change RASA_VERSION in "
        "rasa_runtime/__init__.py.\n")


@pytest.fixture(params=["3.6.20", "3.7.0", "3.6.21rc1", None])
def installed(request, monkeypatch):
    """Rasa's package metadata says another release (None: Rasa is not installed)."""

    def fake_version(name: str) -> str:
        assert name == "rasa"
        if request.param is None:
            raise metadata.PackageNotFoundError(name)
        return request.param

    monkeypatch.setattr(version.metadata, "version", fake_version)
    return request.param


def test_another_rasa_release_is_refused_with_exit_2_and_says_why(installed, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["rasa_runtime", "--model", "none.tar.gz"])
    monkeypatch.setenv("LUMO_ENV", "demo")
    monkeypatch.setenv("RASA_JWT_SECRET", "x" * 32)
    with pytest.raises(SystemExit) as refused:
        entry_point.main()
    assert refused.value.code == 2
    assert capsys.readouterr().err == refusal("Rasa server not started", installed)


def test_training_refuses_another_rasa_release_too_before_touching_rasa(installed, monkeypatch, capsys):
    """`make train` and publishing train with rasa_runtime.train: a model made by another Rasa is never made."""

    def install() -> None:
        raise AssertionError("the TensorFlow stand-ins were installed: the release was not checked first")

    monkeypatch.setattr(no_tensorflow, "install", install)
    with pytest.raises(SystemExit) as refused:
        train.main(["--config", "config.yml", "--out", "models"])
    assert refused.value.code == 2
    assert capsys.readouterr().err == refusal("Rasa training not started", installed)


def test_the_entry_point_runs_as_a_module_and_refuses_before_importing_rasa(tmp_path):
    """What `make run` starts: in production a short secret is refused with exit 2, Rasa not even imported."""
    done = subprocess.run([sys.executable, "-m", "rasa_runtime", "--model", str(tmp_path / "none.tar.gz")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "LUMO_ENV": "production", "RASA_JWT_SECRET": "short"})
    assert done.returncode == 2
    assert done.stderr.startswith("Rasa server not started: LUMO_ENV=production: RASA_JWT_SECRET is too short")
    assert "Traceback" not in done.stderr
