"""`python -m shuchang` runs the command-line tool."""

from shuchang.cli import main

main()
