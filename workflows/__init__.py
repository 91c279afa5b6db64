"""Temporal workflow code: the incident workflow, its machine and helpers, and the periodic report."""
