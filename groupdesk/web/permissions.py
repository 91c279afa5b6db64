"""The console's name for the permission rules, which live in groupdesk.people.permissions (shared with the CLI)."""

from groupdesk.people.permissions import Forbidden, Viewer, acting_as, require, viewer_for

__all__ = ["Forbidden", "Viewer", "acting_as", "require", "viewer_for"]
