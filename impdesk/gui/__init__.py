"""Qt views, dialogs, item models and async task helpers; the only package importing PySide6."""
