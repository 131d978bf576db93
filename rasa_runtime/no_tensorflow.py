"""Keep TensorFlow out of our Rasa server: our graph has no neural model, and TensorFlow costs ~420 MB.

Rasa 3.6 imports TensorFlow at module level whether or not a model uses it: `rasa.core.agent` ->
`rasa.core.policies.policy` -> ... -> `rasa.nlu.extractors.extractor` -> `rasa.utils.train_utils`
-> `rasa.utils.tensorflow.callback` (`class RasaTrainingLogger(tf.keras.callbacks.Callback)`) and
`rasa.utils.tensorflow.data_generator` (`from tensorflow.keras.utils import Sequence`). TensorFlow
2.12 pulls in Keras and JAX with it: about 420 MB resident and 9 to 12 s of start-up on two cores
(bench/REPORT.md, "Load"), for nothing: our graph (components/linear_classifier.py, MemoizationPolicy,
RulePolicy) never calls it.

`install()` runs before Rasa is imported (rasa_runtime/__main__.py) and puts stand-ins into
`sys.modules` for `tensorflow` (the submodules Rasa imports) and for Rasa's own neural-network
modules (`rasa.utils.tensorflow.models`, `layers`, `rasa_layers`). Their names can be looked up,
used in annotations and subclassed, which is all module-level code does with them: Rasa's recipe
validator, which every model load runs, imports DIETClassifier, ResponseSelector and TEDPolicy to
compare classes, so those modules still have to import. Calling or instantiating a stand-in raises
`TensorFlowNotLoaded`, and so does loading a model whose prediction graph has a TensorFlow component
(DIET, ResponseSelector, TED, UnexpecTED, ConveRT, language-model featurizer): it fails with a
message that says why, at start-up (python -m rasa_runtime then exits: Rasa itself would log the
error and serve without a model) or on `PUT /model`, instead of half working. Keras and
TensorFlow's add-on packages refuse to import with the same error.

Any other `tensorflow.*` import fails with ModuleNotFoundError, so a library that probes for
TensorFlow (thinc, which spaCy runs on, imports `tensorflow.experimental.dlpack`) sees it as not
installed. spaCy itself is imported only when a config uses a spaCy component (Rasa's spaCy
components import it when they load their model).

Training installs the same stand-ins (`python -m rasa_runtime.train`, rasa_runtime/train.py: `make
train`, bench/nlu.py for our pipeline); `rasa test` keeps the real TensorFlow.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any, Optional, Sequence

# What Rasa imports at module level on the way to loading any model (found by importing
# rasa.server and all of Rasa's default components with every TensorFlow import recorded).
STAND_IN_MODULES = (
    "tensorflow",
    "tensorflow.keras",
    "tensorflow.keras.utils",
    "tensorflow.python",
    "tensorflow.python.eager",
    "tensorflow.python.eager.wrap_function",
    "rasa.utils.tensorflow.models",
    "rasa.utils.tensorflow.layers",
    "rasa.utils.tensorflow.rasa_layers",
)

# Packages that exist only to run TensorFlow.
REFUSED_PACKAGES = ("keras", "tensorflow_hub", "tensorflow_text", "tensorflow_addons")

# The modules of Rasa's graph components that run TensorFlow.
TENSORFLOW_COMPONENT_MODULES = (
    "rasa.nlu.classifiers.diet_classifier",
    "rasa.nlu.selectors.response_selector",
    "rasa.core.policies.ted_policy",
    "rasa.core.policies.unexpected_intent_policy",
    "rasa.nlu.featurizers.dense_featurizer.convert_featurizer",
    "rasa.nlu.featurizers.dense_featurizer.lm_featurizer",
)

MESSAGE = (
    "TensorFlow is not loaded in this Rasa server (rasa_runtime/no_tensorflow.py): {what}. "
    "Our config (config.yml) has no TensorFlow component; a model that uses DIETClassifier, "
    "ResponseSelector, TEDPolicy, UnexpecTEDIntentPolicy, ConveRTFeaturizer or "
    "LanguageModelFeaturizer cannot run here. Retrain with config.yml, or remove "
    "no_tensorflow.install() from rasa_runtime/__main__.py if TensorFlow components are wanted again."
)


class TensorFlowNotLoaded(ImportError):
    """Something in this process tried to use TensorFlow (an ImportError: Rasa reports it as a load error)."""


class _StandInType(type):
    """Metaclass of the stand-ins: any attribute is another stand-in; calling one raises."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _stand_in(f"{cls.__qualname__}.{name}")

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        raise TensorFlowNotLoaded(MESSAGE.format(what=f"{cls.__qualname__} was called"))


def _stand_in(qualified_name: str) -> type:
    stand_in = _StandInType(qualified_name.rpartition(".")[2], (), {"__module__": qualified_name.rpartition(".")[0]})
    stand_in.__qualname__ = qualified_name
    return stand_in


class _StandInModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _stand_in(f"{self.__name__}.{name}")


class _Refuser(importlib.abc.MetaPathFinder):
    """Refuses Keras and TensorFlow's add-on packages."""

    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None,
                  target: Optional[types.ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname.split(".")[0] in REFUSED_PACKAGES:
            raise TensorFlowNotLoaded(MESSAGE.format(what=f"'{fullname}' needs it"), name=fullname)
        return None


def tensorflow_components(uses: Sequence[type]) -> list[str]:
    """Names of the classes among ``uses`` that are (or derive from) one of Rasa's TensorFlow components."""
    return sorted({cls.__name__ for cls in uses
                   if any(base.__module__ in TENSORFLOW_COMPONENT_MODULES for base in cls.__mro__)})


def tensorflow_components_in_archive(model_path: str) -> list[str]:
    """Rasa's TensorFlow components in a model archive's prediction graph, read from its metadata.

    For start-up: Rasa logs a model that fails to load and serves without one, which visitors would
    only notice as silence; python -m rasa_runtime refuses to start instead.
    """
    import json
    import tarfile

    with tarfile.open(model_path, "r:gz") as archive:
        member = next((m for m in archive.getmembers() if m.name.lstrip("/") == "metadata.json"), None)
        handle = archive.extractfile(member) if member is not None else None
        if handle is None:
            return []
        nodes = json.loads(handle.read().decode("utf-8")).get("predict_schema", {}).get("nodes", {})
    return sorted({node["uses"].rpartition(".")[2] for node in nodes.values()
                   if node.get("uses", "").rpartition(".")[0] in TENSORFLOW_COMPONENT_MODULES})


def installed() -> bool:
    return isinstance(sys.modules.get("tensorflow"), _StandInModule)


def install() -> None:
    """Puts the stand-ins in place; must run before anything imports TensorFlow (that is, before Rasa)."""
    if installed():
        return
    if "tensorflow" in sys.modules:
        raise RuntimeError("no_tensorflow.install() must run before Rasa is imported: TensorFlow is already loaded")
    for name in STAND_IN_MODULES:
        module = _StandInModule(name, "Stand-in: TensorFlow is not loaded (rasa_runtime/no_tensorflow.py).")
        module.__spec__ = importlib.machinery.ModuleSpec(name, loader=None)
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent in sys.modules:
            setattr(sys.modules[parent], child, module)
    sys.meta_path.insert(0, _Refuser())

    from rasa.engine.runner.dask import DaskGraphRunner

    original = DaskGraphRunner.create.__func__  # type: ignore[attr-defined]

    def create(cls: type, graph_schema: Any, *args: Any, **kwargs: Any) -> Any:
        found = tensorflow_components([node.uses for node in graph_schema.nodes.values()])
        if found:
            raise TensorFlowNotLoaded(MESSAGE.format(what=f"the model's graph uses {', '.join(found)}"))
        return original(cls, graph_schema, *args, **kwargs)

    DaskGraphRunner.create = classmethod(create)  # type: ignore[method-assign, assignment]
