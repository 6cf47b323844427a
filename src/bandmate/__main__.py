"""`python -m bandmate` runs the CLI."""

from bandmate.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
