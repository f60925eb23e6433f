"""Renderings of a `ReportDocument`: CSV and PDF (the web page renders its JSON itself)."""
