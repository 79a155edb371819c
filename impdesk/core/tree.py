"""The account tree as plain data: join the snapshot's lists through their relationships."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..api.records import Account, Device, DeviceGroup, Product
from ..api.snapshot import Snapshot

log = logging.getLogger(__name__)

ROOT, OWNER, PRODUCT, GROUP, DEVICE, UNASSIGNED = (
    "root", "owner", "product", "group", "device", "unassigned")
Key = tuple[str, str]
ROOT_KEY: Key = (ROOT, "")
UNASSIGNED_KEY: Key = (UNASSIGNED, "")


@dataclass(eq=False)
class TreeNode:
    """One row of the tree; the tree owns its nodes (Qt keeps only raw pointers to them)."""

    kind: str
    id: str
    payload: Any = None  # Product, DeviceGroup, Device, Account or None
    parent: TreeNode | None = None
    children: list[TreeNode] = field(default_factory=list)
    pending: str | None = None  # e.g. "moving" while a change awaits the server

    @property
    def key(self) -> Key:
        return (self.kind, self.id)

    def row(self) -> int:
        return self.parent.children.index(self) if self.parent is not None else 0

    def walk(self) -> Iterator[TreeNode]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class TreeShape:
    """Where every node belongs: key → (parent key, payload), in a stable order."""

    parents: dict[Key, Key] = field(default_factory=dict)
    payloads: dict[Key, Any] = field(default_factory=dict)
    orphans: list[str] = field(default_factory=list)  # devices whose group is not visible


def build_shape(snap: Snapshot) -> TreeShape:
    """Join products, groups and devices by relationship ids (§3.0: lists fetched apart)."""
    shape = TreeShape()
    me = snap.me.id if snap.me else None
    accounts = {a.id: a for a in snap.accounts}
    products = {p.id: p for p in snap.products}
    groups = {g.id: g for g in snap.device_groups}

    for product in snap.products:
        owner = product.owner_id
        if me is not None and owner and owner != me:
            owner_key: Key = (OWNER, owner)
            if owner_key not in shape.parents:
                shape.parents[owner_key] = ROOT_KEY
                shape.payloads[owner_key] = accounts.get(owner) or Account(owner, "account")
            parent = owner_key
        else:
            parent = ROOT_KEY
        shape.parents[(PRODUCT, product.id)] = parent
        shape.payloads[(PRODUCT, product.id)] = product
    for group in snap.device_groups:
        pid = group.product_id
        if pid not in products:
            log.warning("device group %s belongs to a product that is not visible", group.id)
            continue
        shape.parents[(GROUP, group.id)] = (PRODUCT, pid)
        shape.payloads[(GROUP, group.id)] = group
    shape.parents[UNASSIGNED_KEY] = ROOT_KEY
    shape.payloads[UNASSIGNED_KEY] = None
    for device in snap.devices:
        gid = device.devicegroup_id
        if gid is None:
            parent = UNASSIGNED_KEY
        elif gid in groups and (GROUP, gid) in shape.parents:
            parent = (GROUP, gid)
        else:
            shape.orphans.append(device.id)
            log.warning("device %s is in a device group that is not visible", device.id)
            continue
        shape.parents[(DEVICE, device.id)] = parent
        shape.payloads[(DEVICE, device.id)] = device
    return shape


@dataclass
class Plan:
    """How to turn one tree into another with precise row operations (no model reset)."""

    removed: list[Key] = field(default_factory=list)  # children before parents
    moved: list[tuple[Key, Key]] = field(default_factory=list)  # (key, new parent key)
    added: list[tuple[Key, Key]] = field(default_factory=list)  # parents before children
    changed: list[Key] = field(default_factory=list)  # same place, new payload


def plan(current: dict[Key, Key], shape: TreeShape, payload_of: dict[Key, Any]) -> Plan:
    """Compare the current parent map (and payloads) with a new shape."""
    result = Plan()
    depth_cache: dict[Key, int] = {}

    def depth(key: Key, parents: dict[Key, Key]) -> int:
        if key == ROOT_KEY:
            return 0
        if key not in depth_cache:
            depth_cache[key] = 1 + depth(parents[key], parents)
        return depth_cache[key]

    gone = [k for k in current if k not in shape.parents and k != ROOT_KEY]
    result.removed = sorted(gone, key=lambda k: -depth(k, current))
    depth_cache.clear()
    for key, parent in shape.parents.items():
        if key not in current:
            result.added.append((key, parent))
        elif current[key] != parent:
            result.moved.append((key, parent))
        elif _differs(payload_of.get(key), shape.payloads.get(key)):
            result.changed.append(key)
    result.added.sort(key=lambda kp: depth(kp[0], shape.parents))
    return result


def plan_for_nodes(nodes: dict[Key, TreeNode], shape: TreeShape) -> Plan:
    """`plan()` from a copy of a tree's node map (key → TreeNode): cheap to take on the UI
    thread, so the comparison itself can run on a worker thread."""
    current: dict[Key, Key] = {}
    payloads: dict[Key, Any] = {}
    for key, node in nodes.items():
        payloads[key] = node.payload
        if node.parent is not None:
            current[key] = node.parent.key
    return plan(current, shape, payloads)


def _differs(old: Any, new: Any) -> bool:
    if old is new:  # the usual case after a load: the same record objects
        return False
    if old is None or new is None:
        return old is not new
    if isinstance(old, Product | DeviceGroup | Device | Account):
        return (old.type, old.attributes, old.relationships) != (
            new.type, new.attributes, new.relationships)
    return old != new
