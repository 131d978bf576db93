"""The Rasa release guard of both entry points: `python -m rasa_runtime` (the server) and
`python -m rasa_runtime.train` (`make train`, publishing).

Every module of this package patches internals of one Rasa release (RASA_VERSION in __init__.py);
on another release a patch would fail silently or half-way, and a model trained there would be
loaded by a server that refuses to start. So both refuse, before Rasa is imported, with exit 2 and
a message that tells the operator what to do.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Optional

from rasa_runtime import RASA_VERSION


def installed_rasa_version() -> Optional[str]:
    """The installed Rasa release, read from its package metadata (without importing Rasa)."""
    try:
        return metadata.version("rasa")
    except metadata.PackageNotFoundError:
        return None


def version_check(installed: Optional[str], refused: str = "Rasa server not started") -> None:
    """Exit 2 with an English message, starting with ``refused`` (what did not happen), unless
    ``installed`` is the release the patches were written for."""
    if installed == RASA_VERSION:
        return
    found = f"Rasa {installed} is installed" if installed else "Rasa is not installed"
    print(f"{refused}: {found}, but rasa_runtime patches Rasa {RASA_VERSION} internals "
          f"(batching, model loading, action calls, API auth, erasure, no TensorFlow). Install "
          f"rasa=={RASA_VERSION} (requirements.txt), or re-check every patch in rasa_runtime/ against the new "
          "release and then change RASA_VERSION in rasa_runtime/__init__.py.", file=sys.stderr)
    sys.exit(2)
