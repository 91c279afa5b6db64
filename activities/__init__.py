"""Activity bodies: sending messages, working days, the archive, reports, loading a hand-over's playbook."""
