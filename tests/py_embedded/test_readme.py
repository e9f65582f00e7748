"""The README's Python example runs as written (and its docstring example in the package)."""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

import azimuth
from conftest import REPO_ROOT


def readme_example() -> str:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## Embedded in Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "expected one python example in the README section"
    return blocks[0]


def test_readme_example_runs(tmp_path: Path) -> None:
    code = readme_example()
    for run in range(2):  # and again on the data the first run left (get_or_create)
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert len(lines) == 4, out.stdout
        assert lines[0].startswith("0 1.0 {")  # the query's own vector, cosine 1.0
        assert "'lang': 'de'" in lines[1] and "'lang': 'de'" in lines[2]
        assert lines[3].startswith("(100, 10) ")
    assert (tmp_path / "azimuth_data").is_dir()


def test_package_docstring_examples() -> None:
    result = doctest.testmod(azimuth, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0
