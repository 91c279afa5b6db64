"""`python -m groupdesk.cli`: the same as the `groupdesk` command."""
from groupdesk.cli import main

main()
