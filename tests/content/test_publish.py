"""Publishing's orchestration: the gates decide, the running bot is touched last, failures say what to fix.

`rasa data validate`, `python -m rasa_runtime.train` and the regression run are stand-in executables at the
subprocess boundary (the real ones are exercised by the browser test, which publishes a new topic for real).
The editors' checks are real.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import List, Optional

import pytest

from content import publish
from content.publish import ModelFiles, Progress, Publisher, PublishFailed
from content.repository import ContentRepository
from tests.conftest import content_copy

PASSING = {"mode": "compare", "passed": True, "suites": [], "button_errors": [], "story_failures": None,
           "worse_topics": [], "changed": [], "new_examples": [], "not_understood": [],
           "overall": {"total": 791, "before": 760, "after": 760, "worse": False}}
# The candidate took test messages of faq/login_problem to faq/login, where the editor added examples.
REFUSED = {
    **PASSING, "passed": False,
    "margin": {"topic_messages": 2, "overall_points": 1.0, "new_examples": 0.8},
    "titles": {"faq/login": "Kirjautuminen", "faq/login_problem": "Kirjautumisongelmat"},
    "topics": [{"label": "faq/login_problem", "total": 35, "before": 34, "after": 31}],
    "worse_topics": ["faq/login_problem"],
    "changed": [{"suite": "heldout", "text": "tunnistautuminen epäonnistuu koko ajan", "expected": "faq/login_problem",
                 "before": "faq/login_problem", "after": "faq/login", "was_right": True, "is_right": False},
                {"suite": "typos", "text": "kirjautumien epaonnistuu aina", "expected": "faq/login_problem",
                 "before": "faq/login_problem", "after": "faq/login", "was_right": True, "is_right": False},
                {"suite": "typos", "text": "sain virheen kirjautumisessa", "expected": "faq/login_problem",
                 "before": "faq/login_problem", "after": "faq/login", "was_right": True, "is_right": False}],
    "new_examples": [{"label": "faq/login", "text": "tunnistautuminen epäonnistuu aina", "got": "faq/login"},
                     {"label": "faq/login", "text": "kirjautumisessa tulee virheilmoitus", "got": "faq/login"}],
    "button_errors": [["Voiko autolla tulla?", "faq/parking", "faq/contact"]],
}
# No model in use to compare with: the absolute targets decide.
FAILING_TARGETS = {
    "mode": "absolute", "passed": False,
    "suites": [{"key": "heldout", "name": "uudet muotoilut", "total": 346, "accuracy": 0.931, "required": 0.95,
                "errors": [["milloin tuki maksetaan", "faq/payment_dates", "faq/parking"]]}],
    "button_errors": [], "story_failures": None,
}


def executable(path: Path, body: str) -> str:
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.fixture
def project(tmp_path) -> Path:
    return content_copy(tmp_path / "project", model=b"model-in-use")


def fake_rasa(tmp_path: Path) -> str:
    """`rasa data validate` is clean; the executable is used for nothing else (training is rasa_runtime.train)."""
    return executable(tmp_path / "rasa", """
import sys
sys.exit(0 if sys.argv[1:3] == ["data", "validate"] else 3)
""")


def fake_python(tmp_path: Path, report: Optional[dict], train_exit: int = 0) -> str:
    """Stands in for the interpreter of publishing's two subprocesses.

    `python -m rasa_runtime.train ARGS` prints what Rasa 3.6 prints for this pipeline (the hooks' component
    lines; no epochs any more) and writes the model. `python -m content.regression CANDIDATE --content ROOT
    [--baseline MODEL]` records its arguments, reports its progress on stderr and prints the gate's JSON
    report (``report`` None: it fails without one). Anything else exits 3."""
    return executable(tmp_path / "python", f"""
import json, pathlib, sys
args = sys.argv[1:]
if args[:2] == ["-m", "rasa_runtime.train"]:
    args = args[2:]
    assert "--skip-validation" in args  # publishing has just validated
    out = pathlib.Path(args[args.index("--out") + 1]); name = args[args.index("--fixed-model-name") + 1]
    hooks = "2026-12-03 21:43:04 INFO     rasa.engine.training.hooks  - "
    for component in ("CountVectorsFeaturizer", "CountVectorsFeaturizer", "LinearClassifier", "MemoizationPolicy",
                      "RulePolicy"):
        print(hooks + f"Starting to train component '{{component}}'.", flush=True)
        print(hooks + f"Finished training component '{{component}}'.", flush=True)
    sys.stdout.write("Processed rules: 100%|##########| 11/11 [00:00<00:00]\\r")
    if {train_exit} == 0:
        out.mkdir(parents=True, exist_ok=True); (out / (name + ".tar.gz")).write_bytes(b"new-model")
        print(f"Your Rasa model is trained and saved at '{{out / (name + '.tar.gz')}}'.")
    sys.exit({train_exit})
if args[:2] != ["-m", "content.regression"]:
    sys.exit(3)
pathlib.Path({str(tmp_path / "regression-args.json")!r}).write_text(json.dumps(args))
report = {json.dumps(json.dumps(report))}
if report == "null":
    sys.exit(1)
for step in ("candidate_loaded", "candidate_scored", "baseline_loaded", "baseline_scored", "stories"):
    print("PROGRESS " + step, file=sys.stderr, flush=True)
print(report)
""")


class Loader:
    def __init__(self, fail: bool = False) -> None:
        self.loaded: List[Path] = []
        self.fail = fail

    async def load(self, model_path: Path) -> None:
        if self.fail:
            raise RuntimeError("Rasa answered 500")
        assert model_path.exists()
        self.loaded.append(model_path)


def publisher(project: Path, tmp_path: Path, loader: Loader, report: Optional[dict] = PASSING, train_exit: int = 0):
    return Publisher(project, loader, python=fake_python(tmp_path, report, train_exit), rasa=fake_rasa(tmp_path))


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
    details = [p.detail for p in seen]
    assert "Koulutetaan uutta mallia: aiheiden tunnistus" in details  # from Rasa's component lines
    assert "Testataan uutta mallia: nykyinen malli vastaa samoihin kysymyksiin" in details
    # each stage ends where the next starts: the milestones the subprocesses printed moved the bar there
    assert max(p.percent for p in seen if p.stage == "train") == publish.STAGE_SPAN["train"][1]
    assert max(p.percent for p in seen if p.stage == "test") == publish.STAGE_SPAN["test"][1]
    assert seen[-1].detail.startswith("Julkaistu")
    # the gate judged the candidate against the model in use
    arguments = json.loads((tmp_path / "regression-args.json").read_text())
    assert arguments[:2] == ["-m", "content.regression"] and arguments[2].endswith("t1.tar.gz")
    assert arguments[arguments.index("--baseline") + 1] == str(project / "models" / "lumo.tar.gz")


async def test_without_a_model_in_use_the_gate_runs_on_the_absolute_targets(project, tmp_path):
    (project / "models" / "lumo.tar.gz").unlink()
    await run(publisher(project, tmp_path, Loader()))
    assert "--baseline" not in json.loads((tmp_path / "regression-args.json").read_text())
    assert not (project / "models" / "previous.tar.gz").exists()


async def test_a_refused_candidate_leaves_the_bot_untouched_and_says_what_got_worse(project, tmp_path):
    loader = Loader()
    with pytest.raises(PublishFailed) as failure:
        await run(publisher(project, tmp_path, loader, report=REFUSED))
    assert failure.value.stage == "test"
    assert "ei läpäissyt" in failure.value.message and "entisellä mallilla" in failure.value.message
    details = failure.value.details
    assert details[0] == ("Aihe ”Kirjautumisongelmat” heikkeni: sen 35 testikysymyksestä uusi malli tunnistaa oikein "
                          "31, nykyinen malli 34.")
    assert details[1] == ("Testikysymys ”tunnistautuminen epäonnistuu koko ajan” tulkitaan nyt aiheeksi "
                          "”Kirjautuminen”, vaikka nykyinen malli tunnistaa sen oikein. Tämä johtuu todennäköisesti "
                          "uudesta esimerkistäsi ”tunnistautuminen epäonnistuu aina” aiheessa ”Kirjautuminen”.")
    assert "”sain virheen kirjautumisessa”" in details[3] and "esimerkistäsi" in details[3]
    assert any("Aiheen faq/parking esimerkkikysymys ”Voiko autolla tulla?”" in line for line in details)
    assert loader.loaded == []
    assert (project / "models" / "lumo.tar.gz").read_bytes() == b"model-in-use"
    assert not (project / "models" / "previous.tar.gz").exists()
    assert list((project / "models" / "candidates").iterdir()) == []


async def test_without_a_model_in_use_a_missed_target_refuses_with_the_messages(project, tmp_path):
    (project / "models" / "lumo.tar.gz").unlink()
    with pytest.raises(PublishFailed) as failure:
        await run(publisher(project, tmp_path, Loader(), report=FAILING_TARGETS))
    assert failure.value.details[:3] == [
        "Uudet muotoilut: 93,1 % oikein, vaaditaan 95,0 %.",
        "Yksi testikysymys, jonka oikea tulkinta on faq/payment_dates, tulkittiin aiheeksi faq/parking.",
        "Testikysymykset: ”milloin tuki maksetaan”"]


async def test_a_broken_gate_run_is_a_failure_not_a_pass(project, tmp_path):
    with pytest.raises(PublishFailed) as failure:
        await run(publisher(project, tmp_path, Loader(), report=None))
    assert failure.value.stage == "test" and failure.value.details == []


async def test_the_bar_moves_with_time_between_milestones_but_never_past_the_next(monkeypatch):
    now = [0.0]
    seen: List[Progress] = []

    async def record(progress: Progress) -> None:
        seen.append(progress)

    stage = publish.StageProgress("train", record, "stage.train", "stage.train_component", clock=lambda: now[0])
    start, end = publish.STAGE_SPAN["train"]
    first = publish.TIMELINE["train"][0]
    await stage.emit()
    assert seen[-1] == Progress("train", start, "Koulutetaan uutta mallia: Rasa käynnistyy")
    now[0] = first.seconds / 2
    await stage.emit()
    halfway = seen[-1].percent
    assert start < halfway < end
    now[0] = first.seconds * 100  # far slower than measured: the bar waits short of the milestone
    await stage.emit()
    stuck = seen[-1].percent
    await stage.line("INFO rasa.engine.training.hooks  - Starting to train component 'CountVectorsFeaturizer'.")
    assert seen[-1].percent > stuck and seen[-1].detail.endswith("sanojen ja kirjainyhdistelmien laskenta")
    await stage.line("INFO rasa.engine.training.hooks  - Starting to train component 'CountVectorsFeaturizer'.")
    await stage.line("Your Rasa model is trained and saved at 'x'.")  # a later milestone: skips ahead
    assert seen[-1].detail.endswith("mallin tallennus")
    assert [p.percent for p in seen] == sorted(p.percent for p in seen)


def test_the_timeline_covers_the_whole_bar():
    spans = [publish.STAGE_SPAN[stage] for stage in publish.STAGE_ORDER]
    assert spans[0][0] == 0 and spans[-1][1] == 100
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))


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
    assert publish.explain({**FAILING_TARGETS, "passed": True, "suites": []}) == []
