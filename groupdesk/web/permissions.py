"""The console's name for the permission rules, which live in groupdesk.permissions (shared with the CLI)."""

from groupdesk.permissions import Forbidden, Viewer, acting_as, require, viewer_for

__all__ = ["Forbidden", "Viewer", "acting_as", "require", "viewer_for"]
