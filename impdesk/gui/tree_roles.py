"""The account tree's columns, headers, data roles, group-type labels and the Index type."""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex

GROUP_TYPE_LABELS = {
    "development_devicegroup": "Development",
    "pre_factoryfixture_devicegroup": "Test factory fixture",
    "pre_dut_devicegroup": "Test DUT",
    "pre_production_devicegroup": "Test production",
    "factoryfixture_devicegroup": "Factory fixture",
    "dut_devicegroup": "DUT",
    "production_devicegroup": "Production",
}


class Column(IntEnum):
    """The tree's columns."""

    NAME = 0  #: product, group or device name
    TYPE = 1  #: kind / group type / imp type
    STATE = 2  #: online state, or "12 devices · 9 online" for containers
    DEVICE_ID = 3  #: device id
    AGENT = 4  #: agent running or stopped
    IMPOS = 5  #: impOS version
    RSSI = 6  #: signal strength in dBm
    DEPLOYMENT = 7  #: current deployment (groups) / running deployment sha (devices)


NCOLS = len(Column)

HEADERS = {
    Column.NAME: "Name", Column.TYPE: "Type", Column.STATE: "State",
    Column.DEVICE_ID: "Device ID", Column.AGENT: "Agent", Column.IMPOS: "impOS",
    Column.RSSI: "RSSI", Column.DEPLOYMENT: "Deployment",
}


class Role(IntEnum):
    """Custom data roles."""

    NODE = Qt.ItemDataRole.UserRole  #: the TreeNode itself
    KIND = Qt.ItemDataRole.UserRole + 1  #: "product", "group", "device", "owner", "unassigned"
    SORT = Qt.ItemDataRole.UserRole + 2  #: a sortable value for the column
    ID = Qt.ItemDataRole.UserRole + 3  #: the resource id
    FILTER = Qt.ItemDataRole.UserRole + 4  #: text the filter box matches (name, ids, MAC, type)


def impos_version(swversion: str | None) -> str:
    """`release-42.7` from an impOS build string, else the string itself."""
    if not swversion:
        return ""
    for part in swversion.split(" - "):
        if part.startswith("release-"):
            return part[len("release-"):]
    return swversion
