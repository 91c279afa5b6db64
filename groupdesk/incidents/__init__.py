"""Running incidents: the gateway (the one door), starting and registering, links, actions, promises."""
