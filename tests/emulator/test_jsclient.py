"""The official imp-central-api npm client (1.7.0) must work against the emulator.

Runs tests/jsclient/run_all.js, which exercises every operation the JS client offers, against a
fresh emulator with the `small` seed. Optional: skipped when Node.js or the npm install in
tests/jsclient is missing (Node is not part of the project's required setup).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.jsclient, pytest.mark.slow]

JS_DIR = Path(__file__).resolve().parent.parent / "jsclient"
SCRIPT = JS_DIR / "run_all.js"
RUN_TIMEOUT_S = 300


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js ('node') is not on PATH; the JS client test is optional")
    if not (JS_DIR / "node_modules" / "imp-central-api").is_dir():
        pytest.skip(
            "tests/jsclient/node_modules is missing; "
            "run `npm ci` (or `npm install`) in tests/jsclient"
        )
    return node


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_official_js_client_every_operation():
    node = _node()
    from impdesk.emulator import EmulatorServer

    with EmulatorServer(seed="small", rate_limit=0) as server:
        resp = requests.get(server.control_url + "/accounts", timeout=30)
        resp.raise_for_status()
        accounts = {a["username"]: a for a in resp.json()}
        demo, two_fa = accounts["demo"], accounts["demo-2fa"]

        env = dict(os.environ)
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
            env.pop(name, None)  # the EventSource would send the stream GET to a proxy
        env.update(
            IMP_BASE_URL=server.base_url,
            IMP_USER=demo["username"],
            IMP_PASSWORD=demo["password"],
            IMP_UNBOND_KEY=demo["unbond_key"],
            IMP_2FA_USER=two_fa["username"],
            IMP_2FA_PASSWORD=two_fa["password"],
            IMP_TOTP_SECRET=two_fa["totp_secret"],
        )
        try:
            proc = subprocess.run(
                [node, str(SCRIPT)],
                cwd=JS_DIR,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            pytest.fail(f"run_all.js timed out after {RUN_TIMEOUT_S} s; output so far:\n{out}")

    ops = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                ops.append(json.loads(line))
            except ValueError:
                pass
    failed = [o for o in ops if not o.get("ok")]
    report = "\n".join(f"  {o['op']}: {o.get('detail')}" for o in failed)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "(no output)"

    assert ops, f"run_all.js printed no results (exit {proc.returncode}):\n{proc.stderr}"
    assert not failed, f"{len(failed)} JS client operation(s) failed ({summary}):\n{report}"
    assert proc.returncode == 0, f"exit {proc.returncode}; {summary}\nstderr:\n{proc.stderr}"
    assert summary.endswith(" 0 failed"), summary
