"""Fill the configuration templates in dialplans/templates/.

Placeholders are ``{{name}}``: Asterisk's own ``${VAR}`` syntax passes through untouched, which
string.Template would not allow. A missing value is an error naming the template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class TemplateError(Exception):
    """A template names a value the renderer did not give."""


def fill(template_name: str, values: Mapping[str, object]) -> str:
    text = (TEMPLATE_DIR / template_name).read_text(encoding="utf-8")

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise TemplateError(f"template {template_name} uses {{{{{name}}}}}, not given")
        return str(values[name])

    return _PLACEHOLDER.sub(value, text)
