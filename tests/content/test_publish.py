"""Publishing's orchestration: the gates decide, the running bot is touched last, failures say what to fix.

`rasa` and the regression run are stand-in executables at the subprocess boundary (the real ones are
exercised by the browser test, which publishes a new topic for real). The validation is real.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import List

import pytest

from content import publish
from content.publish import ModelFiles, Progress, Publisher, PublishFailed
from content.repository import ContentRepository
from tests.conftest import content_copy

PASSING = {"passed": True, "suites": [], "button_errors": [], "story_failures": None}
FAILING = {
    "passed": False,
    "suites": [{"key": "heldout", "name": "uudet muotoilut", "total": 346, "accuracy": 0.931, "required": 0.95,
                "errors": [["milloin tuki maksetaan", "faq/payment_dates", "faq/parking"]]},
               {"key": "out_of_scope", "name": "aiheen ulkopuoliset kysymykset", "total": 68, "accuracy": 0.79,
                "required": 0.8, "errors": [["sataako huomenna", "out_of_scope", "faq/login"],
                                            ["kuka voitti", "out_of_scope", "faq/login"]]}],
    "button_errors": [["Voiko autolla tulla?", "faq/parking", "faq/contact"]],
    "story_failures": None,
}


def executable(path: Path, body: str) -> str:
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.fixture
def project(tmp_path) -> Path:
    return content_copy(tmp_path / "project", model=b"model-in-use")


def fake_rasa(tmp_path: Path, train_exit: int = 0) -> str:
    """`rasa data validate` is clean; `rasa train` prints Rasa-like progress and writes the model."""
    return executable(tmp_path / "rasa", f"""
import sys, pathlib
args = sys.argv[1:]
if args[:2] == ["data", "validate"]:
    sys.exit(0)
if args[0] == "train":
    out = pathlib.Path(args[args.index("--out") + 1]); name = args[args.index("--fixed-model-name") + 1]
    print("INFO rasa.engine.training.hooks  - Starting to train component 'BatchedDIETClassifier'.", flush=True)
    for percent in (0, 50, 100):
        sys.stdout.write(f"Epochs:  {{percent}}%|###| {{percent}}/100 [00:01<00:00]\\r")
    print("INFO rasa.engine.training.hooks  - Starting to train component 'ResponseSelector'.")
    sys.stdout.write("Epochs:  100%|###| 80/80\\r")
    if {train_exit} == 0:
        out.mkdir(parents=True, exist_ok=True); (out / (name + ".tar.gz")).write_bytes(b"new-model")
    sys.exit({train_exit})
sys.exit(3)
""")


def fake_python(tmp_path: Path, report: dict) -> str:
    """Stands in for `python -m content.regression MODEL`: prints the gate's JSON report."""
    return executable(tmp_path / "python", f"import json; print({json.dumps(json.dumps(report))})")


class Loader:
    def __init__(self, fail: bool = False) -> None:
        self.loaded: List[Path] = []
        self.fail = fail

    async def load(self, model_path: Path) -> None:
        if self.fail:
            raise RuntimeError("Rasa answered 500")
        assert model_path.exists()
        self.loaded.append(model_path)


def publisher(project: Path, tmp_path: Path, loader: Loader, report: dict = PASSING, train_exit: int = 0):
    return Publisher(project, loader, python=fake_python(tmp_path, report), rasa=fake_rasa(tmp_path, train_exit))


async def run(pub: Publisher) -> List[Progress]:
    seen: List[Progress] = []

    async def record(progress: Progress) -> None:
        seen.append(progress)

    await pub.publish(record, run_id="t1")
    return seen


async def test_a_passing_candidate_is_loaded_first_and_only_then_becomes_the_current_model(project, tmp_path):
    loader = Loader()
    seen = await run(publisher(project, tmp_path, loader))
    assert [p.name for p in loader.loaded] == ["t1.tar.gz"]
    assert (project / "models" / "lumo.tar.gz").read_bytes() == b"new-model"
    assert (project / "models" / "previous.tar.gz").read_bytes() == b"model-in-use"
    assert list((project / "models" / "candidates").iterdir()) == []
    stages = [p.stage for p in seen]
    assert stages[0] == "validate" and stages[-1] == "done"
    assert stages.index("train") < stages.index("test") < stages.index("load")
    percents = [p.percent for p in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    assert "Koulutetaan uutta mallia: aiheiden tunnistus 50 %" in [p.detail for p in seen]
    assert seen[-1].detail.startswith("Julkaistu")


async def test_a_failing_regression_gate_leaves_the_bot_untouched_and_says_what_to_fix(project, tmp_path):
    loader = Loader()
    with pytest.raises(PublishFailed) as failure:
        await run(publisher(project, tmp_path, loader, report=FAILING))
    assert failure.value.stage == "test"
    assert "ei läpäissyt" in failure.value.message and "entisellä mallilla" in failure.value.message
    details = "\n".join(failure.value.details)
    assert "Uudet muotoilut: 93,1 % oikein, vaaditaan 95,0 %." in details
    assert "Yksi testikysymys, jonka oikea tulkinta on faq/payment_dates, tulkittiin aiheeksi faq/parking." in details
    assert ("2 testikysymystä, joiden oikea tulkinta on ”botin aihepiirin ulkopuolella”, tulkittiin aiheeksi "
            "faq/login.") in details
    assert "milloin tuki maksetaan" not in details and "sataako" not in details  # held-out questions stay hidden
    assert "Aiheen faq/parking esimerkkikysymys ”Voiko autolla tulla?”" in details
    assert loader.loaded == []
    assert (project / "models" / "lumo.tar.gz").read_bytes() == b"model-in-use"
    assert not (project / "models" / "previous.tar.gz").exists()


async def test_a_failing_validation_blocks_publishing_before_training(project, tmp_path):
    ContentRepository(project).create_topic("pysakointi", "Pysäköinti", "Pysäköinti on maksutonta.",
                                            ["voiko autolla tulla", "missä voin pysäköidä"])
    loader = Loader()
    with pytest.raises(PublishFailed) as failure:
        await run(publisher(project, tmp_path, loader))
    assert failure.value.stage == "validate"
    assert any("faq/pysakointi" in line and "vähintään 10" in line for line in failure.value.details)
    assert not (project / "models" / "candidates" / "t1.tar.gz").exists()
    assert loader.loaded == []


async def test_a_training_failure_and_a_load_failure_keep_the_old_model(project, tmp_path):
    with pytest.raises(PublishFailed) as failure:
        await run(publisher(project, tmp_path, Loader(), train_exit=1))
    assert failure.value.stage == "train"
    with pytest.raises(PublishFailed) as failure:
        await run(publisher(project, tmp_path, Loader(fail=True)))
    assert failure.value.stage == "load"
    assert (project / "models" / "lumo.tar.gz").read_bytes() == b"model-in-use"
    assert list((project / "models" / "candidates").iterdir()) == []


async def test_rollback_swaps_the_previous_model_back_in(project, tmp_path):
    loader = Loader()
    pub = publisher(project, tmp_path, loader)
    with pytest.raises(PublishFailed) as failure:
        await pub.rollback()
    assert "Edellistä mallia ei ole" in failure.value.message
    await run(pub)
    assert await pub.rollback() == project / "models" / "lumo.tar.gz"
    assert loader.loaded[-1].name == "previous.tar.gz"
    assert (project / "models" / "lumo.tar.gz").read_bytes() == b"model-in-use"
    assert (project / "models" / "previous.tar.gz").read_bytes() == b"new-model"


async def test_only_one_publish_runs_at_a_time(project, tmp_path):
    pub = publisher(project, tmp_path, Loader())
    held = pub._acquire("validate")
    try:
        with pytest.raises(PublishFailed) as failure:
            await run(pub)
        assert "jo käynnissä" in failure.value.message
    finally:
        pub._release(held)
    await run(pub)


def test_model_files_promote_and_swap(tmp_path):
    files = ModelFiles(tmp_path)
    candidate = files.candidate("x")
    candidate.write_bytes(b"a")
    files.promote(candidate)
    assert files.current.read_bytes() == b"a" and not files.previous.exists()
    second = files.candidate("y")
    second.write_bytes(b"b")
    files.promote(second)
    files.swap_with_previous()
    assert files.current.read_bytes() == b"a" and files.previous.read_bytes() == b"b"


def test_explain_is_empty_for_a_passing_report():
    assert publish.explain(PASSING) == []
