from custdev.cli import main

main()
