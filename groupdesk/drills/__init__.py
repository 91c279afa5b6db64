"""Scripted staff that drive incidents down every path of a playbook, for drills, recordings and benchmarks."""
