"""The generated content of the small, demo and fleet seeds (§8.10): deterministic."""

from __future__ import annotations

import hashlib
import math
import random
from collections import deque
from typing import Any

from .model import (
    PRODUCTION_TYPES,
    Account,
    Deployment,
    Device,
    DeviceGroup,
    LogEntry,
    Product,
    Webhook,
)
from .squirrel import storage_percent

DAY = 86400.0
HOUR = 3600.0
#: Origin of seeded sink webhooks before the server has bound its port (see rebase_sink_urls).
PROVISIONAL_ORIGIN = "http://127.0.0.1:0"
SINK_PATH = "/_emulator/sink/"
SWVERSIONS = (
    "1ae4c87 - release-42.7 - Mon Sep 14 10:52:30 2026 - production",
    "9c02f1e - release-42.5 - Tue Jun 30 08:14:02 2026 - production",
    "e41b7a3 - release-41.12 - Wed Mar 11 16:40:51 2026 - production",
)
FLEET_IMP_TYPES = ("imp004m", "imp004m", "imp004m", "imp006", "imp006", "imp003", "imp005",
                   "imp001")


# -- deployment code -----------------------------------------------------------------------
# Short, plausible Squirrel that passes the compile check of §3.5.2; "@BUILD@" is the build no.
_DEVICE_CODE = {
    "weather": """// Weather Station device code, build @BUILD@
const INTERVAL = 60;

function readSensors() {
    local reading = {
        "temp": 15.0 + (math.rand() % 150) / 10.0,
        "humidity": 40 + math.rand() % 35,
        "pressure": 995 + math.rand() % 30
    };
    agent.send("reading", reading);
    server.log(format("Temperature: %.1f C, humidity: %d%%", reading.temp, reading.humidity));
    imp.wakeup(INTERVAL, readSensors);
}

readSensors();
""",
    "thermo": """// Smart Thermostat device code, build @BUILD@
local setpoint = 21.0;

agent.on("setpoint", function(value) {
    setpoint = value;
    server.log("New setpoint: " + setpoint);
});

function control() {
    local current = 18.0 + (math.rand() % 60) / 10.0;
    local heating = current < setpoint;
    agent.send("status", { "current": current, "heating": heating });
    imp.wakeup(30, control);
}

control();
""",
    "tracker": """// Asset Tracker device code, build @BUILD@
const REPORT_INTERVAL = 120;

function report() {
    local fix = { "lat": 51.5 + (math.rand() % 1000) / 10000.0,
                  "lon": -0.12 - (math.rand() % 1000) / 10000.0 };
    agent.send("location", fix);
    imp.wakeup(REPORT_INTERVAL, report);
}

report();
""",
    "generic": """// Device code, build @BUILD@
function heartbeat() {
    agent.send("heartbeat", { "uptime": hardware.millis(), "memory": imp.getmemoryfree() });
    imp.wakeup(300, heartbeat);
}

server.log("Hello from the device!");
heartbeat();
""",
}
_AGENT_CODE = {
    "weather": """// Weather Station agent code, build @BUILD@
const API_URL = "https://api.example.com/v1/readings";

device.on("reading", function(reading) {
    local body = http.jsonencode(reading);
    http.post(API_URL, { "Content-Type": "application/json" }, body).sendasync(function(resp) {
        if (resp.statuscode != 200) server.error("Upload failed: " + resp.statuscode);
        else server.log("Reading posted (" + resp.statuscode + ")");
    });
});
""",
    "thermo": """// Smart Thermostat agent code, build @BUILD@
http.onrequest(function(req, res) {
    if ("setpoint" in req.query) device.send("setpoint", req.query.setpoint.tofloat());
    res.send(200, "OK");
});

device.on("status", function(status) {
    server.log(format("Current %.1f C, heating %s", status.current, status.heating ? "on" : "off"));
});
""",
    "tracker": """// Asset Tracker agent code, build @BUILD@
const FORWARD_URL = "https://tracking.example.com/api/fixes";

device.on("location", function(fix) {
    http.post(FORWARD_URL, {}, http.jsonencode(fix)).sendasync(function(resp) {
        server.log("Location forwarded (" + resp.statuscode + ")");
    });
});
""",
    "generic": """// Agent code, build @BUILD@
device.on("heartbeat", function(data) {
    server.log("Heartbeat: " + data.memory + " bytes free");
});
""",
}


def code_for(kind: str, build: int) -> tuple[str, str]:
    """(device_code, agent_code) of one build of a product kind."""
    kind = kind if kind in _DEVICE_CODE else "generic"
    return (_DEVICE_CODE[kind].replace("@BUILD@", str(build)),
            _AGENT_CODE[kind].replace("@BUILD@", str(build)))


def kind_of(product_name: str) -> str:
    """Which kind of readings a product's devices produce (by its name)."""
    lower = product_name.lower()
    for word, kind in (("weather", "weather"), ("thermo", "thermo"), ("tracker", "tracker"),
                       ("greenhouse", "weather")):
        if word in lower:
            return kind
    return "generic"


# -- log messages (shared with the simulation) ------------------------------------------------
_DEVICE_ERRORS = (
    ("the index 'temp' does not exist", "readSensors"),
    ("attempt to call 'null'", "control"),
    ("division by zero", "report"),
    ("I2C read failed (error -2)", "heartbeat"),
)
_AGENT_ERRORS = (
    ("the index 'statuscode' does not exist", "onResponse"),
    ("wrong type (null) for parameter 1", "onReading"),
    ("bad parameters to http.post", "forward"),
)


def device_log(rng: random.Random, kind: str) -> str:
    if kind == "weather":
        return (f"Temperature: {rng.uniform(8, 28):.1f} C, humidity: {rng.randint(35, 90)}%, "
                f"pressure: {rng.randint(990, 1030)} hPa")
    if kind == "thermo":
        setpoint = rng.choice((19.5, 20.0, 21.0, 21.5))
        return f"Setpoint {setpoint} C, current {rng.uniform(17, 23):.1f} C"
    if kind == "tracker":
        return (f"GPS fix: {51.45 + rng.random() / 10:.5f}, {-0.2 + rng.random() / 10:.5f} "
                f"({rng.randint(4, 12)} satellites)")
    return rng.choice(("Hello from the device!", f"Uptime {rng.randint(60, 86400)} s",
                       f"Free memory: {rng.randint(60000, 90000)} bytes"))


def agent_log(rng: random.Random, kind: str) -> str:
    if kind == "weather":
        return rng.choice(("Reading posted (200)", "Reading posted (200)",
                           f"Forecast refreshed: {rng.randint(5, 25)} C expected"))
    if kind == "thermo":
        return rng.choice((f"Current {rng.uniform(17, 23):.1f} C, heating on",
                           f"Current {rng.uniform(17, 23):.1f} C, heating off",
                           "Schedule synced: 6 entries"))
    if kind == "tracker":
        return rng.choice(("Location forwarded (200)", "Geofence 'Depot' entered",
                           "Geofence 'Depot' left"))
    return f"Heartbeat: {rng.randint(60000, 90000)} bytes free"


def error_sequence(rng: random.Random, agent: bool = False) -> list[tuple[str, str]]:
    """A runtime error: `ERROR: <cause>` then `ERROR:   at <function> <file>:<line>` lines."""
    type_, file = ("agent.error", "agent_code") if agent else ("device.error", "device_code")
    cause, function = rng.choice(_AGENT_ERRORS if agent else _DEVICE_ERRORS)
    lines = [(type_, f"ERROR: {cause}"),
             (type_, f"ERROR:   at {function} {file}:{rng.randint(5, 20)}")]
    if rng.random() < 0.6:
        lines.append((type_, f"ERROR:   at main {file}:{rng.randint(21, 40)}"))
    return lines


def misc_entry(rng: random.Random) -> tuple[str, str]:
    """One of the less frequent types: server.sleep, powerstate, lastexitcode, firmware."""
    r = rng.random()
    if r < 0.45:
        return "server.sleep", f"Device going to sleep for {rng.choice((60, 300, 600))} seconds"
    if r < 0.8:
        return "powerstate", rng.choice(("Power state: battery 3.71 V, not charging",
                                         "Power state: external power, charging",
                                         "Power state: battery 3.52 V, low"))
    if r < 0.95:
        return "lastexitcode", rng.choice(("Last exit code: 0 (power-on reset)",
                                           "Last exit code: 2 (new Squirrel code)",
                                           "Last exit code: 5 (watchdog reset)"))
    return "firmware", f"impOS updated to {rng.choice(SWVERSIONS).split(' - ')[1]}"


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


# -- seeds --------------------------------------------------------------------------------------
def seed_small(emulator: Any, accounts: dict, **options: Any) -> None:
    """The tests' default data set (§8.10)."""
    s = Seeder(emulator)
    demo, collab = accounts["demo"], accounts["demo-collab"]
    alpha = s.product(demo, "Alpha", 20, "The first test product")
    alpha_dev = s.group(alpha, "development_devicegroup", "Alpha Dev", 19)
    s.deployment(alpha_dev, "generic", 1, 10, "first build")
    s.deployment(alpha_dev, "generic", 2, 2, "second build")
    s.product(demo, "Bravo", 15)
    shared = s.product(collab, "Shared Product", 12, "Owned by demo-collab", (demo,))
    shared_dev = s.group(shared, "development_devicegroup", "Shared Dev", 11)
    s.deployment(shared_dev, "generic", 1, 5)
    devices = [
        s.device(demo, "imp004m", alpha_dev, name="Alpha 1"),
        s.device(demo, "imp004m", alpha_dev, name="Alpha 2"),
        s.device(demo, "imp004m", alpha_dev, name="Alpha 3", online=False),
        s.device(demo, "imp001", name="Loose imp001"),
        s.device(demo, "imp004m", name="Loose offline", online=False),
        s.device(collab, "imp004m", shared_dev, name="Shared 1"),
    ]
    for d in devices:
        s.history(d, 20, 2 * HOUR)
    emulator.store.touch()


def seed_demo(emulator: Any, accounts: dict, **options: Any) -> None:
    """The desktop demo (§8.10): demo sees 5 products, 12 groups and 29 devices (27 its own)."""
    s = Seeder(emulator)
    demo, two_fa, collab = accounts["demo"], accounts["demo-2fa"], accounts["demo-collab"]
    dev_t, assigned, unassigned = "development_devicegroup", [], []

    # Weather Station: WS Dev first, so the first device in list order is an online WS Dev one.
    ws = s.product(demo, "Weather Station", 29.5, "Outdoor sensor")
    ws_dev = s.group(ws, dev_t, "WS Dev", 29.4, "Main development group")
    for i, days in enumerate((28, 21, 14, 9, 4, 1), start=1):
        flag = demo if i == 2 else None
        s.deployment(ws_dev, "weather", i, days, f"Weather build {i}",
                     ("release", "v1.0") if i == 2 else (), flagger=flag)
    deps = sorted((d for d in s.store.deployments.values() if d.group_id == ws_dev.id),
                  key=lambda d: d.seq)
    ws_dev.min_supported_deployment_id = deps[3].id
    s.webhook(ws_dev, "deployment", 20)
    for name, online in (("Roof sensor", True), ("Garden sensor", True), ("Garage sensor", True),
                         ("Balcony sensor", True), ("Shed sensor", True),
                         ("Attic sensor", False)):
        running = "current" if online else deps[4].id
        assigned.append(s.device(demo, "imp004m", ws_dev, name=name, online=online,
                                 running=running, enrolled_days_ago=28))
    ws_beta = s.group(ws, dev_t, "WS Beta", 25, "Field beta units")
    older = s.deployment(ws_beta, "weather", 1, 20, "Beta build 1")
    s.deployment(ws_beta, "weather", 2, 3, "Beta build 2")
    for i, online in enumerate((True, True, True, False), start=1):
        assigned.append(s.device(demo, "imp006", ws_beta, name=f"Beta unit {i}", online=online,
                                 running=older.id, flaky=True, enrolled_days_ago=24))

    # Smart Thermostat: development plus the whole factory chain.
    th = s.product(demo, "Smart Thermostat", 27, "Connected thermostat")
    th_dev = s.group(th, dev_t, "Thermo Dev", 26.9, env_vars={
        "API_URL": "https://api.example.com/thermo", "POLL_INTERVAL_S": 300})
    for i, days in enumerate((18, 7, 2), start=1):
        s.deployment(th_dev, "thermo", i, days, f"Thermostat build {i}")
    for name, imp, online in (("Living room", "imp004m", True), ("Bedroom", "imp004m", True),
                              ("Hallway", "imp001", False)):
        assigned.append(s.device(demo, imp, th_dev, name=name, online=online))
    tt_prod = s.group(th, "pre_production_devicegroup", "Thermo Test Production", 26)
    tt_dut = s.group(th, "pre_dut_devicegroup", "Thermo Test DUT", 26)
    tt_fix = s.group(th, "pre_factoryfixture_devicegroup", "Thermo Test Fixture", 26,
                     "Test line fixture", targets=(tt_prod, tt_dut))
    t_prod = s.group(th, "production_devicegroup", "Thermo Production", 25)
    t_dut = s.group(th, "dut_devicegroup", "Thermo DUT", 25)
    t_fix = s.group(th, "factoryfixture_devicegroup", "Thermo Fixture", 25, "Line 1 fixtures",
                    env_vars={"dataSourceURL": "https://example.com/v1", "dataSourceAPIVersion": 1},
                    targets=(t_prod, t_dut))
    s.deployment(tt_fix, "generic", 1, 16, "Test fixture firmware")
    s.deployment(tt_dut, "generic", 1, 16, "Test DUT firmware")
    s.deployment(tt_prod, "thermo", 1, 16, "Test production build")
    s.deployment(t_fix, "generic", 1, 15, "Fixture firmware")
    s.deployment(t_fix, "generic", 2, 6, "Fixture firmware, faster BlinkUp")
    s.deployment(t_dut, "generic", 1, 15, "DUT self-test")
    s.deployment(t_prod, "thermo", 1, 15, "Production 1.0")
    s.deployment(t_prod, "thermo", 2, 5, "Production 1.1")
    s.webhook(t_prod, "blessing", 14)
    s.webhook(t_prod, "blinkup", 14)
    assigned.append(s.device(demo, "imp004m", tt_fix, name="Test fixture 1", plan=False))
    assigned.append(s.device(demo, "imp004m", tt_dut, enrolled_by=tt_fix, plan=False,
                             enrolled_days_ago=10))
    assigned.append(s.device(demo, "imp004m", tt_prod, name="Blessed test unit",
                             enrolled_by=tt_fix, enrolled_days_ago=9))
    assigned.append(s.device(demo, "imp004m", t_fix, name="Line 1 fixture", plan=False))
    assigned.append(s.device(demo, "imp004m", t_dut, enrolled_by=t_fix, plan=False,
                             enrolled_days_ago=4))
    for sn, online in (("Thermostat SN-0001", True), ("Thermostat SN-0002", False)):
        assigned.append(s.device(demo, "imp004m", t_prod, name=sn, online=online,
                                 enrolled_by=t_fix, enrolled_days_ago=5))

    # Asset Tracker, Sandbox.
    tr = s.product(demo, "Asset Tracker", 22, "Cellular asset tracker")
    tr_dev = s.group(tr, dev_t, "Tracker Dev", 21.9, env_vars={
        "TRACKER_API": "https://tracking.example.com/api", "REPORT_INTERVAL_S": 120})
    for i, days in enumerate((17, 8, 3), start=1):
        s.deployment(tr_dev, "tracker", i, days, f"Tracker build {i}")
    for name, online in (("Van 1", True), ("Van 2", True), ("Trailer", False)):
        assigned.append(s.device(demo, "imp006", tr_dev, name=name, online=online))
    s.group(tr, dev_t, "Tracker Field Test", 12, "Not started yet")
    s.product(demo, "Sandbox", 10, None)

    # Unassigned: 2 online, 2 offline; one never named, one never assigned, one flaky.
    unassigned.append(s.device(demo, "imp004m", name="Spare sensor", flaky=True))
    unassigned.append(s.device(demo, "imp006", name=None))
    unassigned.append(s.device(demo, "imp003", name="Bench unit", online=False,
                               ever_assigned=False, enrolled_days_ago=3))
    unassigned.append(s.device(demo, "imp005", name="Returned unit", online=False))

    # demo-collab's shared product and demo-2fa's lab.
    gh = s.product(collab, "Greenhouse Monitor", 24, "Shared with demo", (demo,))
    gh_dev = s.group(gh, dev_t, "GH Dev", 23.9)
    s.deployment(gh_dev, "weather", 1, 19, "Greenhouse build 1")
    s.deployment(gh_dev, "weather", 2, 6, "Greenhouse build 2")
    for name in ("Greenhouse north", "Greenhouse south"):
        assigned.append(s.device(collab, "imp004m", gh_dev, name=name))
    lab = s.product(two_fa, "Home Lab", 18)
    lab_dev = s.group(lab, dev_t, "Lab Dev", 17.9)
    s.deployment(lab_dev, "generic", 1, 8, "Lab build")
    for name, online in (("Lab bench", True), ("Lab spare", False)):
        assigned.append(s.device(two_fa, "imp004m", lab_dev, name=name, online=online))

    for d in assigned:
        s.history(d, s.rng.randint(150, 250), DAY)
    for d in unassigned:
        s.history(d, s.rng.randint(10, 20), DAY)
    emulator.store.touch()


def seed_fleet(emulator: Any, accounts: dict, devices: int | None = None,
               products: int | None = None,
               groups: int | None = None, random_seed: int | None = None, owner: str = "demo",
               **options: Any) -> None:
    """A large account for benchmarks (§8.10): P products, 5P groups, N devices, no history."""
    store = emulator.store
    n = max(0, int(devices) if devices is not None else 1000)
    p_count = max(1, int(products) if products is not None else math.ceil(n / 1000))
    g_count = max(1, int(groups) if groups is not None else 5 * p_count)
    s = Seeder(emulator)
    rng = random.Random(random_seed) if random_seed is not None else s.rng
    acct = accounts[owner]
    prods = [s.product(acct, f"Fleet {i + 1}", 29 - i * 0.001, "Generated fleet")
             for i in range(p_count)]
    grps = []
    for i in range(g_count):
        product = prods[i * p_count // g_count]
        g = s.group(product, "development_devicegroup", f"Fleet Group {i + 1}",
                    28 - i * 0.0001)
        s.deployment(g, "generic", i + 1, 7 - i * 0.0001, "Fleet build")
        grps.append(g)
    now, retention = s.now, s.retention
    new_id, new_mac, new_agent, new_ip = (store.new_device_id, store.new_mac,
                                          store.new_agent_id, store.new_ip)
    devs, by_mac, by_agent = store.devices, store.by_mac, store.by_agent
    random_ = rng.random
    assigned_i = 0
    for i in range(n):
        online = random_() < 0.9
        if i % 50 == 49:
            group = None  # 2 % unassigned
        else:
            group = grps[assigned_i % g_count]
            assigned_i += 1
        enrolled = now - (1 + 30 * random_()) * DAY
        d = Device(  # positional: this loop is the hot path of fleet:10000
            new_id(), acct.id, new_mac(), new_agent(), FLEET_IMP_TYPES[i % 8], store.next_seq(),
            f"fleet-{i + 1:05d}", online, now - random_() * DAY, enrolled + 60, enrolled,
            new_ip() if online else None, 60000 + int(random_() * 30000),
            -40 - int(random_() * 40), SWVERSIONS[0], None,
            group.id if group else None,
            group.current_deployment_id if group else None,
            logs=deque(maxlen=retention),
        )
        devs[d.id] = d
        by_mac[d.mac_address] = d
        by_agent[d.agent_id] = d
    store.touch()
