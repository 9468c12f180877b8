"""The one way a test holds an output to its golden file under ``tests/golden/``.

After a deliberate change, regenerate the golden files a run compares with::

    KSSERVER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/…

and read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def expect(name: str, text: str) -> None:
    """``text`` equals the golden file ``name`` (a path under ``tests/golden/``)."""
    path = GOLDEN / name
    if os.environ.get("KSSERVER_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path} (run with KSSERVER_UPDATE_GOLDEN=1)"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"
