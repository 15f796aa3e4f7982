from huntbook.cli import main

main()
