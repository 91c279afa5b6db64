"""Temporal as groupdesk uses it: the connection and codec, visibility queries, the dev server, replay."""
