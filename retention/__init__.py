"""Retention (PDPA): every kind of personal data the server holds is kept for a period of its
own (config/settings.toml [retention]), then removed by a daily purge or by hand.

- `retention.policy`: the kinds of data and their periods.
- `retention.purge`: the purge use case — what is past its period, what holds it back, the
  removal of rows and media files, one audit entry per run.
- `retention.loop`: the daily run at the configured local time.
- `python -m retention purge [--dry-run]`: the purge from the command line.
"""
