"""`vgssl-train` subcommands: each module adds its parser and runs from parsed arguments."""
