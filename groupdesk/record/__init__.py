"""The record of closed incidents: the hash-chained archive, repeat keys, reports and the accountability ledger."""
