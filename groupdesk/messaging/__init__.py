"""Messages out and replies in: the idempotent outbox, the providers behind one interface, approval codes."""
