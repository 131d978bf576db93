"""`python -m rasa_runtime.train` trains our pipeline without TensorFlow and refuses a config that needs it.

Each training runs in a fresh process (this test process has imported the real TensorFlow), on a
small data set with config.yml's pipeline (the e5 model off, to keep it short).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile

import yaml

from tests.conftest import ROOT

NLU = {
    "version": "3.1",
    "nlu": [
        {"intent": "greet", "examples": "- moi\n- hei\n- terve\n- hyvää päivää\n"},
        {"intent": "thank", "examples": "- kiitos\n- kiitti\n- kiitos paljon\n- kiitos avusta\n"},
    ],
}
DOMAIN = {"version": "3.1", "intents": ["greet", "thank"]}


def train(tmp_path, pipeline):
    (tmp_path / "nlu.yml").write_text(yaml.safe_dump(NLU, allow_unicode=True), encoding="utf-8")
    (tmp_path / "domain.yml").write_text(yaml.safe_dump(DOMAIN), encoding="utf-8")
    config = {"recipe": "default.v1", "assistant_id": "test", "language": "fi", "pipeline": pipeline,
              "policies": None}
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "rasa_runtime.train", "nlu", "--config", str(tmp_path / "config.yml"),
         "--nlu", str(tmp_path / "nlu.yml"), "--domain", str(tmp_path / "domain.yml"), "--out", str(tmp_path),
         "--fixed-model-name", "tiny"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false",
             "LUMO_E5_CACHE": str(tmp_path / "e5.sqlite"), "HOME": str(tmp_path)},
    )


def test_our_pipeline_trains_without_tensorflow(tmp_path):
    with open(ROOT / "config.yml", encoding="utf-8") as handle:
        pipeline = yaml.safe_load(handle)["pipeline"]
    for component in pipeline:
        if component["name"].endswith("LinearClassifier"):
            component["sentence_encoder"] = None
    result = train(tmp_path, pipeline)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    with tarfile.open(tmp_path / "tiny.tar.gz") as archive:
        assert any(name.endswith("linear_model.npz") for name in archive.getnames())


def test_a_config_with_a_tensorflow_component_is_refused_with_the_reason(tmp_path):
    result = train(tmp_path, [{"name": "WhitespaceTokenizer"}, {"name": "CountVectorsFeaturizer"},
                              {"name": "DIETClassifier", "epochs": 1}])
    assert result.returncode != 0
    assert "TensorFlow is not loaded" in result.stdout + result.stderr
    assert "DIETClassifier" in result.stdout + result.stderr
    assert not (tmp_path / "tiny.tar.gz").exists()


def test_make_train_refuses_another_rasa_release_before_importing_it(tmp_path):
    """What `make train` runs, with package metadata ahead of the real Rasa's saying 3.7.0 is installed."""
    dist = tmp_path / "site" / "rasa-3.7.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: rasa\nVersion: 3.7.0\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "rasa_runtime.train", "--config", "config.yml", "--domain", "domain.yml",
         "--data", "data", "--out", str(tmp_path), "--fixed-model-name", "refused"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path / "site"), "HOME": str(tmp_path)},
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Rasa training not started: Rasa 3.7.0 is installed, but rasa_runtime patches "
                                  "Rasa 3.6.21 internals")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "refused.tar.gz").exists()
