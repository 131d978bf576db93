"""`rasa data validate`, read the way this project needs it.

Rasa warns that every response uttered only by a custom action "is not used in any story or
rule": it cannot see inside Python. Those responses are found by reading the action modules, and
only for them is that warning accepted. Every other warning, and every error, fails.
Exit code 0 when clean; the report lists what to fix.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import List, Set

ROOT = Path(__file__).resolve().parent.parent
UNUSED = re.compile(r"The utterance '([^']+)' is not used in any story or rule")
WARNING = re.compile(r"UserWarning: (.*)")


# Responses uttered by Rasa's own default actions (utter_default: action_default_fallback).
RASA_DEFAULT_RESPONSES = {"utter_default"}


def responses_used_by_actions() -> Set[str]:
    used: Set[str] = set(RASA_DEFAULT_RESPONSES)
    for path in (ROOT / "actions").rglob("*.py"):
        used.update(re.findall(r"[\"'](utter_[a-z0-9_/]+)[\"']", path.read_text(encoding="utf-8")))
    return used


# Rasa 3.6 merges the retrieval intent declared in domain.yml with the one implied by the
# responses in data/faq/*.yml and warns about the "duplicate"; that one is expected.
EXPECTED = re.compile(r"duplicated intents have been found across multiple domain files: faq\s*$")


def problems(output: str, used_by_actions: Set[str]) -> List[str]:
    found = []
    for line in output.splitlines():
        if EXPECTED.search(line):
            continue
        unused = UNUSED.search(line)
        if unused:
            if unused.group(1) not in used_by_actions:
                found.append(f"response {unused.group(1)} is used nowhere")
            continue
        warning = WARNING.search(line)
        if warning:
            found.append(warning.group(1).strip())
        elif " ERROR " in line or line.startswith("ERROR"):
            found.append(line.strip())
    return found


def project_findings() -> int:
    """The editors' checks (content/checks.py), printed in Finnish; returns the number of errors."""
    sys.path.insert(0, str(ROOT))
    from content.checks import check_project

    findings = check_project(ROOT)
    for finding in findings:
        print(finding)
    return sum(1 for finding in findings if finding.severity == "virhe")


def main() -> int:
    errors = project_findings()
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run(
        [str(rasa), "data", "validate", "--domain", "domain.yml", "--data", "data"],
        cwd=ROOT, capture_output=True, text=True,
    )
    output = result.stdout + result.stderr
    found = problems(output, responses_used_by_actions())
    if result.returncode != 0 and not found:
        found.append(f"rasa data validate exited with {result.returncode}")
    for problem in found:
        print(f"validate: {problem}")
    if not found and not errors:
        print("validate: training data and domain are clean")
    return 1 if found or errors else 0


if __name__ == "__main__":
    sys.exit(main())
