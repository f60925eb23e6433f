"""The supervisors' live wallboard: queue state from AMI, today's figures, coverage warnings,
pushed to the page over a WebSocket."""
