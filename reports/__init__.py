"""Reports: the Ministry's monthly report, the provincial report, queue and agent KPIs, and the
live wallboard (issue 7).

Where things are:
  facts.py        contact facts: the case stubs' reportable fields projected into typed tables
  counts.py       GROUP BY "cubes" over those facts for one period
  monthly.py      the monthly report (seed 000), every figure beside the previous month's
  provincial.py   the provincial report (seed 003)
  kpis.py         queue and agent KPIs from the call log and agent_activity (KPIS.md)
  activity.py     agents' logged-in / paused intervals, recorded from Asterisk's member events
  document.py     what a report says (sections of labelled figures), shown by:
  render/         CSV and PDF (the web page renders the document's JSON)
  wallboard/      live queue state from AMI, the feed and the screens' WebSocket hub
  http.py         REST API, pages, WebSocket;  install.py wires it all into the app
"""
