"""Settings of the server: one TOML file in config/, overridable by environment variables."""

from settings.loader import Settings, SettingsError, load_settings, repo_root

__all__ = ["Settings", "SettingsError", "load_settings", "repo_root"]
