"""Create or edit a device group: type, targets, name, description, env vars, code loading."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...api.errors import ApiError
from ...api.records import FIXTURE_TYPES, GROUP_TYPES, PRODUCTION_TYPES, DeviceGroup
from ...core.validation import (
    NUMBER,
    REGION_MAX,
    STRING,
    EnvRow,
    check_env_rows,
    check_region,
    rows_from_env,
)
from .. import dialogs, theme
from ..tree_model import GROUP_TYPE_LABELS
from .forms import DescriptionField, NameFields, Submit, SubmitDialog, hint_label, plain_label

KEY, VALUE, KIND = range(3)


class EnvVarsEditor(QWidget):
    """A key/value table: each row is checked as it is typed; problems show under the table."""

    def __init__(self, env: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("envTable")
        self.table.setHorizontalHeaderLabels([self.tr("Key"), self.tr("Value"), self.tr("Type")])
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        self.table.setColumnWidth(KEY, 170)
        header.setSectionResizeMode(VALUE, QHeaderView.ResizeMode.Stretch)
        probe = QComboBox()  # the Type cells are combo boxes: the column fits one
        probe.addItems([self.tr("text"), self.tr("number")])
        header.setSectionResizeMode(KIND, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(KIND, probe.sizeHint().width() + 4)
        self.table.verticalHeader().setVisible(False)
        self.table.setAccessibleName(self.tr("Environment variables"))
        self.add = QPushButton(self.tr("&Add variable"))
        self.remove = QPushButton(self.tr("&Remove"))
        self.remove.setToolTip(self.tr("Remove the selected variable"))
        for button in (self.add, self.remove):
            button.setAutoDefault(False)  # Enter in the dialog creates or saves the group
        self.hint = hint_label()
        self.hint.setObjectName("envHint")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        for row in rows_from_env(env):
            self.add_row(row)
        self.add.clicked.connect(lambda: self.add_row(EnvRow("", "")))
        self.remove.clicked.connect(self._remove_current)
        self.table.itemChanged.connect(lambda _: self.check())

    def add_row(self, row: EnvRow) -> int:
        index = self.table.rowCount()
        self.table.blockSignals(True)
        self.table.insertRow(index)
        self.table.setItem(index, KEY, QTableWidgetItem(row.key))
        self.table.setItem(index, VALUE, QTableWidgetItem(row.value))
        kind = QComboBox()
        kind.addItem(self.tr("text"), STRING)
        kind.addItem(self.tr("number"), NUMBER)
        kind.setCurrentIndex(1 if row.kind == NUMBER else 0)
        kind.currentIndexChanged.connect(lambda _: self.check())
        self.table.setCellWidget(index, KIND, kind)
        self.table.blockSignals(False)
        if not row.key:
            self.table.setCurrentCell(index, KEY)
        return index

    def _remove_current(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self.check()

    def rows(self) -> list[EnvRow]:
        out = []
        for r in range(self.table.rowCount()):
            key = self.table.item(r, KEY)
            value = self.table.item(r, VALUE)
            kind = self.table.cellWidget(r, KIND)
            out.append(EnvRow(key.text().strip() if key else "", value.text() if value else "",
                              kind.currentData() if isinstance(kind, QComboBox) else STRING))
        return out

    def check(self) -> tuple[dict[str, Any], list[str]]:
        env, row_errors, overall = check_env_rows(self.rows())
        bad = QBrush(theme.error_background(self.table.palette()))
        self.table.blockSignals(True)
        for r in range(self.table.rowCount()):
            for c in (KEY, VALUE):
                item = self.table.item(r, c)
                if item is not None:
                    item.setBackground(bad if r in row_errors else QBrush())
                    item.setToolTip(row_errors.get(r, ""))
        self.table.blockSignals(False)
        messages = [self.tr("Row %d: %s") % (r + 1, m) for r, m in sorted(row_errors.items())]
        if overall:
            messages.append(overall)
        dialogs.show_error(self.hint, "\n".join(messages))
        return env, messages


class GroupDialog(SubmitDialog):
    """New device group in a product (any of the seven types), or edit an existing one."""

    def __init__(self, submit: Submit, product_name: str, taken: set[str],
                 candidates: dict[str, tuple[list[DeviceGroup], list[DeviceGroup]]],
                 group: DeviceGroup | None = None, disabled_types: str | None = None,
                 parent: QWidget | None = None) -> None:
        editing = group is not None
        super().__init__(self.tr("Edit device group") if editing else self.tr("New device group"),
                         self.tr("Save") if editing else self.tr("Create"), submit, parent)
        self.setObjectName("GroupDialog")
        self.group = group
        self.candidates = candidates  # fixture type → (production targets, DUT targets)
        self.form.addRow(self.tr("Product:"), plain_label(product_name))
        self.type = QComboBox()
        self.type.setObjectName("typeCombo")
        for type_ in GROUP_TYPES:
            self.type.addItem(f"{GROUP_TYPE_LABELS.get(type_, type_)}  ({type_})", type_)
        if editing:
            self.type.setCurrentIndex(max(0, self.type.findData(group.type)))
            self.type.setEnabled(False)  # the type of a group never changes (§3.3.5)
        self.form.addRow(self.tr("&Type:"), self.type)
        self.type_hint = plain_label()
        self.type_hint.setObjectName("typeHint")
        self.type_hint.setVisible(False)
        self.form.addRow("", self.type_hint)
        self.name = NameFields(self, group.name if group else "", taken, "device group")
        self.description = DescriptionField(self, group.description if group else None)
        self.production_target = QComboBox()
        self.production_target.setObjectName("productionTarget")
        self.dut_target = QComboBox()
        self.dut_target.setObjectName("dutTarget")
        self.targets_hint = hint_label()
        self.prod_label = QLabel(self.tr("&Production target:"))
        self.prod_label.setBuddy(self.production_target)
        self.dut_label = QLabel(self.tr("D&UT target:"))
        self.dut_label.setBuddy(self.dut_target)
        self.form.addRow(self.prod_label, self.production_target)
        self.form.addRow(self.dut_label, self.dut_target)
        self.form.addRow("", self.targets_hint)
        # The region is set at creation only (§3.3.2): an input when creating, read-only after.
        self.region = QLineEdit((group.attributes.get("region") or "") if group else "")
        self.region.setObjectName("regionEdit")
        self.region.setMaxLength(REGION_MAX + 20)  # longer input is allowed so the hint explains
        self.region.setReadOnly(editing)
        self.region.setPlaceholderText(
            self.tr("None") if editing else self.tr("Optional, up to %d characters") % REGION_MAX)
        self.region.setToolTip(self.tr("Set when the group is created; it cannot be changed "
                                       "afterwards."))
        self.region_label = QLabel(self.tr("Re&gion:"))
        self.region_label.setBuddy(self.region)
        self.region_hint = hint_label()
        self.region_hint.setObjectName("regionHint")
        self.form.addRow(self.region_label, self.region)
        self.form.addRow("", self.region_hint)
        self.region.textChanged.connect(lambda _: self._check_region())
        self.load_code = QCheckBox(self.tr("&Load code after blessing"))
        self.load_code.setObjectName("loadCode")
        self.load_code.setChecked(bool(group.attributes.get("load_code_after_blessing", True))
                                  if group else True)
        self.form.addRow("", self.load_code)
        env_label = QLabel(self.tr("En&vironment variables:"))
        self.body.addWidget(env_label)
        self.env = EnvVarsEditor(group.env_vars if group else {}, self)
        env_label.setBuddy(self.env.table)
        self.body.addWidget(self.env)
        self.main_layout.setStretchFactor(self.body, 1)  # the table takes the spare height
        self.main_layout.setStretch(self.main_layout.count() - 2, 0)
        self.type.currentIndexChanged.connect(lambda _: self._sync_type())
        if disabled_types:
            self.disable_commercial_types(disabled_types)
        self._sync_type()
        self.resize(600, 600)

    def current_type(self) -> str:
        return self.type.currentData()

    def disable_commercial_types(self, reason: str) -> None:
        """The owner may not have the six non-development types: say why, verbatim."""
        model = self.type.model()
        if isinstance(model, QStandardItemModel):
            for row in range(model.rowCount()):
                item = model.item(row)
                if item.data(Qt.ItemDataRole.UserRole) != "development_devicegroup":
                    item.setEnabled(False)
                    item.setToolTip(reason)
        if self.group is None and self.current_type() != "development_devicegroup":
            self.type.setCurrentIndex(self.type.findData("development_devicegroup"))
        self.type_hint.setText(reason)
        self.type_hint.setVisible(True)

    def _sync_type(self) -> None:
        type_ = self.current_type()
        fixture = type_ in FIXTURE_TYPES
        for widget in (self.prod_label, self.production_target, self.dut_label, self.dut_target):
            widget.setVisible(fixture)
        self.load_code.setVisible(type_ in PRODUCTION_TYPES)
        for widget in (self.region_label, self.region):
            widget.setVisible(type_ in PRODUCTION_TYPES)
        self._check_region()
        self.production_target.clear()
        self.dut_target.clear()
        if fixture:
            prods, duts = self.candidates.get(type_, ([], []))
            for combo, groups, current in (
                    (self.production_target, prods, self.group and self.group.production_target_id),
                    (self.dut_target, duts, self.group and self.group.dut_target_id)):
                for g in groups:
                    combo.addItem(g.name, g.id)
                if current:
                    combo.setCurrentIndex(max(0, combo.findData(current)))
        self._check_targets()

    def _check_targets(self) -> str | None:
        problem = None
        if self.current_type() in FIXTURE_TYPES and (
                self.production_target.count() == 0 or self.dut_target.count() == 0):
            pair = ("test production and test DUT" if self.current_type().startswith("pre_")
                    else "production and DUT")
            problem = self.tr("A fixture group needs a %s group in this product to target; "
                              "create them first.") % pair
        dialogs.show_error(self.targets_hint, problem)
        return problem

    def region_text(self) -> str:
        return self.region.text().strip()

    def _check_region(self) -> str | None:
        problem = None
        if self.group is None and self.current_type() in PRODUCTION_TYPES:
            problem = check_region(self.region_text(), self.current_type())
        dialogs.show_error(self.region_hint, problem)
        return problem

    def values(self) -> dict[str, Any]:
        type_ = self.current_type()
        env, _ = self.env.check()
        out: dict[str, Any] = {"type": type_, "name": self.name.edit.text(),
                               "description": self.description.text(), "env_vars": env}
        if type_ in PRODUCTION_TYPES:
            out["load_code_after_blessing"] = self.load_code.isChecked()
            if self.group is None and self.region_text():
                out["region"] = self.region_text()
        if type_ in FIXTURE_TYPES:
            out["production_target"] = self.production_target.currentData()
            out["dut_target"] = self.dut_target.currentData()
        return out

    def problems(self) -> list[str]:
        _, env_problems = self.env.check()
        return [p for p in (self.name.check(), self.description.check(), self._check_targets(),
                            self._check_region(), *env_problems) if p]

    def show_server_error(self, exc: BaseException) -> None:
        super().show_server_error(exc)
        if isinstance(exc, ApiError) and exc.code == "PX300" and self.group is None:
            self.disable_commercial_types(exc.user_message)
