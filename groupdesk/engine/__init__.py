"""The Temporal engine as groupdesk uses it: client, codec, visibility, dev server, replay, versions."""
