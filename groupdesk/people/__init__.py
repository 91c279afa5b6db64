"""Who people are and what they may do: the staff directory, its units, accounts and permissions."""
