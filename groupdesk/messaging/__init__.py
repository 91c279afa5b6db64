"""Messages to people: the outbox, the providers and channels that deliver them, and what comes back."""
