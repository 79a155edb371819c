"""The emulator's entities: plain dataclasses held by the store."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
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
# fixture type -> (production_target type, dut_target type)
FIXTURE_PAIRING = {
    "factoryfixture_devicegroup": ("production_devicegroup", "dut_devicegroup"),
    "pre_factoryfixture_devicegroup": ("pre_production_devicegroup", "pre_dut_devicegroup"),
}
IMP_TYPES = ("imp001", "imp002", "imp003", "imp004m", "imp005", "imp006")
LOG_TYPES = ("device.log", "device.error", "agent.log", "agent.error", "status", "lastexitcode",
             "powerstate", "firmware", "server.sleep")


@dataclass
class Account:
    id: str
    username: str
    email: str
    password: str
    commercial: bool = False
    two_factor: bool = False
    totp_secret: str | None = None
    unbond_key: str = ""
    created_at: float = 0.0


@dataclass
class Product:
    id: str
    name: str
    description: str | None
    owner_id: str
    creator_id: str
    created_at: float
    updated_at: float
    collaborators: set[str] = field(default_factory=set)


@dataclass
class DeviceGroup:
    id: str
    type: str
    name: str
    description: str | None
    product_id: str
    creator_id: str
    created_at: float
    updated_at: float
    region: str | None = None
    load_code_after_blessing: bool | None = None  # only production / pre-production types
    env_vars: dict[str, Any] = field(default_factory=dict)
    current_deployment_id: str | None = None
    min_supported_deployment_id: str | None = None
    production_target_id: str | None = None
    dut_target_id: str | None = None


@dataclass
class LogEntry:
    ts: float
    log_type: str
    type: str
    msg: str


@dataclass
class Device:
    id: str
    owner_id: str
    mac_address: str
    agent_id: str
    imp_type: str
    joined_seq: int
    name: str | None = None
    device_online: bool = False
    device_state_changed_at: float = 0.0
    agent_state_changed_at: float | None = None
    last_enrolled_at: float | None = None
    ip_address: str | None = None
    free_memory: int | None = None
    rssi: int | None = None
    swversion: str | None = None
    plan_id: str | None = None
    group_id: str | None = None
    running_deployment_id: str | None = None
    restart_pending: bool = False
    restart_seq: int = 0  # bumped per restart; a delayed finish only completes the latest
    flaky: bool = False
    enrolled_by_fixture_id: str | None = None  # fixture group that factory-BlinkUp'd it
    logs: deque[LogEntry] = field(default_factory=lambda: deque(maxlen=1000))


@dataclass
class Deployment:
    id: str
    group_id: str
    product_id: str
    owner_id: str
    creator_id: str
    device_code: str
    agent_code: str
    description: str | None
    origin: str | None
    tags: list[str]
    flagged: bool
    flagger_id: str | None
    sha: str
    created_at: float
    updated_at: float
    seq: int


@dataclass
class Webhook:
    id: str
    group_id: str
    url: str
    event: str
    content_type: str
    created_at: float
    updated_at: float


@dataclass
class LoginKey:
    id: str
    account_id: str
    description: str | None
    created_at: float
    usages: int = 0
    last_used_at: float | None = None


@dataclass
class RefreshToken:
    id: str
    token: str
    account_id: str
    created_at: float
    last_used_at: float | None = None


@dataclass
class AccessToken:
    token: str
    account_id: str
    expires_at: float
    revoked: bool = False


@dataclass
class LoginToken:
    token: str
    account_id: str
    expires_at: float
    used: bool = False
    wrong_otps: int = 0
