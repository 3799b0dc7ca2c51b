"""`python -m bot`: the same command line as `portail-famille`."""

from bot.cli import main

raise SystemExit(main())
