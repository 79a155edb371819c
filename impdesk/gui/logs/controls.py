"""The log view's toolbar, filter row and notice area (a mixin of LogView)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolBar,
    QToolButton,
    QVBoxLayout,
)

from .. import dialogs, theme
from .model import KNOWN_TYPES


class LogControls:
    """Builds the controls; LogView supplies the slots they call."""

    # -- construction --------------------------------------------------------------------------
    def _act(self, text: str, slot: Callable, tip: str = "", checkable: bool = False,
             shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        action.setCheckable(checkable)
        action.setToolTip(tip or text.replace("&", ""))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def style_notice(self) -> None:
        """The notice strip's amber, for a light or a dark palette."""
        self.notice.setStyleSheet("background: #4a3f22; color: #ffe8b0; padding: 4px;"
                                  if theme.is_dark() else
                                  "background: #fff8e1; color: #5d4037; padding: 4px;")

    def _build_controls(self) -> None:
        bar = QToolBar(self)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.act_pause = self._act(self.tr("&Pause"), self.set_paused,
                                   self.tr("Pause the display; lines keep arriving"), True)
        self.act_follow = self._act(self.tr("&Follow"), self._follow_clicked,
                                    self.tr("Follow new lines (on while scrolled to the bottom)"),
                                    True)
        self.act_follow.setChecked(True)
        self.act_utc = self._act(self.tr("&UTC"), self.set_utc,
                                 self.tr("Timestamps in UTC instead of local time"), True)
        self.act_utc.setChecked(self.model.utc)
        self.act_older = self._act(self.tr("Load &older"), lambda: self.spawn(self.load_older()),
                                   self.tr("Load older history"))
        self.act_clear = self._act(self.tr("C&lear"), self.clear, self.tr("Clear the view"))
        self.act_copy = self._act(self.tr("&Copy"), self.copy_selected,
                                  self.tr("Copy the selected lines (Ctrl+C in the table)"))
        self.act_export = self._act(self.tr("&Export…"), lambda: self.spawn(self.export()),
                                    self.tr("Save the shown lines as text, CSV or JSON Lines"))
        for act in (self.act_pause, self.act_follow, self.act_utc, None, self.act_older,
                    self.act_clear, self.act_copy, self.act_export):
            bar.addSeparator() if act is None else bar.addAction(act)
        bar.addSeparator()
        keep = QLabel(self.tr("&Keep:"), self)
        keep.setContentsMargins(6, 0, 4, 0)
        bar.addWidget(keep)
        self.cap_box = QSpinBox(self)
        keep.setBuddy(self.cap_box)
        self.cap_box.setRange(1000, 10_000_000)
        self.cap_box.setSingleStep(10_000)
        self.cap_box.setGroupSeparatorShown(True)
        self.cap_box.setSuffix(self.tr(" lines"))
        self.cap_box.setValue(self.model.max_lines)
        self.cap_box.setToolTip(self.tr("Lines this view keeps; the oldest are dropped"))
        self.cap_box.editingFinished.connect(lambda: self.set_max_lines(self.cap_box.value()))
        bar.addWidget(self.cap_box)

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText(self.tr("Filter messages"))
        self.filter_edit.setAccessibleName(self.tr("Filter messages"))
        self.filter_edit.setToolTip(self.tr("Show only lines whose message contains this text "
                                            "(or matches it, with Regex on)"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(lambda _: self._filter_timer.start())
        self.regex_box = QCheckBox(self.tr("Rege&x"), self)
        self.regex_box.toggled.connect(lambda _: self.apply_text_filter())
        self.types_button = QPushButton(self.tr("&Types: all"), self)  # room for the arrow
        self.types_button.setToolTip(self.tr("Show only some log types"))
        types_menu = QMenu(self.types_button)
        self.type_actions: dict[str, QAction] = {}
        for type_ in KNOWN_TYPES:
            act = types_menu.addAction(type_)
            act.setCheckable(True)
            act.setChecked(True)
            act.toggled.connect(lambda _=False: self._types_changed())
            self.type_actions[type_] = act
        self.types_button.setMenu(types_menu)
        self.device_combo = QComboBox(self)
        self.device_combo.setAccessibleName(self.tr("Device"))
        self.device_combo.setToolTip(self.tr("Show the lines of one device only"))
        self.device_combo.addItem(self.tr("All devices"), None)
        for device_id in self.device_ids:
            self.device_combo.addItem(self.model.name(device_id), device_id)
        self.device_combo.currentIndexChanged.connect(self._device_changed)
        self.find_edit = QLineEdit(self)
        self.find_edit.setPlaceholderText(self.tr("Find (F3)"))
        self.find_edit.setAccessibleName(self.tr("Find"))
        self.find_edit.returnPressed.connect(lambda: self.find(True))
        self.find_prev = QToolButton(self)
        self.find_prev.setText(self.tr("▲"))
        self.find_prev.setToolTip(self.tr("Find previous (Shift+F3)"))
        self.find_prev.setAccessibleName(self.tr("Find previous"))
        self.find_prev.clicked.connect(lambda: self.find(False))
        self.find_next = QToolButton(self)
        self.find_next.setText(self.tr("▼"))
        self.find_next.setToolTip(self.tr("Find next (F3, Enter)"))
        self.find_next.setAccessibleName(self.tr("Find next"))
        self.find_next.clicked.connect(lambda: self.find(True))
        self._act("", lambda: self.find(True), shortcut=QKeySequence.StandardKey.FindNext)
        self._act("", lambda: self.find(False), shortcut=QKeySequence.StandardKey.FindPrevious)
        row = QHBoxLayout()
        for widget in (self.filter_edit, self.regex_box, self.types_button, self.device_combo,
                       self.find_edit, self.find_prev, self.find_next):
            row.addWidget(widget)
        row.setStretch(0, 3)
        row.setStretch(4, 2)

        self.filter_error = dialogs.error_label()
        self.notice = QLabel(self)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.style_notice()
        self.notice.setVisible(False)
        self.reconnect_button = QPushButton(self.tr("Reco&nnect"), self)
        self.reconnect_button.setVisible(False)
        self.reconnect_button.setAutoDefault(False)
        self.reconnect_button.clicked.connect(lambda: self.reconnect())
        notice_row = QHBoxLayout()
        notice_row.addWidget(self.notice, 1)
        notice_row.addWidget(self.reconnect_button)
        self.status = QLabel(self)
        self.status.setObjectName("logStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addWidget(bar)
        layout.addLayout(row)
        layout.addWidget(self.filter_error)
        layout.addLayout(notice_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

