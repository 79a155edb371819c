"""impdesk: a desktop manager for Electric Imp impCentral accounts."""

__version__ = "0.1.0"
APP_ID = "io.github.impdesk.Impdesk"
APP_NAME = "impdesk"
