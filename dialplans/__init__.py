"""Asterisk configuration rendered from the repo's definitions (routing, settings)."""

from dialplans.params import RenderParams
from dialplans.render import render_config

__all__ = ["RenderParams", "render_config"]
