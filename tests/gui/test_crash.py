"""An uncaught exception opens a report with the traceback, versions and no secrets."""

from __future__ import annotations

from impdesk.gui import crash


def test_crash_report_is_redacted_and_copyable(qtbot, qapp):
    token = "k3Jx0V1cQm9yX2FjY2Vzc190b2tlbl9leGFtcGxl"
    try:
        raise RuntimeError(f"boom with Authorization: Bearer {token}")
    except RuntimeError as exc:
        dialog = crash.show_crash(type(exc), exc, exc.__traceback__)
    assert dialog is not None
    qtbot.addWidget(dialog)
    text = dialog.details.toPlainText()
    assert "RuntimeError: boom" in text and "test_crash_report_is_redacted" in text
    assert "PySide6" in text  # versions come first
    assert token not in text
    copy = next(b for b in dialog.findChildren(crash.QDialogButtonBox)[0].buttons()
                if "Copy" in b.text())
    copy.click()
    assert qapp.clipboard().text() == text
