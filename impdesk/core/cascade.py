"""Cascade deletes: what blocks deleting a product or group, the steps that clear it, a runner."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..api.errors import ApiError, ErrorItem
from ..api.records import FIXTURE_TYPES, Deployment, Device, DeviceGroup
from ..api.snapshot import Snapshot
from .readback import read_back

log = logging.getLogger(__name__)

UNASSIGN, UNFLAG = "unassign", "unflag"
SELECTION = "selection"  # the root kind of a plan for several products and groups
DELETE_GROUP, DELETE_PRODUCT = "delete_group", "delete_product"
ACTIONS = {UNASSIGN: "Unassign devices", UNFLAG: "Unflag deployment",
           DELETE_GROUP: "Delete device group", DELETE_PRODUCT: "Delete product"}
PENDING, RUNNING, DONE, FAILED, SKIPPED = "pending", "running", "done", "failed", "not done"


def error_text(exc: BaseException) -> str:
    """A server error verbatim: `409 CX100 Duplicate Resource: Products must have unique names.`"""
    return str(exc) or type(exc).__name__


def item_text(item: ErrorItem) -> str:
    head = " ".join(p for p in (str(item.status) if item.status else "", item.code or "") if p)
    body = ": ".join(t for t in (item.title, item.detail) if t)
    return f"{head} {body}".strip()


@dataclass
class Step:
    """One call of a cascade, described for people before it runs."""

    kind: str
    target_id: str
    label: str
    device_ids: list[str] = field(default_factory=list)
    group_type: str | None = None
    name: str = ""  # the target's name, for the journal

    @property
    def action(self) -> str:
        return ACTIONS.get(self.kind, self.kind)

    @property
    def needs_unbond_key(self) -> bool:
        return self.kind == UNASSIGN and self.group_type == "production_devicegroup"


@dataclass
class Blockers:
    """Why a plain delete would be refused (§3.2 CX102, §3.3.6 CX103-CX105)."""

    groups: list[DeviceGroup] = field(default_factory=list)
    devices: dict[str, list[Device]] = field(default_factory=dict)  # group id → devices
    flagged: list[Deployment] = field(default_factory=list)
    targets: list[tuple[DeviceGroup, DeviceGroup]] = field(default_factory=list)  # fixture, target

    def lines(self, product_level: bool) -> list[str]:
        out = []
        if product_level and self.groups:
            out.append(f"{len(self.groups)} device group(s): "
                       + ", ".join(g.name for g in self.groups))
        count = sum(len(v) for v in self.devices.values())
        if count:
            out.append(f"{count} assigned device(s)")
        if self.flagged:
            out.append(f"{len(self.flagged)} flagged deployment(s)")
        for fixture, target in self.targets:
            out.append(f"\u201c{target.name}\u201d is a target of fixture group "
                       f"\u201c{fixture.name}\u201d")
        return out


@dataclass
class CascadePlan:
    """Every step, in order, that deleting `root` needs; the last step deletes it.

    A plan for several products and groups at once has `root_kind` SELECTION, an empty
    `root_id` and a `root_name` that counts them ("2 products and 1 device group").
    """

    root_kind: str  # "product", "group" or SELECTION
    root_id: str
    root_name: str
    blockers: Blockers
    steps: list[Step] = field(default_factory=list)

    @property
    def needs_unbond_key(self) -> bool:
        return any(s.needs_unbond_key for s in self.steps)


def _group_label(group: DeviceGroup) -> str:
    return f"device group \u201c{group.name}\u201d"


def order_groups(groups: list[DeviceGroup]) -> list[DeviceGroup]:
    """Groups that target others come before their targets (fixtures first)."""
    ids = {g.id for g in groups}
    targeting = [g for g in groups if g.type in FIXTURE_TYPES or (
        {g.production_target_id, g.dut_target_id} & ids)]
    return targeting + [g for g in groups if g not in targeting]


def _build(snap: Snapshot, groups: list[DeviceGroup], flagged: list[Deployment],
           root_kind: str, root_id: str, root_name: str,
           products: list[tuple[str, str]] | None = None) -> CascadePlan:
    """The plan deleting `groups`, then `products` ((id, name) pairs; the root's by default)."""
    if products is None:
        products = [(root_id, root_name)] if root_kind == "product" else []
    blockers = Blockers(groups=list(groups) if products else [])
    by_id = {g.id: g for g in snap.device_groups}
    group_ids = {g.id for g in groups}
    for group in groups:
        devices = [d for d in snap.devices if d.devicegroup_id == group.id]
        if devices:
            blockers.devices[group.id] = devices
        for target_id in (group.production_target_id, group.dut_target_id):
            if target_id in by_id:
                blockers.targets.append((group, by_id[target_id]))
    blockers.flagged = [d for d in flagged if d.devicegroup_id in group_ids]
    plan = CascadePlan(root_kind, root_id, root_name, blockers)
    for group in groups:
        devices = blockers.devices.get(group.id, [])
        if devices:
            key_note = " (needs the unbond key)" if group.type == "production_devicegroup" else ""
            plan.steps.append(Step(UNASSIGN, group.id,
                                   f"Unassign {len(devices)} device(s) from "
                                   f"{_group_label(group)}{key_note}",
                                   [d.id for d in devices], group.type, group.name))
    for dep in blockers.flagged:
        group = by_id.get(dep.devicegroup_id or "")
        where = f" of {_group_label(group)}" if group else ""
        plan.steps.append(Step(UNFLAG, dep.id, f"Unflag deployment {dep.id[:8]}{where}",
                               name=dep.id))
    for group in order_groups(groups):
        plan.steps.append(Step(DELETE_GROUP, group.id, f"Delete {_group_label(group)}",
                               group_type=group.type, name=group.name))
    for product_id, name in products:
        plan.steps.append(Step(DELETE_PRODUCT, product_id, f"Delete product \u201c{name}\u201d",
                               name=name))
    return plan


def plan_product_delete(snap: Snapshot, product_id: str,
                        flagged: list[Deployment]) -> CascadePlan:
    product = next((p for p in snap.products if p.id == product_id), None)
    name = product.name if product else product_id
    groups = [g for g in snap.device_groups if g.product_id == product_id]
    return _build(snap, groups, flagged, "product", product_id, name)


def groups_to_delete(snap: Snapshot, group_id: str) -> list[DeviceGroup]:
    """The group plus the fixture groups that target it (they must go first, §3.3.6 CX104)."""
    group = next((g for g in snap.device_groups if g.id == group_id), None)
    if group is None:
        return []
    fixtures = [g for g in snap.device_groups if g.id != group_id
                and group_id in (g.production_target_id, g.dut_target_id)]
    return [*fixtures, group]


def plan_group_delete(snap: Snapshot, group_id: str, flagged: list[Deployment]) -> CascadePlan:
    groups = groups_to_delete(snap, group_id)
    group = groups[-1] if groups else None
    plan = _build(snap, groups, flagged, "group", group_id, group.name if group else group_id)
    # Only the fixtures that target this group block it; they are deleted first.
    plan.blockers.targets = [(f, t) for f, t in plan.blockers.targets if t.id == group_id]
    return plan


def selection_groups(snap: Snapshot, product_ids: list[str],
                     group_ids: list[str]) -> list[DeviceGroup]:
    """Every group deleting these products and groups takes, each once, in snapshot order.

    A chosen group inside a chosen product is simply part of that product; a chosen group's
    fixtures that target it come with it (§3.3.6 CX104).
    """
    products = set(product_ids)
    wanted = {g.id for g in snap.device_groups if g.product_id in products}
    for group_id in group_ids:
        wanted.update(g.id for g in groups_to_delete(snap, group_id))
    return [g for g in snap.device_groups if g.id in wanted]


def plan_selection_delete(snap: Snapshot, product_ids: list[str], group_ids: list[str],
                          flagged: list[Deployment]) -> CascadePlan:
    """One plan for several products and device groups (one of either gets its own plan)."""
    products = [p for p in snap.products if p.id in set(product_ids)]
    chosen = {p.id for p in products}
    loose = [g for g in snap.device_groups
             if g.id in set(group_ids) and g.product_id not in chosen]
    if len(products) == 1 and not loose:
        return plan_product_delete(snap, products[0].id, flagged)
    if len(loose) == 1 and not products:
        return plan_group_delete(snap, loose[0].id, flagged)
    groups = selection_groups(snap, [p.id for p in products], [g.id for g in loose])
    parts = [_count(len(products), "product"), _count(len(loose), "device group")]
    name = " and ".join(p for p in parts if p)
    plan = _build(snap, groups, flagged, SELECTION, "", name,
                  products=[(p.id, p.name) for p in products])
    # A fixture's targets block only their own delete, and those go too when listed here.
    deleted = {g.id for g in groups}
    plan.blockers.targets = [(f, t) for f, t in plan.blockers.targets if t.id in deleted]
    return plan


def _count(n: int, noun: str) -> str:
    return "" if n == 0 else f"1 {noun}" if n == 1 else f"{n} {noun}s"


def fetch_flagged(client: Any, group_ids: list[str]) -> list[Deployment]:
    """Flagged deployments of these groups (blocking)."""
    out: list[Deployment] = []
    for group_id in group_ids:
        out.extend(client.list_deployments(group_id=group_id, flagged=True))
    return out


@dataclass
class StepResult:
    step: Step
    ok: bool
    message: str = "ok"
    applied: list[str] = field(default_factory=list)  # devices unassigned by this step


@dataclass
class CascadeReport:
    """What ran and how: done steps, the failing step (if any), and the steps never tried."""

    plan: CascadePlan
    results: list[StepResult] = field(default_factory=list)
    not_done: list[Step] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.not_done and all(r.ok for r in self.results)

    @property
    def failed(self) -> StepResult | None:
        return next((r for r in self.results if not r.ok), None)

    def lines(self) -> list[str]:
        out = []
        for result in self.results:
            mark = "Done" if result.ok else "FAILED"
            text = f"{mark}: {result.step.label}"
            if not result.ok:
                text += f" \u2014 {result.message}"
            out.append(text)
        out.extend(f"Not done: {step.label}" for step in self.not_done)
        return out

    def summary(self) -> str:
        what = (self.plan.root_name if self.plan.root_kind == SELECTION
                else f"{self.plan.root_kind} \u201c{self.plan.root_name}\u201d")
        if self.complete:
            return f"Deleted {what} ({len(self.results)} step(s))."
        done = sum(1 for r in self.results if r.ok)
        return (f"Deleting {what} stopped after {done} of {len(self.plan.steps)} step(s); "
                f"{len(self.not_done) + (1 if self.failed else 0)} step(s) not done.")


def run_step(client: Any, step: Step, unbond_key: str | None) -> StepResult:
    """Carry out one step (blocking); never raises ApiError."""
    try:
        if step.kind == UNASSIGN:
            key = unbond_key if step.needs_unbond_key else None
            bulk = client.unassign_devices(step.target_id, step.device_ids, unbond_key=key)
            # NF104: the device already left the group — what the step wanted (§4.5).
            failed = {d: i for d, i in bulk.failed.items() if i.code != "NF104"}
            applied = [*bulk.applied, *(d for d in bulk.failed if d not in failed)]
            if failed:
                return StepResult(step, False, "; ".join(
                    f"{d}: {item_text(i)}" for d, i in failed.items()), applied)
            return StepResult(step, True, applied=applied)
        if step.kind == UNFLAG:
            client.update_deployment(step.target_id, flagged=False)
        elif step.kind == DELETE_GROUP:
            client.delete_device_group(step.target_id)
        elif step.kind == DELETE_PRODUCT:
            client.delete_product(step.target_id)
        else:
            raise ValueError(step.kind)
    except ApiError as exc:
        return StepResult(step, False, error_text(exc))
    return StepResult(step, True)


def run_cascade(client: Any, plan: CascadePlan, unbond_key: str | None = None,
                on_step: Callable[[int, str, str], None] | None = None) -> CascadeReport:
    """Run the steps in order and stop at the first failure (later steps depend on it).

    `on_step(index, state, message)` reports RUNNING, then DONE or FAILED, per step; steps
    after a failure are reported as SKIPPED.
    """
    report = CascadeReport(plan)
    notify = on_step or (lambda *_: None)
    for index, step in enumerate(plan.steps):
        if report.failed is not None:
            report.not_done.append(step)
            notify(index, SKIPPED, "")
            continue
        notify(index, RUNNING, "")
        result = run_step(client, step, unbond_key)
        report.results.append(result)
        notify(index, DONE if result.ok else FAILED, result.message)
    return report


def apply_report(client: Any, snap: Snapshot, report: CascadeReport) -> None:
    """Bring the snapshot up to date after a cascade (blocking: re-reads unassigned devices)."""
    deleted_groups = {r.step.target_id for r in report.results
                      if r.ok and r.step.kind == DELETE_GROUP}
    deleted_products = {r.step.target_id for r in report.results
                        if r.ok and r.step.kind == DELETE_PRODUCT}
    moved = [d for r in report.results if r.step.kind == UNASSIGN for d in r.applied]
    unassigned = sum(1 for d in snap.devices if d.devicegroup_id is None)
    fresh = read_back(client, moved, None, unassigned)  # they are all unassigned now
    snap.devices = [fresh.get(d.id, d) for d in snap.devices]
    snap.device_groups = [g for g in snap.device_groups if g.id not in deleted_groups]
    snap.products = [p for p in snap.products if p.id not in deleted_products]
