"""The README's Python example runs as written (docs must match the code)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run():
    # Blocks marked as tested must run as written; the Dask examples need a cluster.
    blocks = re.findall(r"<!-- tested[^>]*-->\n```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md has no tested Python example"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
