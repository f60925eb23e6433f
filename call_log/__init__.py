"""The call log: one record per call from Asterisk's AMI events, cross-checked with Asterisk's
own CEL and queue_log, and the in-process bus of call milestones (screen-pop, stubs)."""
