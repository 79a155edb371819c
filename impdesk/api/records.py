"""Typed, tolerant records of impCentral resources (accounts, products, groups, devices, ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GROUP_TYPES = (
    "development_devicegroup",
    "pre_factoryfixture_devicegroup",
    "pre_dut_devicegroup",
    "pre_production_devicegroup",
    "factoryfixture_devicegroup",
    "dut_devicegroup",
    "production_devicegroup",
)
PRODUCTION_TYPES = ("production_devicegroup", "pre_production_devicegroup")
DUT_TYPES = ("dut_devicegroup", "pre_dut_devicegroup")
FIXTURE_TYPES = ("factoryfixture_devicegroup", "pre_factoryfixture_devicegroup")
LOG_TYPE_ALIASES = {"server.log": "device.log", "server.error": "device.error"}

_TS = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_time(value: Any) -> datetime | None:
    """Parse the timestamps of §1.7 and their real-world variants (0-9 digits, Z or offsets)."""
    if not isinstance(value, str):
        return None
    m = _TS.match(value.strip())
    if not m:
        return None
    date, clock, frac, zone = m.groups()
    frac = (frac or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone in (None, "Z") else zone
    if len(zone) == 5:
        zone = zone[:3] + ":" + zone[3:]
    try:
        return datetime.fromisoformat(f"{date}T{clock}.{frac}{zone}").astimezone(UTC)
    except ValueError:
        return None


def relationship_ref(value: Any) -> tuple[str, str] | None:
    """(type, id) of a bare or `{"data": ...}` identifier; absent/null/`{"data": null}` → None."""
    if isinstance(value, dict) and "data" in value and "id" not in value:
        value = value["data"]
    if isinstance(value, dict) and value.get("id") is not None:
        return str(value.get("type") or ""), str(value["id"])
    return None


@dataclass
class Resource:
    """A JSON:API resource object: every attribute is kept, known ones have properties."""

    id: str
    type: str
    attributes: dict[str, Any] = field(default_factory=dict)
    relationships: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, obj: dict[str, Any]):
        attrs = obj.get("attributes") if isinstance(obj.get("attributes"), dict) else {}
        rels_raw = obj.get("relationships") if isinstance(obj.get("relationships"), dict) else {}
        rels = {}
        for name, value in rels_raw.items():
            ref = relationship_ref(value)
            if ref is not None:
                rels[name] = ref
        return cls(id=str(obj.get("id", "")), type=str(obj.get("type", "")), attributes=dict(attrs),
                   relationships=rels)

    def attr(self, name: str, default: Any = None) -> Any:
        value = self.attributes.get(name, default)
        return default if value is None else value

    def rel_id(self, name: str) -> str | None:
        ref = self.relationships.get(name)
        return ref[1] if ref else None

    @property
    def name(self) -> str:
        return str(self.attributes.get("name") or "")

    @property
    def created_at(self) -> datetime | None:
        return parse_time(self.attributes.get("created_at"))

    @property
    def updated_at(self) -> datetime | None:
        return parse_time(self.attributes.get("updated_at"))


class Account(Resource):
    """An impCentral account."""

    @property
    def username(self) -> str:
        return str(self.attributes.get("username") or "")

    @property
    def email(self) -> str:
        return str(self.attributes.get("email") or "")

    @property
    def name(self) -> str:
        return self.username or self.email or self.id


class Product(Resource):
    """A product: owns device groups."""

    @property
    def description(self) -> str | None:
        return self.attributes.get("description")

    @property
    def owner_id(self) -> str | None:
        return self.rel_id("owner")


class DeviceGroup(Resource):
    """A device group of one of the seven types (an unknown type is kept as it is)."""

    @property
    def group_type(self) -> str:
        return self.type

    @property
    def description(self) -> str | None:
        return self.attributes.get("description")

    @property
    def product_id(self) -> str | None:
        return self.rel_id("product")

    @property
    def owner_id(self) -> str | None:
        return self.rel_id("owner")

    @property
    def current_deployment_id(self) -> str | None:
        return self.rel_id("current_deployment")

    @property
    def min_supported_deployment_id(self) -> str | None:
        return self.rel_id("min_supported_deployment")

    @property
    def production_target_id(self) -> str | None:
        return self.rel_id("production_target")

    @property
    def dut_target_id(self) -> str | None:
        return self.rel_id("dut_target")

    @property
    def env_vars(self) -> dict[str, Any]:
        value = self.attributes.get("env_vars")
        return dict(value) if isinstance(value, dict) else {}

    @property
    def is_production(self) -> bool:
        return self.type in PRODUCTION_TYPES


class Device(Resource):
    """A device; unassigned when its `devicegroup` relationship is absent or null."""

    @property
    def name(self) -> str:
        return str(self.attributes.get("name") or "")

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def devicegroup_id(self) -> str | None:
        return self.rel_id("devicegroup")

    @property
    def devicegroup_type(self) -> str | None:
        ref = self.relationships.get("devicegroup")
        return ref[0] if ref else None

    @property
    def product_id(self) -> str | None:
        return self.rel_id("product")

    @property
    def owner_id(self) -> str | None:
        return self.rel_id("owner")

    @property
    def online(self) -> bool:
        return bool(self.attributes.get("device_online"))

    @property
    def agent_id(self) -> str | None:
        return self.attributes.get("agent_id") or None

    @property
    def mac_address(self) -> str:
        return str(self.attributes.get("mac_address") or "")

    @property
    def imp_type(self) -> str:
        return str(self.attributes.get("imp_type") or "")


class Deployment(Resource):
    """Agent and device code deployed to a group."""

    @property
    def sha(self) -> str:
        return str(self.attributes.get("sha") or "")

    @property
    def flagged(self) -> bool:
        return bool(self.attributes.get("flagged"))

    @property
    def tags(self) -> list[str]:
        tags = self.attributes.get("tags")
        return [str(t) for t in tags] if isinstance(tags, list) else []

    @property
    def devicegroup_id(self) -> str | None:
        return self.rel_id("devicegroup")

    @property
    def description(self) -> str | None:
        return self.attributes.get("description")

    @property
    def warnings(self) -> list[dict]:
        """Compiler warnings a real service may send as `data.meta` (§3.5.2)."""
        return list(self.attributes.get("_warnings") or [])


class Webhook(Resource):
    """A webhook of a device group."""


class LoginKey(Resource):
    """A login key; its id is the secret."""

    def __repr__(self) -> str:
        return f"LoginKey(description={self.attributes.get('description')!r})"


class RefreshTokenRecord(Resource):
    """A refresh-token record (the token value itself is never listed)."""


class LogStreamInfo(Resource):
    """A created log stream: id and url."""

    @property
    def url(self) -> str:
        return str(self.attributes.get("url") or "")


@dataclass(frozen=True)
class LogEntry:
    """One log line, from history or a stream; `type` has aliases resolved."""

    device_id: str
    ts: str
    type: str
    msg: str
    log_type: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The de-duplication key of §3.6.7."""
        return (self.device_id, self.ts, self.type, self.msg)

    @property
    def time(self) -> datetime | None:
        return parse_time(self.ts)

    @classmethod
    def from_json(cls, obj: dict[str, Any], device_id: str | None = None) -> LogEntry:
        raw_type = str(obj.get("type") or "")
        return cls(
            device_id=str(obj.get("device_id") or device_id or ""),
            ts=str(obj.get("ts") or ""),
            type=LOG_TYPE_ALIASES.get(raw_type, raw_type),
            msg=str(obj.get("msg") if obj.get("msg") is not None else ""),
            log_type=obj.get("log_type"),
        )


RECORD_TYPES: dict[str, type[Resource]] = {
    "account": Account,
    "product": Product,
    "device": Device,
    "deployment": Deployment,
    "webhook": Webhook,
    "login_key": LoginKey,
    "refresh_token": RefreshTokenRecord,
    "logstream": LogStreamInfo,
}


def record_from_json(obj: dict[str, Any]) -> Resource:
    """The typed record for a resource object; group types (and unknown `*devicegroup`) too."""
    type_ = str(obj.get("type", ""))
    cls = RECORD_TYPES.get(type_)
    if cls is None and (type_ in GROUP_TYPES or type_.endswith("devicegroup")):
        cls = DeviceGroup
    return (cls or Resource).from_json(obj)
