from groupdesk.cli import main

main()
