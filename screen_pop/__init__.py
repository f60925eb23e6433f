"""Screen-pop: the agent's page learns of a call the moment the agent's phone rings.

call_log's bus → `PopFeed` (per-agent lanes build each pop from the case stub, audited for the
viewer) → `PopHub` (per-connection bounded queues and sender tasks) → the agent page's WebSocket.
"""
