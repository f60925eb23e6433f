"""Retention (PDPA): every kind of personal data the server holds is kept for a period of its
own (config/settings.toml [retention]), then removed by a daily purge or by hand.

- `retention.kinds`: the kinds of data — the one table of them (their [retention] keys and
  labels), from which the settings, the policy, the command line and the page are derived.
- `retention.policy`: the period of each kind.
- `retention.purge`: the purge use case — what is past its period, what holds it back, the
  removal of rows and media files, one audit entry per run.
- `retention.loop`: the daily run at the configured local time.
- `retention.install`, `retention.http`: the room in the app — the daily purge (under its duty
  lease) and the retention preview, GET /api/retention.
- `python -m retention purge [--dry-run]`: the purge from the command line.
"""
