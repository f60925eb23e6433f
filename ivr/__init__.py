"""The IVR: its menu definition (config/ivr.toml), the events it reports, its start-up check.

Where a call is routed: `ivr.routing_table.build_table()` joins config/ivr.toml with
config/routing.toml; `dialplans.extensions` turns that table into Asterisk dialplan;
`python -m ivr show` prints it.
"""
