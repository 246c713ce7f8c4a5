"""The tamper-evident audit trail and its verifier."""
