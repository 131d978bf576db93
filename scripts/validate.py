"""`make validate`: the editors' content checks (Finnish, file and line) and `rasa data validate`.

Exit code 0 when there is nothing that blocks publishing; the report lists what to fix.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.validation import validate  # noqa: E402


def main() -> int:
    report = validate(ROOT)
    for line in report.lines():
        print(line)
    if report.ok:
        print("validate: training data and domain are clean")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
