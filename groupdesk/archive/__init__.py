"""The archive of closed incidents: what happened, kept after Temporal's history is gone, hash-chained."""
