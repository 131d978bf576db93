"""Our Rasa server never loads TensorFlow, and a model that needs it fails to load, loudly.

Each check runs in a fresh Python process: this test process has imported Rasa, and with it the
real TensorFlow, long before these tests run.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import textwrap

import pytest

from rasa_runtime import no_tensorflow
from tests.conftest import ROOT

MODEL = ROOT / "models" / "lumo.tar.gz"


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                            text=True, timeout=240, env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_our_model_loads_and_parses_without_tensorflow():
    if not MODEL.exists():
        pytest.fail("models/lumo.tar.gz is missing: run `make train` (make test does it)")
    out = run_python(f"""
        import asyncio, sys
        sys.path.insert(0, {str(ROOT)!r})
        from rasa_runtime import no_tensorflow
        no_tensorflow.install()
        from rasa_runtime import action_calls, api_auth, batching, erasure, memory, model_loading  # as the server
        from rasa.core.agent import Agent
        from rasa.core.channels.channel import UserMessage

        agent = Agent.load({str(MODEL)!r})
        batching.install()
        parsed = asyncio.run(agent.processor.parse_message(UserMessage("milloin olette auki", sender_id="t")))
        print("intent", parsed["intent"]["name"])
        print("stand-in", no_tensorflow.installed())
        print("imported:", sorted(m for m in ("keras", "jax", "spacy", "thinc", "tensorflow_hub") if m in sys.modules))
        with open("/proc/self/maps") as maps:
            print("tensorflow libraries", sum("site-packages/tensorflow/" in line for line in maps))
    """)
    assert "intent faq\n" in out
    assert "stand-in True\n" in out
    assert "imported: []\n" in out  # neither Keras, JAX, spaCy nor thinc
    assert "tensorflow libraries 0\n" in out


def test_a_model_with_a_tensorflow_component_fails_to_load_with_the_reason():
    out = run_python(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from rasa_runtime import no_tensorflow
        no_tensorflow.install()
        from rasa.engine.graph import GraphSchema, SchemaNode
        from rasa.engine.runner.dask import DaskGraphRunner
        from rasa.nlu.classifiers.diet_classifier import DIETClassifier

        schema = GraphSchema({{"run_DIETClassifier0": SchemaNode(needs={{}}, uses=DIETClassifier,
                                                                 constructor_name="load", fn="process", config={{}})}})
        try:
            DaskGraphRunner.create(schema, model_storage=None, execution_context=None)
        except no_tensorflow.TensorFlowNotLoaded as error:
            print("refused:", error)
        import tensorflow as tf
        try:
            tf.constant([1.0])
        except no_tensorflow.TensorFlowNotLoaded as error:
            print("stand-in called:", error)
    """)
    assert "refused: TensorFlow is not loaded in this Rasa server" in out
    assert "the model's graph uses DIETClassifier" in out
    assert "stand-in called: TensorFlow is not loaded in this Rasa server" in out
    assert "tensorflow.constant was called" in out


def archive_with(tmp_path, uses: list) -> str:
    nodes = {f"node{i}": {"uses": name} for i, name in enumerate(uses)}
    body = json.dumps({"predict_schema": {"nodes": nodes}}).encode()
    path = tmp_path / "model.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("metadata.json")
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))
    return str(path)


def test_the_server_refuses_to_start_with_a_tensorflow_model(tmp_path):
    model = archive_with(tmp_path, ["rasa.nlu.classifiers.diet_classifier.DIETClassifier",
                                    "rasa.core.policies.rule_policy.RulePolicy"])
    assert no_tensorflow.tensorflow_components_in_archive(model) == ["DIETClassifier"]
    result = subprocess.run([sys.executable, "-m", "rasa_runtime", "--model", model],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "LUMO_ENV": "demo", "RASA_JWT_SECRET": "x" * 32})
    assert result.returncode == 1
    assert f"TensorFlow is not loaded in this Rasa server (rasa_runtime/no_tensorflow.py): {model} uses " \
           "DIETClassifier." in result.stderr


def test_our_model_has_no_tensorflow_component():
    if not MODEL.exists():
        pytest.fail("models/lumo.tar.gz is missing: run `make train` (make test does it)")
    assert no_tensorflow.tensorflow_components_in_archive(str(MODEL)) == []


def test_spacy_sees_no_tensorflow():
    """thinc (spaCy's backend) probes for TensorFlow; the stand-in must read as 'not installed'."""
    out = run_python(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from rasa_runtime import no_tensorflow
        no_tensorflow.install()
        import spacy
        import thinc.compat
        print("thinc sees tensorflow", thinc.compat.has_tensorflow)
        print("blank Finnish", [t.text for t in spacy.blank("fi")("Milloin olette auki?")])
    """)
    assert "thinc sees tensorflow False\n" in out
    assert "blank Finnish ['Milloin', 'olette', 'auki', '?']" in out
