"""Device life (§3.8): log history, status lines, online/offline, restarts, (un)assignment."""

from __future__ import annotations

from .model import Device, DeviceGroup, LogEntry
from .squirrel import storage_percent
from .store import Store

DEVELOPMENT_FAMILY = ("development_devicegroup",)


def log_type_of(store: Store, device: Device) -> str:
    """`development` while unassigned or in a development group, else `production` (§3.4.8)."""
    group = store.group_of(device)
    return "development" if group is None or group.type in DEVELOPMENT_FAMILY else "production"


def append_log(store: Store, device: Device, type_: str, msg: str, ts: float | None = None
               ) -> LogEntry:
    """Add one history entry (timestamps strictly increase per device) and publish it."""
    # Compare after rounding to whole milliseconds, or two entries could share one timestamp.
    ts = round(store.clock.now() if ts is None else ts, 3)
    if device.logs and ts <= device.logs[-1].ts:
        ts = round(device.logs[-1].ts + 0.001, 3)
    entry = LogEntry(ts, log_type_of(store, device), type_, msg)
    device.logs.append(entry)
    store.on_log(device, entry)
    return entry


def _download_line(store: Store, device: Device) -> None:
    group = store.group_of(device)
    current = group.current_deployment_id if group else None
    if current != device.running_deployment_id:
        code = store.deployments[current].device_code if current in store.deployments else ""
        append_log(store, device, "status",
                   f"Downloading new code; {storage_percent(code)}% program storage used")
    device.running_deployment_id = current


def set_online(store: Store, device: Device, online: bool) -> None:
    """Flip a device's connection, writing its status lines and running a pending restart."""
    if online == device.device_online:
        return
    now = store.clock.now()
    device.device_online = online
    device.device_state_changed_at = now
    if not online:
        device.ip_address = None
        append_log(store, device, "status", "Device disconnected")
        return
    device.ip_address = store.new_ip()
    if device.restart_pending:
        device.restart_pending = False
        if device.group_id:
            _download_line(store, device)
    append_log(store, device, "status", "Device connected")


def restart(store: Store, device: Device) -> None:
    """Restart a device (§3.8.2): at once when online, pending until it connects otherwise."""
    if not device.device_online:
        device.restart_pending = True
        return
    append_log(store, device, "status", "Device restarting")
    append_log(store, device, "status", "Agent restarted: reload.")
    device.agent_state_changed_at = store.clock.now()
    device.restart_seq += 1
    generation = device.restart_seq

    def finish() -> None:
        if store.devices.get(device.id) is not device or device.restart_seq != generation:
            return  # deleted, or restarted again meanwhile (the later restart finishes instead)
        if not device.device_online:
            device.restart_pending = True
            return
        if device.group_id:
            _download_line(store, device)
        else:
            device.running_deployment_id = None
        append_log(store, device, "status", "Device connected")

    delay = float(store.config["simulation"]["restart_delay_s"])
    if delay <= 0:
        finish()
    else:
        store.schedule(delay, finish)


def conditional_restart(store: Store, device: Device) -> None:
    """Restart unless the device already runs its group's current deployment (§3.3.8)."""
    group = store.group_of(device)
    if group is not None and group.current_deployment_id is not None \
            and device.running_deployment_id == group.current_deployment_id:
        return
    restart(store, device)


def assign(store: Store, device: Device, group: DeviceGroup) -> None:
    """Put a device into a group (also a move) and restart it there (§3.8.3)."""
    device.group_id = group.id
    device.agent_state_changed_at = store.clock.now()
    store.touch()
    restart(store, device)


def unassign(store: Store, device: Device) -> None:
    """Take a device out of its group: no agent, no running code, no log line (§3.8.3)."""
    device.group_id = None
    device.agent_state_changed_at = store.clock.now()
    device.running_deployment_id = None
    device.restart_pending = False
    store.touch()
