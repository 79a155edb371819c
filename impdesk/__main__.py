"""`python -m impdesk`: same as the `impdesk` command."""

from impdesk.app import main

if __name__ == "__main__":
    raise SystemExit(main())
