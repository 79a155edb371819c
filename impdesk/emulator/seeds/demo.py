"""The demo seed (§8.10): the desktop demo's products, factory chain, devices and history."""

from __future__ import annotations

from typing import Any

from .builder import DAY, Seeder


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
