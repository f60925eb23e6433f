"""Shift rosters: agents, shift definitions, the weekly pattern, dated assignments, absences and
cover, with the supervisors' edits and coverage warnings. The database is the roster's one
source of truth; config/roster_seed.toml only seeds an empty one."""
