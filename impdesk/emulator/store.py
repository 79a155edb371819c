"""The emulator's in-memory state: entities, indexes, visibility rules and id generation."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from .clock import Clock
from .config import default_config
from .errors import ApiError
from .model import (
    PRODUCTION_TYPES,
    AccessToken,
    Account,
    Deployment,
    Device,
    DeviceGroup,
    LoginKey,
    LoginToken,
    Product,
    RefreshToken,
    Webhook,
)

HEX16 = re.compile(r"^[0-9a-fA-F]{16}$")
MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
AGENT_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


class Store:
    """All emulator data behind one re-entrant lock; every reader and writer holds `lock`."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.config: dict[str, Any] = default_config()
        # Hooks wired by the server: stream hub, webhook dispatcher, scheduler.
        self.on_log: Callable[[Device, Any], None] = lambda device, entry: None
        self.on_device_removed: Callable[[Device], None] = lambda device: None
        self.on_webhook_event: Callable[[str, str, dict], None] = lambda group_id, ev, p: None
        self.schedule: Callable[[float, Callable[[], None]], None] = lambda delay, fn: fn()
        self.clear()

    def clear(self, random_seed: int = 0) -> None:
        """Forget all data (configuration and hooks stay)."""
        with self.lock:
            self.rng = random.Random(random_seed)
            self.accounts: dict[str, Account] = {}
            self.products: dict[str, Product] = {}
            self.groups: dict[str, DeviceGroup] = {}
            self.devices: dict[str, Device] = {}
            self.deployments: dict[str, Deployment] = {}
            self.webhooks: dict[str, Webhook] = {}
            self.login_keys: dict[str, LoginKey] = {}
            self.refresh_tokens: dict[str, RefreshToken] = {}  # record id -> record
            self.access_tokens: dict[str, AccessToken] = {}
            self.login_tokens: dict[str, LoginToken] = {}
            self.by_mac: dict[str, Device] = {}
            self.by_agent: dict[str, Device] = {}
            self.seq = 0
            self._last_created = 0.0
            self.rev = 0  # bumped by every change of list membership or order
            self._list_cache: dict[tuple, tuple[int, list]] = {}

    # -- ids -----------------------------------------------------------------
    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def new_uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def new_device_id(self) -> str:
        while True:
            did = f"{self.rng.getrandbits(64):016x}"
            if did not in self.devices:
                return did

    def new_mac(self) -> str:
        while True:
            mac = "0c:2a:69:" + ":".join(f"{self.rng.randrange(256):02x}" for _ in range(3))
            if mac not in self.by_mac:
                return mac

    def new_agent_id(self) -> str:
        while True:
            aid = "".join(self.rng.choice(AGENT_ALPHABET) for _ in range(12))
            if aid not in self.by_agent:
                return aid

    def new_ip(self) -> str:
        return f"192.168.{self.rng.randrange(1, 255)}.{self.rng.randrange(2, 255)}"

    def creation_time(self, after: float = 0.0) -> float:
        """Now, but strictly after the previous creation (and after `after`): no two resources
        share a `created_at`, so "created_at, then id" (§5.5) is also creation order."""
        stamp = max(self.clock.now(), round(max(self._last_created, after) + 0.001, 3))
        self._last_created = stamp
        return stamp

    def touch(self) -> None:
        """Note a change of list membership/order (invalidates cached list views)."""
        self.rev += 1

    # -- accounts and visibility --------------------------------------------
    def account_by_login(self, identifier: str) -> Account | None:
        ident = identifier.casefold()
        for acct in self.accounts.values():
            if acct.username.casefold() == ident or acct.email.casefold() == ident:
                return acct
        return None

    def account_by_username(self, username: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.username == username), None)

    def resolve_account_id(self, caller: Account, value: str) -> str:
        """`me` -> the caller's id; hex ids compare case-insensitively."""
        return caller.id if value == "me" else value.lower()

    def product_visible(self, acct: Account, product: Product) -> bool:
        return product.owner_id == acct.id or acct.id in product.collaborators

    def group_visible(self, acct: Account, group: DeviceGroup) -> bool:
        product = self.products.get(group.product_id)
        return product is not None and self.product_visible(acct, product)

    def device_visible(self, acct: Account, device: Device) -> bool:
        if device.owner_id == acct.id:
            return True
        group = self.groups.get(device.group_id) if device.group_id else None
        return group is not None and self.group_visible(acct, group)

    def visible_account_ids(self, acct: Account) -> set[str]:
        ids = {acct.id}
        for product in self.products.values():
            if product.owner_id == acct.id:
                ids |= product.collaborators
            elif acct.id in product.collaborators:
                ids.add(product.owner_id)
        return ids

    def group_owner_id(self, group: DeviceGroup) -> str:
        return self.products[group.product_id].owner_id

    def group_of(self, device: Device) -> DeviceGroup | None:
        return self.groups.get(device.group_id) if device.group_id else None

    def is_production_device(self, device: Device) -> bool:
        group = self.group_of(device)
        return group is not None and group.type in PRODUCTION_TYPES

    # -- lookups that raise ----------------------------------------------------
    def find_device(self, acct: Account | None, ident: str) -> Device | None:
        """Resolve a device id, MAC or agent id (§3.4.1) to a device the caller can see."""
        device: Device | None
        if HEX16.match(ident):
            device = self.devices.get(ident.lower())
        elif MAC.match(ident):
            device = self.by_mac.get(ident.lower())
        else:
            device = self.by_agent.get(ident)
            if device is not None and device.group_id is None:
                device = None
        if device is not None and acct is not None and not self.device_visible(acct, device):
            return None
        return device

    def device_or_404(self, acct: Account, ident: str) -> Device:
        device = self.find_device(acct, ident)
        if device is None:
            raise ApiError("NF100", type="device", id=ident)
        return device

    def product_or_404(self, acct: Account, pid: str) -> Product:
        product = self.products.get(pid.lower())
        if product is None or not self.product_visible(acct, product):
            raise ApiError("NF100", type="product", id=pid)
        return product

    def group_or_404(self, acct: Account, gid: str) -> DeviceGroup:
        group = self.groups.get(gid.lower())
        if group is None or not self.group_visible(acct, group):
            raise ApiError("NF100", type="devicegroup", id=gid)
        return group

    def deployment_or_404(self, acct: Account, did: str) -> Deployment:
        dep = self.deployments.get(did.lower())
        if dep is None or not self.group_visible(acct, self.groups[dep.group_id]):
            raise ApiError("NF100", type="deployment", id=did)
        return dep

    def webhook_or_404(self, acct: Account, wid: str) -> Webhook:
        hook = self.webhooks.get(wid.lower())
        if hook is None or not self.group_visible(acct, self.groups[hook.group_id]):
            raise ApiError("NF100", type="webhook", id=wid)
        return hook

    # -- device bookkeeping ------------------------------------------------------
    def add_device(self, device: Device) -> Device:
        device.logs = type(device.logs)(device.logs, maxlen=self.config["log_retention"])
        self.devices[device.id] = device
        self.by_mac[device.mac_address] = device
        self.by_agent[device.agent_id] = device
        self.touch()
        return device

    def remove_device(self, device: Device) -> None:
        self.devices.pop(device.id, None)
        self.by_mac.pop(device.mac_address, None)
        self.by_agent.pop(device.agent_id, None)
        self.touch()
        self.on_device_removed(device)

    def devices_in(self, group_id: str) -> list[Device]:
        return sorted(
            (d for d in self.devices.values() if d.group_id == group_id), key=lambda d: d.joined_seq
        )

    def cached_list(self, key: tuple, build: Callable[[], Iterable]) -> list:
        """A list view cached until the next change of membership (`rev`)."""
        hit = self._list_cache.get(key)
        if hit is not None and hit[0] == self.rev:
            return hit[1]
        items = list(build())
        if len(self._list_cache) > 256:
            self._list_cache.clear()
        self._list_cache[key] = (self.rev, items)
        return items

    # -- tokens ------------------------------------------------------------------
    def issue_access_token(self, acct: Account, token: str) -> AccessToken:
        lifetime = self.config["access_token_lifetime_s"]
        record = AccessToken(token, acct.id, self.clock.now() + lifetime)
        self.access_tokens[token] = record
        return record

    def issue_refresh_token(self, acct: Account, token: str) -> RefreshToken:
        record = RefreshToken(self.new_uuid(), token, acct.id, self.creation_time())
        self.refresh_tokens[record.id] = record
        # Insertion order is issue order, so the first ones are the oldest.
        mine = [r for r in self.refresh_tokens.values() if r.account_id == acct.id]
        limit = max(1, int(self.config["refresh_tokens_per_account"]))
        for old in mine[: max(0, len(mine) - limit)]:
            del self.refresh_tokens[old.id]
        return record

    def refresh_token_by_value(self, token: str) -> RefreshToken | None:
        return next((r for r in self.refresh_tokens.values() if r.token == token), None)
