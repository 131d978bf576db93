"""`python -m rasa_runtime.train [rasa train arguments]`: `rasa train` without TensorFlow.

Our graph (config.yml) has no neural component, but Rasa 3.6 imports TensorFlow at module level
anyway: about 5 s of CPU and 420 MB for every training, `make train` and each publish alike. This
entry point installs the same stand-ins as the server (no_tensorflow.py) before Rasa is imported,
then runs Rasa's own `rasa train` command with the given arguments. Like the server, it refuses
(exit 2, before importing Rasa) a Rasa release other than RASA_VERSION (version.py). The trained
model is the same as `rasa train` makes (tests/rasa_runtime/test_train_entry.py). A config with a TensorFlow
component (DIET, ResponseSelector, TED, ...) is refused with a message that says why; train such a
config with `rasa train`.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Runs `rasa train` (or `rasa train nlu`, `rasa train core`) with ``argv`` and TensorFlow stood in for."""
    from rasa_runtime import no_tensorflow
    from rasa_runtime.version import installed_rasa_version, version_check

    version_check(installed_rasa_version(), "Rasa training not started")
    no_tensorflow.install()  # before anything imports Rasa
    sys.argv = ["rasa", "train", *(sys.argv[1:] if argv is None else argv)]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
