"""The Seeder: adds products, groups, deployments, devices, webhooks and log history."""

from __future__ import annotations

import hashlib
import random
from collections import deque
from typing import Any

from ..model import (
    PRODUCTION_TYPES,
    Account,
    Deployment,
    Device,
    DeviceGroup,
    LogEntry,
    Product,
    Webhook,
)
from ..squirrel import storage_percent
from .content import (
    SWVERSIONS,
    agent_log,
    code_for,
    device_log,
    error_sequence,
    kind_of,
    misc_entry,
)

DAY = 86400.0
HOUR = 3600.0
#: Origin of seeded sink webhooks before the server has bound its port (see rebase_sink_urls).
PROVISIONAL_ORIGIN = "http://127.0.0.1:0"
SINK_PATH = "/_emulator/sink/"


def sink_origin(emulator: Any) -> str:
    base = getattr(emulator, "base_url", "") or ""
    return base[: -len("/v5")] if base.endswith("/v5") else PROVISIONAL_ORIGIN


def rebase_sink_urls(emulator: Any, old_base: str, new_base: str) -> None:
    """Point seeded sink webhooks at the server's real origin once it is known."""
    old = (old_base[:-3] if old_base.endswith("/v5") else PROVISIONAL_ORIGIN) + SINK_PATH
    new = (new_base[:-3] if new_base.endswith("/v5") else PROVISIONAL_ORIGIN) + SINK_PATH
    if old == new:
        return
    for hook in emulator.store.webhooks.values():
        if hook.url.startswith(old):
            hook.url = new + hook.url[len(old):]


# -- the builder ------------------------------------------------------------------------------
class Seeder:
    """Adds products, groups, deployments, devices and history to the store, deterministically."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.store = emulator.store
        self.now = self.store.clock.now()
        # Content choices use their own generator so that ids stay a function of the seed only.
        self.rng = random.Random(self.store.rng.getrandbits(64))
        self.retention = int(self.store.config["log_retention"])

    # -- names ------------------------------------------------------------------------------
    def unique_product_name(self, owner: Account, name: str) -> str:
        taken = {p.name for p in self.store.products.values() if p.owner_id == owner.id}
        return _unique(name, taken)

    # -- entities -----------------------------------------------------------------------------
    def product(self, owner: Account, name: str, days_ago: float, description: str | None = None,
                collaborators: tuple[Account, ...] = ()) -> Product:
        ts = self.now - days_ago * DAY
        p = Product(self.store.new_uuid(), self.unique_product_name(owner, name), description,
                    owner.id, owner.id, ts, ts, {a.id for a in collaborators})
        self.store.products[p.id] = p
        return p

    def group(self, product: Product, gtype: str, name: str, days_ago: float,
              description: str | None = None, env_vars: dict | None = None,
              targets: tuple[DeviceGroup, DeviceGroup] | None = None) -> DeviceGroup:
        ts = self.now - days_ago * DAY
        taken = {g.name for g in self.store.groups.values() if g.product_id == product.id}
        g = DeviceGroup(
            self.store.new_uuid(), gtype, _unique(name, taken), description, product.id,
            product.creator_id, ts, ts,
            load_code_after_blessing=True if gtype in PRODUCTION_TYPES else None,
            env_vars=dict(env_vars or {}),
        )
        if targets is not None:
            g.production_target_id, g.dut_target_id = targets[0].id, targets[1].id
        self.store.groups[g.id] = g
        return g

    def deployment(self, group: DeviceGroup, kind: str, build: int, days_ago: float,
                   description: str | None = None, tags: tuple[str, ...] = (),
                   flagger: Account | None = None, origin: str | None = "impdesk"
                   ) -> Deployment:
        store = self.store
        ts = self.now - days_ago * DAY
        device_code, agent_code = code_for(kind, build)
        product = store.products[group.product_id]
        dep = Deployment(
            id=store.new_uuid(), group_id=group.id, product_id=product.id,
            owner_id=product.owner_id, creator_id=product.creator_id,
            device_code=device_code, agent_code=agent_code, description=description,
            origin=origin, tags=list(tags), flagged=flagger is not None,
            flagger_id=flagger.id if flagger else None,
            sha=hashlib.sha256((agent_code + device_code).encode()).hexdigest(),
            created_at=ts, updated_at=ts + (HOUR if flagger else 0.0), seq=store.next_seq(),
        )
        store.deployments[dep.id] = dep
        group.current_deployment_id = dep.id
        if group.min_supported_deployment_id is None:
            group.min_supported_deployment_id = dep.id
        group.updated_at = max(group.updated_at, ts)
        return dep

    def webhook(self, group: DeviceGroup, event: str, days_ago: float) -> Webhook:
        ts = self.now - days_ago * DAY
        url = sink_origin(self.emulator) + SINK_PATH + event
        hook = Webhook(self.store.new_uuid(), group.id, url, event, "application/json", ts, ts)
        self.store.webhooks[hook.id] = hook
        return hook

    def device(self, owner: Account, imp_type: str, group: DeviceGroup | None = None, *,
               online: bool = True, name: str | None = None, enrolled_days_ago: float = 20.0,
               running: str | None = "current", flaky: bool = False, ever_assigned: bool = True,
               enrolled_by: DeviceGroup | None = None, plan: bool = True) -> Device:
        store, rng = self.store, self.rng
        enrolled = self.now - enrolled_days_ago * DAY
        d = Device(
            id=store.new_device_id(), owner_id=owner.id, mac_address=store.new_mac(),
            agent_id=store.new_agent_id(), imp_type=imp_type, joined_seq=store.next_seq(),
            name=name, device_online=online,
            device_state_changed_at=self.now - rng.uniform(1, 6) * HOUR,
            agent_state_changed_at=enrolled + HOUR if (group or ever_assigned) else None,
            last_enrolled_at=enrolled, ip_address=store.new_ip() if online else None,
            free_memory=rng.randrange(60000, 92000, 8), rssi=rng.randint(-78, -42),
            swversion=SWVERSIONS[0] if rng.random() < 0.8 else SWVERSIONS[1],
            plan_id=f"{store.rng.getrandbits(64):016x}" if plan else None,
            group_id=group.id if group else None, flaky=flaky,
            enrolled_by_fixture_id=enrolled_by.id if enrolled_by else None,
        )
        if group is not None:
            d.running_deployment_id = group.current_deployment_id if running == "current" \
                else running
        d.logs = deque(maxlen=self.retention)
        store.devices[d.id] = d
        store.by_mac[d.mac_address] = d
        store.by_agent[d.agent_id] = d
        return d

    # -- history ------------------------------------------------------------------------------
    def history(self, device: Device, count: int, span_s: float) -> None:
        """`count` entries over the last `span_s` seconds, consistent with the device's state."""
        group = self.store.groups.get(device.group_id or "")
        if group is None:
            events = self._unassigned_events(device, count)
        else:
            events = self._assigned_events(device, group, count)
        end = self.now - (self.rng.uniform(0.5, 4) * HOUR if not device.device_online else 20.0)
        self._place(device, group, events, count, self.now - span_s + 1.0, end)

    def _assigned_events(self, device: Device, group: DeviceGroup, count: int
                         ) -> list[list[tuple[str, str]]]:
        rng = self.rng
        kind = kind_of(self.store.products[group.product_id].name)
        dep = self.store.deployments.get(device.running_deployment_id or "")
        download = ("status", "Downloading new code; "
                    f"{storage_percent(dep.device_code if dep else '')}% program storage used")
        restart = [("status", "Device restarting"), ("status", "Agent restarted: reload."),
                   download, ("status", "Device connected")]
        events: list[list[tuple[str, str]]] = [restart]
        n, online = len(restart), True
        while n < count:
            r = rng.random()
            if not online:  # only the agent talks until the device reconnects
                online = r < 0.35
                ev = [("status", "Device connected")] if online else \
                    [("agent.log", agent_log(rng, kind))]
            elif r < 0.42:
                ev = [("device.log", device_log(rng, kind))]
            elif r < 0.74:
                ev = [("agent.log", agent_log(rng, kind))]
            elif r < 0.79:
                ev = error_sequence(rng, agent=False)
            elif r < 0.82:
                ev = error_sequence(rng, agent=True)
            elif r < 0.92:
                ev = [misc_entry(rng)]
            elif r < 0.95:
                ev = [restart[0], restart[1], ("status", "Device connected")]
            else:
                ev, online = [("status", "Device disconnected")], False
            events.append(ev)
            n += len(ev)
        if online != device.device_online:
            events.append([("status", "Device connected" if device.device_online
                            else "Device disconnected")])
        return events

    def _unassigned_events(self, device: Device, count: int) -> list[list[tuple[str, str]]]:
        # Alternating connects and disconnects that end in the device's current state.
        last = "Device connected" if device.device_online else "Device disconnected"
        other = "Device disconnected" if device.device_online else "Device connected"
        return [[("status", last if (count - 1 - i) % 2 == 0 else other)] for i in range(count)]

    def _place(self, device: Device, group: DeviceGroup | None,
               events: list[list[tuple[str, str]]], count: int, start: float, end: float) -> None:
        rng = self.rng
        log_type = "development" if group is None or group.type == "development_devicegroup" \
            else "production"
        positions, pos = [], 0.0
        for _ in events:
            pos += rng.expovariate(1.0)
            positions.append(pos)
        scale = (end - start) / positions[-1]
        entries: list[LogEntry] = []
        last_ts = 0.0
        for ev, p in zip(events, positions, strict=True):
            base = start + p * scale
            for k, (type_, msg) in enumerate(ev):
                ts = round(max(base + k * 0.004, last_ts + 0.001), 3)
                entries.append(LogEntry(ts, log_type, type_, msg))
                last_ts = ts
        entries = entries[-count:]
        device.logs.extend(entries)
        for entry in reversed(entries):
            if entry.type == "status" and entry.msg in ("Device connected", "Device disconnected"):
                device.device_state_changed_at = entry.ts
                break
        if group is not None:
            for entry in reversed(entries):
                if entry.msg == "Agent restarted: reload.":
                    device.agent_state_changed_at = entry.ts
                    break


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"
