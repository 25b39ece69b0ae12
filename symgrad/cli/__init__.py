"""The `symgrad` command: `main` (argument parsing, loading the user's file)
in `symgrad.cli.main`, the subcommands in `commands`, the moons demo in
`demo`. Nothing in the library imports this package.
"""
