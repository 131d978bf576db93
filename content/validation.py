"""Validation before training: the editors' content checks plus `rasa data validate`.

Rasa warns that every response uttered only by a custom action "is not used in any story or
rule": it cannot see inside Python. Those responses are found by reading the action modules, and
only for them is that warning accepted. Likewise an intent that a pipeline component sets itself
(config.yml: a component with an ``intent`` setting, such as ``other_language``) has no training
examples, and only for such intents is "not found in the NLU training data" accepted. Every other
warning, and every error, is a problem.
Used by `make validate` (scripts/validate.py) and by publishing (content/publish.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Set

from content.checks import Finding, check_project

UNUSED = re.compile(r"The utterance '([^']+)' is not used in any story or rule")
NO_EXAMPLES = re.compile(
    r"The intent '([^']+)' is listed in the domain file, but is not found in the NLU training data")
WARNING = re.compile(r"UserWarning: (.*)")
# Responses uttered by Rasa's own default actions (utter_default: action_default_fallback).
RASA_DEFAULT_RESPONSES = {"utter_default"}
# Rasa 3.6 merges the retrieval intent declared in domain.yml with the one implied by the
# responses in data/faq/*.yml and warns about the "duplicate"; that one is expected.
EXPECTED = re.compile(r"duplicated intents have been found across multiple domain files: faq\s*$")


@dataclass
class Report:
    findings: List[Finding] = field(default_factory=list)  # editors' checks, Finnish
    rasa_problems: List[str] = field(default_factory=list)  # Rasa's own, in Rasa's English

    @property
    def errors(self) -> List[Finding]:
        return [f for f in self.findings if f.severity == "virhe"]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.rasa_problems

    def lines(self) -> List[str]:
        """Finnish report lines for editors: errors first, then Rasa's findings, then warnings."""
        out = [str(f) for f in self.errors]
        out += [f"Rasan tarkistus: {problem}" for problem in self.rasa_problems]
        out += [str(f) for f in self.findings if f.severity != "virhe"]
        return out


def responses_used_by_actions(root: Path) -> Set[str]:
    used: Set[str] = set(RASA_DEFAULT_RESPONSES)
    for path in (root / "actions").rglob("*.py"):
        used.update(re.findall(r"[\"'](utter_[a-z0-9_/]+)[\"']", path.read_text(encoding="utf-8")))
    return used


def intents_set_by_components(root: Path) -> Set[str]:
    """Intents that NLU components of config.yml set themselves, never trained: a component's ``intent``
    setting, or one of its settings' (LinearClassifier's ``segments.intent``: a message of several topics)."""
    import yaml

    try:
        config = yaml.safe_load((root / "config.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return set()
    found: Set[str] = set()
    for component in config.get("pipeline") or []:
        if not isinstance(component, dict):
            continue
        for settings in (component, *(value for value in component.values() if isinstance(value, dict))):
            if isinstance(settings.get("intent"), str):
                found.add(settings["intent"])
    return found


def problems(output: str, used_by_actions: Set[str], set_by_components: Set[str] = frozenset()) -> List[str]:
    """The problems in `rasa data validate` output that are not the expected warnings."""
    found = []
    for line in output.splitlines():
        if EXPECTED.search(line):
            continue
        no_examples = NO_EXAMPLES.search(line)
        if no_examples and no_examples.group(1) in set_by_components:
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


def rasa_data_validate(root: Path, rasa: Optional[Path] = None) -> List[str]:
    rasa = rasa or Path(sys.executable).parent / "rasa"
    result = subprocess.run(
        [str(rasa), "data", "validate", "--domain", "domain.yml", "--data", "data"],
        cwd=root, capture_output=True, text=True,
    )
    found = problems(result.stdout + result.stderr, responses_used_by_actions(root), intents_set_by_components(root))
    if result.returncode != 0 and not found:
        found.append(f"rasa data validate exited with {result.returncode}")
    return found


def validate(root: Path, rasa: Optional[Path] = None, spelling: bool = True) -> Report:
    """Blocking (runs a Rasa subprocess): call it in a thread from async code."""
    findings = check_project(root, spelling=spelling)
    if any(f.severity == "virhe" for f in findings):
        return Report(findings)  # Rasa's checks would only repeat a broken file
    return Report(findings, rasa_data_validate(root, rasa))
