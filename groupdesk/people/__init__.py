"""Staff: the directory of who holds which role where, sign-in accounts, who may do what, and 更换当事人."""
