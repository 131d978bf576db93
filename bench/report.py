"""bench/REPORT.md is assembled from sections, one per benchmark, each replaced on its own."""

from __future__ import annotations

import re
from pathlib import Path

REPORT = Path(__file__).resolve().parent / "REPORT.md"
TITLE = (
    "# Benchmark report\n\n"
    "Every figure here is written by a script in bench/ (`make bench`); do not edit by hand.\n"
)


def write_section(name: str, body: str) -> None:
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else TITLE
    start, end = f"<!-- section:{name} -->", f"<!-- /section:{name} -->"
    block = f"{start}\n## {name}\n\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    REPORT.write_text(text, encoding="utf-8")
