"""The fleet:N seed (§8.10): a large generated account for benchmarks, without history."""

from __future__ import annotations

import math
import random
from collections import deque
from typing import Any

from ..model import Device
from .builder import DAY, Seeder
from .content import SWVERSIONS

FLEET_IMP_TYPES = ("imp004m", "imp004m", "imp004m", "imp006", "imp006", "imp003", "imp005",
                   "imp001")


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
