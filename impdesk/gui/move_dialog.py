""""Move to device group…": a searchable group picker, the keyboard path for drag and drop."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..api.records import DeviceGroup, Product
from ..core.rules import Verdict
from . import icons
from .tree_model import GROUP_TYPE_LABELS

UNASSIGN = ""  # the picker's id for "Unassigned devices"


class MoveDialog(QDialog):
    """Pick a target group (or Unassigned); groups no selected device may enter are disabled."""

    def __init__(self, groups: list[DeviceGroup], products: dict[str, Product],
                 verdicts_for: Callable[[str | None], dict[str, Verdict]], count: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MoveDialog")
        self.setWindowTitle(self.tr("Move to device group"))
        self.resize(520, 460)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search device groups"))
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setObjectName("groupPicker")
        label = QLabel(self.tr("&Move the device to:") if count == 1
                       else self.tr("&Move %d devices to:") % count)
        label.setBuddy(self.search)
        self.search.setAccessibleName(self.tr("Search device groups"))
        self.list.setAccessibleName(self.tr("Device groups"))
        hint = QLabel(self.tr("Greyed-out groups cannot take the selected devices; point at "
                              "one to see why."))
        hint.setWordWrap(True)
        palette = hint.palette()
        palette.setColor(palette.ColorRole.WindowText, palette.placeholderText().color())
        hint.setPalette(palette)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton(self.tr("Move"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        self.ok.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        self.hint = hint

        entries: list[tuple[str, str, str | None]] = [
            (self.tr("Unassigned devices"), "", None)]
        for group in sorted(groups, key=lambda g: (
                products.get(g.product_id or "", Product("", "")).name.casefold(),
                g.name.casefold())):
            product = products.get(group.product_id or "")
            title = f"{product.name if product else '?'} / {group.name}"
            entries.append((title, GROUP_TYPE_LABELS.get(group.type, group.type), group.id))
        for title, kind, group_id in entries:
            verdicts = verdicts_for(group_id)
            allowed = [v for v in verdicts.values() if v.allowed]
            text = f"{title}    ({kind})" if kind else title
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, UNASSIGN if group_id is None else group_id)
            if group_id is None:
                item.setIcon(icons.unassigned_icon())
            else:
                group = next(g for g in groups if g.id == group_id)
                item.setIcon(icons.group_icon(group.type))
            if not allowed:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                reasons = {v.reason for v in verdicts.values() if v.reason}
                item.setToolTip("\n".join(sorted(reasons)))
            self.list.addItem(item)
        self.search.textChanged.connect(self._filter)
        self.list.itemDoubleClicked.connect(lambda _: self.accept())
        self.list.currentItemChanged.connect(self._sync)
        self._sync()
        hint.setVisible(any(not self.list.item(r).flags() & Qt.ItemFlag.ItemIsEnabled
                            for r in range(self.list.count())))
        self.search.setFocus()

    def _filter(self, text: str) -> None:
        needle = text.strip().casefold()
        first = None
        for row in range(self.list.count()):
            item = self.list.item(row)
            hidden = bool(needle) and needle not in item.text().casefold()
            item.setHidden(hidden)
            if not hidden and first is None and item.flags() & Qt.ItemFlag.ItemIsEnabled:
                first = item
        if first is not None:
            self.list.setCurrentItem(first)
        else:  # nothing usable is shown: the hidden current item must not stay chosen
            self.list.setCurrentRow(-1)

    def _sync(self) -> None:
        self.ok.setEnabled(self.chosen() is not None)

    def chosen(self) -> str | None:
        """The chosen group id, "" for Unassigned, None when nothing usable was chosen."""
        item = self.list.currentItem()
        if item is None or item.isHidden() or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return None
        return item.data(Qt.ItemDataRole.UserRole)
