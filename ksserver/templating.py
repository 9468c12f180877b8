"""Jinja2 for every emitted text file; one environment, templates under ``templates/``."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from ksserver import outputs
from ksserver.config import PACKAGE_DIR


def _finalize(value):
    """Every value a template prints: what no output can carry is refused (``outputs``)."""
    if isinstance(value, str):
        outputs.xml_text(value, f'the value "{value[:40]}"')
    return value


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PACKAGE_DIR / "templates")),
        autoescape=jinja2.select_autoescape(["xml", "xml.j2", "html"]),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # templates ship with the package: no stat of the file per render
        finalize=_finalize,
    )


def render(template: str, /, **context) -> str:
    return environment().get_template(template).render(**context)
