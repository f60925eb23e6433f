"""Triage helpers for what callers and agents write or say, in Thai and English.

- `triage.thai_text`: Thai normalisation, numbers in words, Buddhist-era dates.
- `triage.keywords`: keyword -> suggested priority and problem types (a suggestion for the
  agent, never a decision).
"""
