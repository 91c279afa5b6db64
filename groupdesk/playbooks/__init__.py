"""Playbooks as data: loading and checking them, choosing one, their SMS templates, the sensitive-period calendar."""
