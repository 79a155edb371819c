"""Seed text: Squirrel code per product kind and log lines (shared with the simulation)."""

from __future__ import annotations

import random

SWVERSIONS = (
    "1ae4c87 - release-42.7 - Mon Sep 14 10:52:30 2026 - production",
    "9c02f1e - release-42.5 - Tue Jun 30 08:14:02 2026 - production",
    "e41b7a3 - release-41.12 - Wed Mar 11 16:40:51 2026 - production",
)

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
