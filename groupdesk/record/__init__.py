"""The record of closed incidents: the hash-chained archive, evidence kept with it, reports and the ledger."""
