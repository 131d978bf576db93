"""Give back to the system what loading a model allocated only for a while.

Loading a model unpacks the archive and reads every component's files (vocabularies, the
classifier's matrices, Voikko's dictionary, the e5 weights) through temporary Python objects;
glibc keeps the freed memory in its arenas, so a freshly loaded server holds memory it will never
use again, and a `PUT /model` briefly holds two models. After every model load the process
collects garbage and asks glibc to return free pages (`malloc_trim`). (Loading used to build
TensorFlow graphs too; our server no longer loads TensorFlow at all, rasa_runtime/no_tensorflow.py.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
from typing import Any

logger = logging.getLogger(__name__)


def release_free_memory() -> None:
    """Runs the garbage collector and returns free heap pages to the system (glibc only)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
    except OSError:
        trim = None
    if trim is not None:
        trim(0)


def install() -> None:
    """Releases free memory after every `Agent.load_model` (start-up and `PUT /model`)."""
    from rasa.core.agent import Agent

    original = Agent.load_model

    def load_model(self: Agent, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        release_free_memory()

    Agent.load_model = load_model  # type: ignore[method-assign]
