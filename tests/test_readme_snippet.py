"""The README's Python snippet runs as printed, on real records (MIT-BIH's 100, CinC 2017's A00005)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_readme_snippet_runs_on_real_records(data_root, monkeypatch):
    import heartzoo

    (code,) = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    for placeholder in ("path/to/mitdb/100", "path/to/cinc2017/training2017/A00005"):
        assert placeholder in code
    code = code.replace("path/to/", f"{data_root}/")
    monkeypatch.setenv("HEARTZOO_ZOO_DIR", str(REPO / "zoo"))  # the table's models, from this checkout
    names: dict = {}
    exec(compile(code, "README.md", "exec"), names)
    probs = names["probs"]
    assert probs.shape == (len(names["peaks"]), 3) and probs.shape[0] > 2000  # record 100's half hour
    assert names["m"].config.name == "beat-3-cnn3-student" and heartzoo.__file__.startswith(str(REPO))
