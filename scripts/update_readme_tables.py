"""Rewrite the generated tables of README.md between their markers.

``<!-- results-table: ... -->`` / ``<!-- /results-table -->`` gets the output of
``scripts/results_table.py`` and ``<!-- particles-table: ... -->`` /
``<!-- /particles-table -->`` that of ``scripts/particles_table.py``::

    python scripts/update_readme_tables.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = {"results-table": "results_table.py", "particles-table": "particles_table.py"}


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    for marker, script in TABLES.items():
        pattern = re.compile(rf"(<!-- {marker}:[^>]*-->\n).*?(<!-- /{marker} -->)", re.S)
        if not pattern.search(text):
            continue
        table = subprocess.run([sys.executable, str(ROOT / "scripts" / script)], check=True,
                               capture_output=True, text=True).stdout
        text = pattern.sub(lambda m: m.group(1) + table.rstrip("\n") + "\n" + m.group(2), text)
    readme.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
