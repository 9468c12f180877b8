"""Helpers of the API and console tests (a module of its own: every conftest is named conftest)."""

from __future__ import annotations

import io
import sys


def add_user(ks, monkeypatch, name: str, password: str, role: str = "read") -> None:
    """``ksserver add user`` with the password on stdin, as a script gives it."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    ks.ok("add", "user", name, f"role={role}")
