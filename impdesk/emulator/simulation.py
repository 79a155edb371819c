"""The living fleet (§8.5): periodic device/agent logs and flaky devices going on and offline."""

from __future__ import annotations

import math
import random
from functools import partial
from typing import Any

from . import life
from .model import Device
from .seeds.content import agent_log, device_log, error_sequence, kind_of

MAX_ENTRIES_PER_TICK = 5000


class Simulation:
    """Timers on the emulator clock (so clock speed-ups accelerate them), fenced by an epoch.

    Every (re)start or stop bumps `epoch`; a callback scheduled under an older epoch does nothing,
    so a reset or a configuration change never leaves two generations of timers running.
    """

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.store = emulator.store
        self.rng = random.Random(0x1D35)
        self.epoch = 0
        self.running = False
        self._flip_turn = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def restart(self) -> None:
        """(Re)start according to `config["simulation"]`; called after every reset."""
        with self.store.lock:
            self.epoch += 1
            sim = self.store.config["simulation"]
            self.running = bool(sim["enabled"])
            if not self.running:
                return
            epoch = self.epoch
            if float(sim["log_rate_per_min"]) > 0:
                interval = self._tick_interval()
                self.store.schedule(interval, partial(self._tick, epoch, interval))
            if float(sim["flip_interval_s"]) > 0:
                self.store.schedule(float(sim["flip_interval_s"]), partial(self._flip, epoch))

    def stop(self) -> None:
        with self.store.lock:
            self.epoch += 1
            self.running = False

    # -- periodic logs --------------------------------------------------------------------------
    def _tick_interval(self) -> float:
        # One tick per emulator second, but never more than about two per real second.
        return max(1.0, self.emulator.clock.speed * 0.5)

    def _tick(self, epoch: int, interval: float) -> None:
        """Decide the entries of the next `interval` and schedule each at a random moment."""
        if epoch != self.epoch:
            return
        store, rng = self.store, self.rng
        rate = float(store.config["simulation"]["log_rate_per_min"])
        if rate <= 0:
            return
        candidates = [d for d in store.devices.values() if d.device_online and d.group_id]
        if candidates:
            count = min(_poisson(rng, len(candidates) * rate / 60.0 * interval),
                        MAX_ENTRIES_PER_TICK)
            for _ in range(count):
                device = rng.choice(candidates)
                store.schedule(rng.uniform(0, interval), partial(self._write, epoch, device))
        nxt = self._tick_interval()
        store.schedule(nxt, partial(self._tick, epoch, nxt))

    def _write(self, epoch: int, device: Device) -> None:
        store = self.store
        if epoch != self.epoch or store.devices.get(device.id) is not device:
            return
        group = store.group_of(device)
        if group is None or not device.device_online:
            return
        product = store.products.get(group.product_id)
        kind = kind_of(product.name if product else "")
        for type_, msg in self._event(kind):
            life.append_log(store, device, type_, msg)

    def _event(self, kind: str) -> list[tuple[str, str]]:
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return [("device.log", device_log(rng, kind))]
        if r < 0.87:
            return [("agent.log", agent_log(rng, kind))]
        if r < 0.91:
            return error_sequence(rng, agent=False)
        if r < 0.93:
            return error_sequence(rng, agent=True)
        if r < 0.97:
            return [("server.sleep", f"Device going to sleep for {rng.choice((60, 300))} seconds")]
        return [("powerstate", rng.choice(("Power state: battery 3.71 V, not charging",
                                           "Power state: external power, charging")))]

    # -- flaky devices --------------------------------------------------------------------------
    def _flip(self, epoch: int) -> None:
        """Take the next flaky device (in turn) offline or back online."""
        if epoch != self.epoch:
            return
        store = self.store
        flaky = sorted((d for d in store.devices.values() if d.flaky), key=lambda d: d.joined_seq)
        if flaky:
            device = flaky[self._flip_turn % len(flaky)]
            self._flip_turn += 1
            life.set_online(store, device, not device.device_online)
        interval = float(store.config["simulation"]["flip_interval_s"])
        if interval > 0:
            store.schedule(interval, partial(self._flip, epoch))


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson-distributed count (Knuth for small means, a normal approximation above)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
