"""What every process shares: settings, keyed hashes, masking, logs, files in the data dir."""
