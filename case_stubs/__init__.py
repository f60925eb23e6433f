"""Case stubs: one per contact, validated against contracts/case_stub.schema.json, kept in the
database (the embedded case store) and pushed to the Ministry's case store through an outbox."""
