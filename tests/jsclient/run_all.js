#!/usr/bin/env node
// Exercises every operation of the official imp-central-api npm client (1.7.0) against an
// impdesk emulator seeded with the `small` data set (contract §8.10).
//
// Environment:
//   IMP_BASE_URL       e.g. http://127.0.0.1:43817/v5  (the control surface is <origin>/_emulator)
//   IMP_USER, IMP_PASSWORD                 the main (commercial) account, `demo`
//   IMP_2FA_USER, IMP_2FA_PASSWORD         the two-factor account, `demo-2fa`
//   IMP_TOTP_SECRET                        base32 TOTP secret of the 2FA account
//   IMP_UNBOND_KEY                         unbond key of IMP_USER
//   IMP_OP_TIMEOUT_MS  (optional)          per-operation timeout, default 20000
//
// Output: one JSON line per operation {"op", "ok", "detail"}, then "N passed, M failed".
// Exit status 0 only if every operation passed.
//
// The control surface is used only for: making restarts instant (restart_delay_s = 0), a fresh
// BlinkUp device to assign/delete, and the factory flow (factory BlinkUp + blessing) that is the
// only way a device can reach a production device group (to exercise unbond-key removal).

'use strict';

const crypto = require('crypto');
const http = require('http');
const https = require('https');
const path = require('path');

const ImpCentralApi = require(path.join(__dirname, 'node_modules', 'imp-central-api'));
const { DeviceGroups, Devices, Deployments, Products, Webhooks, LogStreams, Errors } = ImpCentralApi;

// ---------------------------------------------------------------------------------------------
// configuration

const ENV_NAMES = ['IMP_BASE_URL', 'IMP_USER', 'IMP_PASSWORD', 'IMP_2FA_USER', 'IMP_2FA_PASSWORD',
    'IMP_TOTP_SECRET', 'IMP_UNBOND_KEY'];
const missing = ENV_NAMES.filter((n) => !process.env[n]);
if (missing.length) {
    console.error('missing environment variables: ' + missing.join(', '));
    process.exit(2);
}
const BASE = process.env.IMP_BASE_URL.replace(/\/+$/, '');
const ORIGIN = new URL(BASE).origin;
const CONTROL = ORIGIN + '/_emulator';
const USER = process.env.IMP_USER;
const PASSWORD = process.env.IMP_PASSWORD;
const USER_2FA = process.env.IMP_2FA_USER;
const PASSWORD_2FA = process.env.IMP_2FA_PASSWORD;
const TOTP_SECRET = process.env.IMP_TOTP_SECRET;
const UNBOND_KEY = process.env.IMP_UNBOND_KEY;
const OP_TIMEOUT_MS = parseInt(process.env.IMP_OP_TIMEOUT_MS || '20000', 10);
const RUN = Date.now().toString(36); // makes names unique, so the script can run twice

// ---------------------------------------------------------------------------------------------
// reporting

const results = [];

function describeError(e) {
    if (e instanceof Errors.ImpCentralApiError) {
        let body = e.body;
        try {
            body = JSON.stringify(body);
        } catch (_) { /* keep as is */ }
        if (typeof body === 'string' && body.length > 600) body = body.slice(0, 600) + '...';
        return `ImpCentralApiError HTTP ${e.statusCode}: ${e.message}; body=${body}`;
    }
    if (e instanceof Errors.InvalidDataError) return `InvalidDataError: ${e.message}`;
    return (e && e.stack) ? String(e.stack).split('\n').slice(0, 3).join(' | ') : String(e);
}

function withTimeout(promise, ms, what) {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
        }),
    ]).finally(() => clearTimeout(timer));
}

// Runs one operation. `fn` returns a detail string (or anything JSON-able) on success and throws
// on failure. `needs` lists values that must be truthy, else the op fails as "not run".
async function op(name, fn, needs = []) {
    let ok = false;
    let detail;
    if (needs.some((v) => !v)) {
        detail = 'not run: a prerequisite operation failed';
    } else {
        try {
            const d = await withTimeout(Promise.resolve().then(fn), OP_TIMEOUT_MS, name);
            ok = true;
            detail = d === undefined ? '' : d;
        } catch (e) {
            detail = describeError(e);
        }
    }
    const rec = { op: name, ok, detail };
    results.push(rec);
    console.log(JSON.stringify(rec));
    return ok;
}

function check(cond, msg) {
    if (!cond) throw new Error('check failed: ' + msg);
}

// Expects the promise to reject with an ImpCentralApiError of `status` (and `code`, if given).
async function expectApiError(promise, status, code = null) {
    let result;
    try {
        result = await promise;
    } catch (e) {
        if (!(e instanceof Errors.ImpCentralApiError)) throw e;
        check(e.statusCode === status, `expected HTTP ${status}, got ${e.statusCode} (${e.message})`);
        const errs = (e.body && e.body.errors) || [];
        if (code) {
            check(errs.length > 0 && errs[0].code === code,
                `expected error code ${code}, got ${JSON.stringify(errs.map((x) => x.code))}`);
        }
        return e;
    }
    throw new Error(`expected HTTP ${status}${code ? ' ' + code : ''}, but the call succeeded: ` +
        JSON.stringify(result).slice(0, 300));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(predicate, ms, what) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
        const v = await predicate();
        if (v) return v;
        await sleep(100);
    }
    throw new Error('timed out waiting for ' + what);
}

// ---------------------------------------------------------------------------------------------
// helpers

// RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s) from a base32 secret.
function base32Decode(s) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    const clean = s.toUpperCase().replace(/[\s=]/g, '');
    let bits = 0;
    let value = 0;
    const out = [];
    for (const ch of clean) {
        const idx = alphabet.indexOf(ch);
        if (idx < 0) throw new Error('invalid base32 character ' + ch);
        value = (value << 5) | idx;
        bits += 5;
        if (bits >= 8) {
            out.push((value >>> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    return Buffer.from(out);
}

function totp(secret, forTimeMs = Date.now()) {
    const counter = Math.floor(forTimeMs / 1000 / 30);
    const msg = Buffer.alloc(8);
    msg.writeBigUInt64BE(BigInt(counter));
    const h = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
    const offset = h[h.length - 1] & 0x0f;
    const code = ((h[offset] & 0x7f) << 24) | (h[offset + 1] << 16) | (h[offset + 2] << 8) | h[offset + 3];
    return String(code % 1000000).padStart(6, '0');
}

// Plain JSON call to the emulator control surface (not part of impCentral).
function control(method, p, body = undefined) {
    const url = new URL(CONTROL + p);
    const lib = url.protocol === 'https:' ? https : http;
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
        const req = lib.request(url, {
            method,
            headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                if (res.statusCode < 200 || res.statusCode >= 300) {
                    reject(new Error(`control ${method} ${p}: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
                    return;
                }
                try {
                    resolve(text ? JSON.parse(text) : null);
                } catch (e) {
                    reject(new Error(`control ${method} ${p}: invalid JSON ${text.slice(0, 200)}`));
                }
            });
        });
        req.on('error', reject);
        req.setTimeout(15000, () => req.destroy(new Error('control request timeout')));
        if (payload) req.write(payload);
        req.end();
    });
}

// Follows pagination page by page (the JS client does not), using `links.next` to stop.
async function listAll(fetchPage, pageSize) {
    const all = [];
    const seen = new Set();
    for (let n = 1; n <= 1000; n++) {
        const page = await fetchPage(n, pageSize);
        check(page && Array.isArray(page.data), 'list answer has a data array');
        check(page.data.length <= pageSize, `page ${n} has ${page.data.length} > ${pageSize} items`);
        for (const item of page.data) {
            if (!seen.has(item.id)) {
                seen.add(item.id);
                all.push(item);
            }
        }
        if (!page.links || !page.links.next || page.data.length === 0) return { items: all, pages: n };
    }
    throw new Error('pagination did not end after 1000 pages');
}

const rel = (res, name) => (res.relationships && res.relationships[name]) || null;
const relId = (res, name) => {
    const r = rel(res, name);
    if (!r) return null;
    return r.data ? r.data.id : r.id;
};
const ids = (list) => list.map((x) => x.id);

// ---------------------------------------------------------------------------------------------
// the run

async function main() {
    const api = new ImpCentralApi(BASE);
    const S = {}; // state shared between operations

    // --- emulator preparation (control surface) -----------------------------------------------
    await op('control.restart_delay_0', async () => {
        const cfg = await control('GET', '/config');
        const sim = Object.assign({}, cfg.simulation || {}, { restart_delay_s: 0 });
        const out = await control('PATCH', '/config', { simulation: sim });
        check(out.simulation && out.simulation.restart_delay_s === 0, 'restart_delay_s is 0');
        return 'simulation.restart_delay_s = 0';
    });

    // --- auth: error path, 2FA, password login, refresh -----------------------------------------
    await op('auth.login (wrong password -> 401)', async () => {
        const e = await expectApiError(api.auth.login(USER, PASSWORD + '-wrong'), 401, 'PX100');
        return e.message;
    });

    await op('auth.login (2FA account -> 403 PX200 with login_token)', async () => {
        const e = await expectApiError(api.auth.login(USER_2FA, PASSWORD_2FA), 403, 'PX200');
        const meta = e.body.errors[0].meta || {};
        check(typeof meta.login_token === 'string' && meta.login_token.length > 0, 'meta.login_token present');
        S.loginToken = meta.login_token;
        return 'login_token received';
    });

    await op('auth.loginWithOTP', async () => {
        const otp = totp(TOTP_SECRET);
        const r = await api.auth.loginWithOTP(otp, S.loginToken);
        check(typeof r.access_token === 'string' && r.access_token, 'access_token');
        check(typeof r.refresh_token === 'string' && r.refresh_token, 'refresh_token');
        const me = await api.accounts.get('me');
        check(me.data.attributes.username === USER_2FA, `logged in as ${USER_2FA}, got ${me.data.attributes.username}`);
        return `TOTP ${otp} accepted; /accounts/me is ${USER_2FA}`;
    }, [S.loginToken]);

    await op('auth.loginWithOTP (wrong OTP -> 401)', async () => {
        // a fresh login token, then an OTP that is certainly not within ±1 step
        let lt;
        try {
            await api.auth.login(USER_2FA, PASSWORD_2FA);
        } catch (e) {
            lt = e.body && e.body.errors && e.body.errors[0].meta && e.body.errors[0].meta.login_token;
        }
        check(lt, 'got a login token');
        const bad = totp(TOTP_SECRET, Date.now() + 10 * 60 * 1000);
        const e = await expectApiError(api.auth.loginWithOTP(bad, lt), 401, 'PX201');
        return e.message;
    });

    await op('auth.login', async () => {
        const r = await api.auth.login(USER, PASSWORD);
        check(typeof r.access_token === 'string' && r.access_token, 'access_token');
        check(typeof r.refresh_token === 'string' && r.refresh_token, 'refresh_token');
        check(Number.isInteger(r.expires_in) && r.expires_in > 0, 'expires_in integer');
        S.refreshToken = r.refresh_token;
        S.accessToken = r.access_token;
        return `expires_in=${r.expires_in}`;
    });
    if (!S.accessToken) {
        // Without a session nothing else can run meaningfully; still report everything as failed.
        console.log(JSON.stringify({ op: 'abort', ok: false, detail: 'login failed; stopping' }));
        return finish();
    }

    await op('auth.refreshAccessToken', async () => {
        const r = await api.auth.refreshAccessToken(S.refreshToken);
        check(typeof r.access_token === 'string' && r.access_token, 'access_token');
        check(r.access_token !== S.accessToken, 'a new access token');
        const me = await api.accounts.get('me'); // uses the new token
        check(me.data.attributes.username === USER, 'new token works');
        S.accessToken = r.access_token;
        return `new token works; refresh_token in answer: ${'refresh_token' in r}`;
    }, [S.refreshToken]);

    await op('auth.getRefreshTokens', async () => {
        const r = await api.auth.getRefreshTokens();
        check(Array.isArray(r.data) && r.data.length >= 1, 'at least one record');
        for (const t of r.data) check(t.type === 'refresh_token' && t.id, 'record type/id');
        S.refreshIdsBefore = ids(r.data);
        return `${r.data.length} record(s)`;
    });

    await op('auth.deleteRefreshToken', async () => {
        // a second login creates a throw-away refresh token; find its record and delete it
        const r = await api.auth.login(USER, PASSWORD);
        const throwaway = r.refresh_token;
        const after = await api.auth.getRefreshTokens();
        const fresh = ids(after.data).filter((id) => !S.refreshIdsBefore.includes(id));
        check(fresh.length === 1, `exactly one new record (got ${fresh.length})`);
        const del = await api.auth.deleteRefreshToken(fresh[0]);
        const again = await api.auth.getRefreshTokens();
        check(!ids(again.data).includes(fresh[0]), 'record gone');
        await expectApiError(api.auth.refreshAccessToken(throwaway), 404, 'NF103');
        return `deleted ${fresh[0]} (answer body: ${JSON.stringify(del)}); its token is refused`;
    }, [S.refreshIdsBefore]);

    // --- accounts ------------------------------------------------------------------------------
    await op('accounts.get(me)', async () => {
        const r = await api.accounts.get('me');
        check(r.data.type === 'account', 'type account');
        check(r.data.attributes.username === USER, 'username');
        S.meId = r.data.id;
        return `${r.data.id} ${r.data.attributes.email}`;
    });

    await op('accounts.list', async () => {
        const r = await api.accounts.list();
        check(Array.isArray(r.data) && r.data.length >= 2, 'me and the collaborator');
        check(r.data[0].id === S.meId, 'caller first');
        const collab = r.data.find((a) => a.id !== S.meId);
        S.collabId = collab && collab.id;
        const paged = await listAll((n, s) => api.accounts.list(n, s), 1);
        check(paged.items.length === r.data.length, `paged ${paged.items.length} == ${r.data.length}`);
        return `${r.data.length} accounts; page size 1 -> ${paged.pages} pages`;
    });

    await op('accounts.get(id)', async () => {
        const r = await api.accounts.get(S.collabId);
        check(r.data.id === S.collabId, 'id');
        return r.data.attributes.username;
    }, [S.collabId]);

    // --- login keys ----------------------------------------------------------------------------
    await op('accounts.createLoginKey', async () => {
        const r = await api.accounts.createLoginKey(PASSWORD, { description: 'jsclient ' + RUN });
        check(r.data.type === 'login_key' && r.data.id, 'login_key');
        check(r.data.attributes.description === 'jsclient ' + RUN, 'description');
        S.loginKey = r.data.id;
        return r.data.id;
    });

    await op('accounts.createLoginKey (wrong password -> 403)', async () => {
        const e = await expectApiError(api.accounts.createLoginKey(PASSWORD + 'x', {}), 403, 'PX203');
        return e.message;
    });

    await op('accounts.listLoginKeys', async () => {
        const r = await api.accounts.listLoginKeys();
        check(ids(r.data).includes(S.loginKey), 'new key listed');
        const r2 = await api.accounts.listLoginKeys(1, 5);
        check(Array.isArray(r2.data), 'paged list');
        return `${r.data.length} key(s)`;
    }, [S.loginKey]);

    await op('accounts.getLoginKey', async () => {
        const r = await api.accounts.getLoginKey(S.loginKey);
        check(r.data.id === S.loginKey, 'id');
        return `usages=${r.data.attributes.usages}`;
    }, [S.loginKey]);

    await op('accounts.updateLoginKey', async () => {
        const r = await api.accounts.updateLoginKey(S.loginKey, PASSWORD, { description: 'renamed ' + RUN });
        check(r.data.attributes.description === 'renamed ' + RUN, 'description updated');
        return 'description updated';
    }, [S.loginKey]);

    await op('auth.getAccessToken (login key)', async () => {
        const r = await api.auth.getAccessToken(S.loginKey);
        check(typeof r.access_token === 'string' && r.access_token, 'access_token');
        const me = await api.accounts.get('me');
        check(me.data.id === S.meId, 'token from the login key works');
        const k = await api.accounts.getLoginKey(S.loginKey);
        check(k.data.attributes.usages >= 1, 'usages counted');
        return `usages=${k.data.attributes.usages}`;
    }, [S.loginKey]);

    await op('accounts.deleteLoginKey', async () => {
        await api.accounts.deleteLoginKey(S.loginKey, PASSWORD);
        await expectApiError(api.accounts.getLoginKey(S.loginKey), 404, 'NF100');
        await expectApiError(api.auth.getAccessToken(S.loginKey), 404, 'NF103');
        return 'deleted; exchange refused';
    }, [S.loginKey]);

    // --- products ------------------------------------------------------------------------------
    await op('products.list', async () => {
        const { items } = await listAll((n, s) => api.products.list(null, n, s), 2);
        const byName = Object.fromEntries(items.map((p) => [p.attributes.name, p]));
        check(byName.Alpha && byName.Bravo, 'Alpha and Bravo visible');
        S.alpha = byName.Alpha.id;
        S.bravo = byName.Bravo.id;
        const shared = items.find((p) => relId(p, 'owner') !== S.meId);
        check(shared, 'a shared product of another owner is visible');
        S.sharedProduct = shared.id;
        const plain = await api.products.list();
        check(plain.data.length === Math.min(items.length, 20), 'unpaged list = first page of 20');
        return `${items.length} products: ${items.map((p) => p.attributes.name).join(', ')}`;
    });

    await op('products.list (filter owner.id)', async () => {
        const mine = await api.products.list({ [Products.FILTER_OWNER_ID]: S.meId });
        check(mine.data.every((p) => relId(p, 'owner') === S.meId), 'all owned by me');
        check(ids(mine.data).includes(S.alpha) && !ids(mine.data).includes(S.sharedProduct), 'Alpha yes, shared no');
        const viaMe = await api.products.list({ [Products.FILTER_OWNER_ID]: 'me' });
        check(viaMe.data.length === mine.data.length, '"me" alias');
        const theirs = await api.products.list({ [Products.FILTER_OWNER_ID]: S.collabId });
        check(ids(theirs.data).includes(S.sharedProduct), 'shared product under its owner');
        return `mine=${mine.data.length} collaborator's=${theirs.data.length}`;
    }, [S.alpha, S.collabId]);

    await op('products.create', async () => {
        const r = await api.products.create({ name: 'JS Product ' + RUN, description: 'created by run_all.js' });
        check(r.data.type === 'product' && r.data.id, 'product');
        check(r.data.attributes.name === 'JS Product ' + RUN, 'name');
        check(relId(r.data, 'owner') === S.meId, 'owner is me');
        S.product = r.data.id;
        return r.data.id;
    });

    await op('products.create (duplicate name -> 409)', async () => {
        const e = await expectApiError(api.products.create({ name: 'JS Product ' + RUN }), 409, 'CX100');
        return e.message;
    }, [S.product]);

    await op('products.create (ownerId = collaborator)', async () => {
        const r = await api.products.create({ name: 'JS Shared ' + RUN }, S.collabId);
        check(relId(r.data, 'owner') === S.collabId, 'owned by the collaborator');
        check(relId(r.data, 'creator') === S.meId, 'created by me');
        S.collabProduct = r.data.id;
        return r.data.id;
    }, [S.collabId]);

    await op('products.get', async () => {
        const r = await api.products.get(S.product);
        check(r.data.id === S.product && r.data.attributes.description === 'created by run_all.js', 'fields');
        return r.data.attributes.created_at;
    }, [S.product]);

    await op('products.get (unknown -> 404)', async () => {
        const e = await expectApiError(api.products.get('00000000-0000-0000-0000-000000000000'), 404, 'NF100');
        return e.message;
    });

    await op('products.update', async () => {
        const r = await api.products.update(S.product, { name: 'JS Product ' + RUN + ' v2', description: null });
        check(r.data.attributes.name === 'JS Product ' + RUN + ' v2', 'name');
        check(r.data.attributes.description === null, 'description cleared');
        return 'renamed';
    }, [S.product]);

    // --- device groups: create every type ------------------------------------------------------
    const G = {};
    const mkGroup = (key, type, attrs, pt = null, dt = null) => op(`deviceGroups.create (${type} '${attrs.name}')`, async () => {
        const r = await api.deviceGroups.create(S.product, type, attrs, pt && pt(), dt && dt());
        check(r.data.type === type && r.data.id, 'type/id');
        check(relId(r.data, 'product') === S.product, 'product relationship');
        G[key] = r.data.id;
        return r.data.id;
    }, [S.product]);

    await mkGroup('dev', DeviceGroups.TYPE_DEVELOPMENT,
        { name: 'JS Dev', description: 'dev', env_vars: { A: '1', N: 2 } });
    await mkGroup('preprod', DeviceGroups.TYPE_PRE_PRODUCTION, { name: 'JS PreProd', region: 'eu' });
    await mkGroup('predut', DeviceGroups.TYPE_PRE_DUT, { name: 'JS PreDUT' });
    await mkGroup('prefixture', DeviceGroups.TYPE_PRE_FACTORY_FIXTURE, { name: 'JS PreFixture' },
        () => ({ type: DeviceGroups.TYPE_PRE_PRODUCTION, id: G.preprod }),
        () => ({ type: DeviceGroups.TYPE_PRE_DUT, id: G.predut }));
    await mkGroup('prod', DeviceGroups.TYPE_PRODUCTION, { name: 'JS Prod', description: 'prod' });
    await mkGroup('prod2', DeviceGroups.TYPE_PRODUCTION, { name: 'JS Prod 2' });
    await mkGroup('dut', DeviceGroups.TYPE_DUT, { name: 'JS DUT' });
    await mkGroup('fixture', DeviceGroups.TYPE_FACTORY_FIXTURE, { name: 'JS Fixture' },
        () => ({ type: DeviceGroups.TYPE_PRODUCTION, id: G.prod }),
        () => ({ type: DeviceGroups.TYPE_DUT, id: G.dut }));

    await op('deviceGroups.create (duplicate name -> 409)', async () => {
        const e = await expectApiError(
            api.deviceGroups.create(S.product, DeviceGroups.TYPE_DEVELOPMENT, { name: 'JS Dev' }), 409, 'CX101');
        return e.message;
    }, [G.dev]);

    await op('deviceGroups.get', async () => {
        const r = await api.deviceGroups.get(G.fixture);
        check(r.data.type === DeviceGroups.TYPE_FACTORY_FIXTURE, 'type');
        check(relId(r.data, 'production_target') === G.prod, 'production_target');
        check(relId(r.data, 'dut_target') === G.dut, 'dut_target');
        const d = await api.deviceGroups.get(G.dev);
        check(JSON.stringify(d.data.attributes.env_vars) === JSON.stringify({ A: '1', N: 2 }), 'env_vars round-trip');
        const p = await api.deviceGroups.get(G.preprod);
        check(p.data.attributes.region === 'eu', 'region');
        check(p.data.attributes.load_code_after_blessing === true, 'load_code_after_blessing default');
        return 'fixture targets, env_vars, region ok';
    }, [G.fixture, G.dev, G.preprod]);

    await op('deviceGroups.list (filters)', async () => {
        const all = await listAll((n, s) => api.deviceGroups.list(null, n, s), 3);
        check(ids(all.items).includes(G.dev), 'new group in full list');
        const byProduct = await api.deviceGroups.list({ [DeviceGroups.FILTER_PRODUCT_ID]: S.product }, 1, 100);
        check(byProduct.data.length === Object.keys(G).length, `product filter (${byProduct.data.length})`);
        const byType = await api.deviceGroups.list({
            [DeviceGroups.FILTER_PRODUCT_ID]: S.product,
            [DeviceGroups.FILTER_TYPE]: DeviceGroups.TYPE_PRODUCTION,
        });
        check(byType.data.length === 2 && byType.data.every((g) => g.type === DeviceGroups.TYPE_PRODUCTION), 'type filter');
        const alpha = await api.deviceGroups.list({ [DeviceGroups.FILTER_PRODUCT_ID]: S.alpha });
        const alphaDev = alpha.data.find((g) => g.attributes.name === 'Alpha Dev');
        check(alphaDev, 'Alpha Dev found');
        S.alphaDev = alphaDev.id;
        const byOwner = await api.deviceGroups.list({ [DeviceGroups.FILTER_OWNER_ID]: S.meId }, 1, 100);
        check(byOwner.data.every((g) => relId(g, 'owner') === S.meId), 'owner filter');
        return `all=${all.items.length} product=${byProduct.data.length} alphaDev=${S.alphaDev}`;
    }, [G.dev, G.prod, G.prod2]);

    await op('deviceGroups.update (development)', async () => {
        const r = await api.deviceGroups.update(G.dev, DeviceGroups.TYPE_DEVELOPMENT,
            { name: 'JS Dev renamed', description: 'changed', env_vars: { B: 'x' } });
        check(r.data.attributes.name === 'JS Dev renamed', 'name');
        check(JSON.stringify(r.data.attributes.env_vars) === '{"B":"x"}', 'env_vars replaced');
        return 'renamed, env_vars replaced';
    }, [G.dev]);

    await op('deviceGroups.update (production, load_code_after_blessing)', async () => {
        const r = await api.deviceGroups.update(G.prod, DeviceGroups.TYPE_PRODUCTION, { load_code_after_blessing: false });
        check(r.data.attributes.load_code_after_blessing === false, 'flag');
        const r2 = await api.deviceGroups.update(G.prod, DeviceGroups.TYPE_PRODUCTION, { load_code_after_blessing: true });
        check(r2.data.attributes.load_code_after_blessing === true, 'flag back');
        return 'toggled';
    }, [G.prod]);

    await op('deviceGroups.update (factory fixture targets)', async () => {
        const r = await api.deviceGroups.update(G.fixture, DeviceGroups.TYPE_FACTORY_FIXTURE, { description: 'retarget' },
            { type: DeviceGroups.TYPE_PRODUCTION, id: G.prod2 });
        check(relId(r.data, 'production_target') === G.prod2, 'retargeted');
        const r2 = await api.deviceGroups.update(G.fixture, DeviceGroups.TYPE_FACTORY_FIXTURE, {},
            { type: DeviceGroups.TYPE_PRODUCTION, id: G.prod }, { type: DeviceGroups.TYPE_DUT, id: G.dut });
        check(relId(r2.data, 'production_target') === G.prod && relId(r2.data, 'dut_target') === G.dut, 'back');
        return 'production_target moved and back';
    }, [G.fixture, G.prod2]);

    // --- devices -------------------------------------------------------------------------------
    await op('devices.list (filters)', async () => {
        const all = await listAll((n, s) => api.devices.list(null, n, s), 2);
        check(all.items.length >= 5, `at least 5 devices (got ${all.items.length})`);
        const inGroup = await api.devices.list({ [Devices.FILTER_DEVICE_GROUP_ID]: S.alphaDev });
        check(inGroup.data.length === 3, `3 devices in Alpha Dev (got ${inGroup.data.length})`);
        const online = inGroup.data.filter((d) => d.attributes.device_online);
        check(online.length >= 1, 'an online device in Alpha Dev');
        S.dev1 = online[0].id;
        S.dev1Mac = online[0].attributes.mac_address;
        S.dev1Agent = online[0].attributes.agent_id;
        const unassigned = await api.devices.list({ [Devices.FILTER_DEVICE_GROUP_OWNER_ID]: 'null' });
        check(unassigned.data.length === 2 && unassigned.data.every((d) => !relId(d, 'devicegroup')),
            `2 unassigned (got ${unassigned.data.length})`);
        const uOnline = unassigned.data.find((d) => d.attributes.device_online);
        check(uOnline, 'an online unassigned device');
        S.unassigned = uOnline.id;
        S.unassignedMac = uOnline.attributes.mac_address;
        const byProduct = await api.devices.list({ [Devices.FILTER_PRODUCT_ID]: S.alpha });
        check(byProduct.data.length === 3, 'product filter');
        const byType = await api.devices.list({ [Devices.FILTER_DEVICE_GROUP_TYPE]: DeviceGroups.TYPE_DEVELOPMENT }, 1, 100);
        check(byType.data.every((d) => rel(d, 'devicegroup') && rel(d, 'devicegroup').type === DeviceGroups.TYPE_DEVELOPMENT),
            'devicegroup.type filter');
        const byOwner = await api.devices.list({ [Devices.FILTER_OWNER_ID]: S.meId }, 1, 100);
        check(byOwner.data.length >= 5 && byOwner.data.every((d) => relId(d, 'owner') === S.meId), 'owner filter');
        const byGOwner = await api.devices.list({ [Devices.FILTER_DEVICE_GROUP_OWNER_ID]: S.meId }, 1, 100);
        check(byGOwner.data.length === 3, `devicegroup.owner.id filter (got ${byGOwner.data.length})`);
        return `all=${all.items.length}; Alpha Dev online device ${S.dev1}; unassigned online ${S.unassigned}`;
    }, [S.alphaDev, S.alpha]);

    await op('devices.get (id and MAC)', async () => {
        const r = await api.devices.get(S.dev1);
        check(r.data.id === S.dev1 && r.data.type === 'device', 'by id');
        check(relId(r.data, 'devicegroup') === S.alphaDev, 'in Alpha Dev');
        const byMac = await api.devices.get(S.dev1Mac);
        check(byMac.data.id === S.dev1, 'by MAC');
        const byAgent = await api.devices.get(S.dev1Agent);
        check(byAgent.data.id === S.dev1, 'by agent id');
        return `${r.data.attributes.imp_type} ${S.dev1Mac}`;
    }, [S.dev1]);

    await op('devices.update', async () => {
        const r = await api.devices.update(S.dev1, { name: 'JS named ' + RUN });
        check(r.data.attributes.name === 'JS named ' + RUN, 'name');
        return 'named';
    }, [S.dev1]);

    await op('devices.restart', async () => {
        await api.devices.restart(S.dev1);
        const logs = await waitFor(async () => {
            const l = await api.devices.getLogs(S.dev1, 1, 10);
            return l.data.some((e) => e.msg === 'Device restarting') ? l : null;
        }, 5000, '"Device restarting" in history');
        return `newest: ${logs.data.slice(0, 3).map((e) => e.type + ' ' + e.msg).join(' / ')}`;
    }, [S.dev1]);

    await op('devices.restart (unassigned -> 409)', async () => {
        const e = await expectApiError(api.devices.restart(S.unassigned), 409, 'CX107');
        return e.message;
    }, [S.unassigned]);

    await op('devices.conditionalRestart', async () => {
        const r = await api.devices.conditionalRestart(S.dev1);
        return `answer: ${JSON.stringify(r)}`;
    }, [S.dev1]);

    await op('devices.getLogs', async () => {
        const r = await api.devices.getLogs(S.dev1);
        check(Array.isArray(r.data) && r.data.length > 0 && r.data.length <= 20, 'default page');
        for (const e of r.data) check(typeof e.ts === 'string' && typeof e.type === 'string' && typeof e.msg === 'string', 'entry');
        for (let i = 1; i < r.data.length; i++) check(r.data[i - 1].ts >= r.data[i].ts, 'newest first');
        const paged = await listAll((n, s) => api.devices.getLogs(S.dev1, n, s), 7);
        check(paged.pages >= 3, 'several pages');
        return `${r.data.length} on the default page; ${paged.pages} pages of 7`;
    }, [S.dev1]);

    // --- deployments ---------------------------------------------------------------------------
    const code = (n) => ({
        device_code: `server.log("device ${n} ${RUN}");`,
        agent_code: `server.log("agent ${n} ${RUN}");`,
    });
    await op('deployments.create', async () => {
        const r1 = await api.deployments.create(G.dev, DeviceGroups.TYPE_DEVELOPMENT,
            Object.assign(code(1), { description: 'first', origin: 'run_all.js', tags: ['js', 'one'], flagged: false }));
        check(r1.data.type === 'deployment' && r1.data.id, 'deployment');
        check(/^[0-9a-f]{64}$/.test(r1.data.attributes.sha), 'sha');
        check(relId(r1.data, 'devicegroup') === G.dev, 'devicegroup');
        const r2 = await api.deployments.create(G.dev, DeviceGroups.TYPE_DEVELOPMENT, Object.assign(code(2), { tags: ['js'] }));
        const r3 = await api.deployments.create(G.dev, DeviceGroups.TYPE_DEVELOPMENT, code(3));
        S.dep1 = r1.data.id;
        S.dep2 = r2.data.id;
        S.dep3 = r3.data.id;
        S.sha1 = r1.data.attributes.sha;
        const g = await api.deviceGroups.get(G.dev);
        check(relId(g.data, 'current_deployment') === S.dep3, 'current_deployment = newest');
        check(relId(g.data, 'min_supported_deployment') === S.dep1, 'min_supported = first');
        return `${S.dep1}, ${S.dep2}, ${S.dep3}`;
    }, [G.dev]);

    await op('deployments.create (compile error -> 400 CX005)', async () => {
        const e = await expectApiError(api.deployments.create(G.dev, DeviceGroups.TYPE_DEVELOPMENT,
            { device_code: 'function f() {', agent_code: '' }), 400, 'CX005');
        check(Array.isArray(e.body.errors[0].meta), 'meta array');
        return e.message;
    }, [G.dev]);

    await op('deployments.get', async () => {
        const r = await api.deployments.get(S.dep1);
        check(r.data.attributes.description === 'first' && r.data.attributes.origin === 'run_all.js', 'attributes');
        check(JSON.stringify(r.data.attributes.tags) === '["js","one"]', 'tags');
        check(r.data.attributes.device_code === code(1).device_code, 'code');
        return r.data.attributes.sha;
    }, [S.dep1]);

    await op('deployments.update', async () => {
        const r = await api.deployments.update(S.dep2, { description: 'second', flagged: true, tags: ['js', 'two'] });
        check(r.data.attributes.flagged === true && relId(r.data, 'flagger') === S.meId, 'flagged by me');
        check(r.data.attributes.description === 'second', 'description');
        return 'flagged, described, retagged';
    }, [S.dep2]);

    await op('deployments.list (filters)', async () => {
        const F = Deployments;
        const byGroup = await api.deployments.list({ [F.FILTER_DEVICE_GROUP_ID]: G.dev });
        check(JSON.stringify(ids(byGroup.data)) === JSON.stringify([S.dep3, S.dep2, S.dep1]), 'newest first');
        const byProduct = await api.deployments.list({ [F.FILTER_PRODUCT_ID]: S.product });
        check(byProduct.data.length === 3, 'product');
        const bySha = await api.deployments.list({ [F.FILTER_SHA]: S.sha1 });
        check(ids(bySha.data).includes(S.dep1), 'sha');
        const flagged = await api.deployments.list({ [F.FILTER_DEVICE_GROUP_ID]: G.dev, [F.FILTER_FLAGGED]: true });
        check(JSON.stringify(ids(flagged.data)) === JSON.stringify([S.dep2]), 'flagged=true');
        const notFlagged = await api.deployments.list({ [F.FILTER_DEVICE_GROUP_ID]: G.dev, [F.FILTER_FLAGGED]: false });
        check(notFlagged.data.length === 2, 'flagged=false');
        const byFlagger = await api.deployments.list({ [F.FILTER_FLAGGER_ID]: S.meId, [F.FILTER_PRODUCT_ID]: S.product });
        check(JSON.stringify(ids(byFlagger.data)) === JSON.stringify([S.dep2]), 'flagger.id');
        const tags = await api.deployments.list({ [F.FILTER_TAGS]: 'js,one' });
        check(JSON.stringify(ids(tags.data)) === JSON.stringify([S.dep1]), 'tags=js,one');
        const byOwner = await api.deployments.list({ [F.FILTER_OWNER_ID]: S.meId, [F.FILTER_DEVICE_GROUP_ID]: G.dev });
        check(byOwner.data.length === 3, 'owner.id');
        const byCreator = await api.deployments.list({ [F.FILTER_CREATOR_ID]: 'me', [F.FILTER_DEVICE_GROUP_ID]: G.dev });
        check(byCreator.data.length === 3, 'creator.id');
        const paged = await listAll((n, s) => api.deployments.list(null, n, s), 2);
        check(paged.items.length >= 6, 'all deployments via paging');
        return `paged ${paged.items.length} deployments`;
    }, [S.dep1, S.dep2, S.dep3]);

    await op('deviceGroups.updateMinSupportedDeployment', async () => {
        const r = await api.deviceGroups.updateMinSupportedDeployment(G.dev, S.dep2);
        if (r && r.data) check(r.data.id === S.dep2, 'answer is the deployment');
        const g = await api.deviceGroups.get(G.dev);
        check(relId(g.data, 'min_supported_deployment') === S.dep2, 'min_supported_deployment set');
        await expectApiError(api.deviceGroups.updateMinSupportedDeployment(G.dev, S.dep1), 409, 'CX113');
        return `min = ${S.dep2}; older one refused`;
    }, [S.dep2]);

    await op('deployments.delete', async () => {
        await expectApiError(api.deployments.delete(S.dep2), 409, 'CX105'); // flagged
        await expectApiError(api.deployments.delete(S.dep3), 409, 'CX106'); // protected
        await api.deployments.delete(S.dep1); // older than min supported
        await expectApiError(api.deployments.get(S.dep1), 404, 'NF100');
        await api.deployments.update(S.dep2, { flagged: false });
        return 'older deployment deleted; flagged and protected ones refused';
    }, [S.dep1, S.dep2]);

    // --- assign / unassign (development) --------------------------------------------------------
    await op('deviceGroups.addDevices', async () => {
        await api.deviceGroups.addDevices(G.dev, S.unassignedMac);
        const d = await api.devices.get(S.unassigned);
        check(relId(d.data, 'devicegroup') === G.dev, 'assigned');
        check(d.data.attributes.agent_id, 'agent id shown');
        S.unassignedAgent = d.data.attributes.agent_id;
        return `assigned by MAC; agent ${S.unassignedAgent}`;
    }, [S.unassigned, G.dev]);

    await op('deviceGroups.addDevices (partial failure -> 400)', async () => {
        const e = await expectApiError(api.deviceGroups.addDevices(G.dev, S.unassigned, 'ffffffffffffff00'), 400);
        const errs = e.body.errors;
        check(errs.length === 1 && errs[0].code === 'NF100' && errs[0].meta && errs[0].meta.id === 'ffffffffffffff00',
            'one per-device error');
        return e.message;
    }, [S.unassigned, G.dev]);

    await op('deviceGroups.restartDevices', async () => {
        const before = await api.devices.getLogs(S.unassigned, 1, 1);
        const top = before.data[0] && before.data[0].ts;
        await api.deviceGroups.restartDevices(G.dev);
        await waitFor(async () => {
            const l = await api.devices.getLogs(S.unassigned, 1, 10);
            return l.data.some((e) => e.msg === 'Device restarting' && (!top || e.ts > top));
        }, 5000, 'restart line');
        return 'group restarted; status line logged';
    }, [S.unassignedAgent]);

    await op('deviceGroups.conditionalRestartDevices', async () => {
        const r = await api.deviceGroups.conditionalRestartDevices(G.dev);
        const r2 = await api.deviceGroups.conditionalRestartDevices(S.alphaDev);
        return `answers: ${JSON.stringify(r)} ${JSON.stringify(r2)}`;
    }, [G.dev, S.alphaDev]);

    await op('deviceGroups.removeDevices', async () => {
        await api.deviceGroups.removeDevices(G.dev, null, S.unassignedAgent);
        const d = await api.devices.get(S.unassigned);
        check(!relId(d.data, 'devicegroup'), 'unassigned again');
        const e = await expectApiError(api.deviceGroups.removeDevices(G.dev, null, S.unassigned), 400);
        check(e.body.errors.every((x) => String(x.status) === '404'), 'not in group -> per-device 404');
        return 'unassigned by agent id; second removal reports NF104';
    }, [S.unassignedAgent]);

    // --- factory flow: fixture assignment, production group, unbond key ----------------------
    await op('control.blinkup (new device)', async () => {
        const r = await control('POST', '/blinkup', { owner: USER, imp_type: 'imp004m', online: true });
        check(r && r.data && r.data.id, 'device');
        S.newDevice = r.data.id;
        return S.newDevice;
    });

    await op('deviceGroups.addDevices (factory fixture)', async () => {
        await api.deviceGroups.addDevices(G.fixture, S.newDevice);
        const d = await api.devices.get(S.newDevice);
        check(relId(d.data, 'devicegroup') === G.fixture && rel(d.data, 'devicegroup').type === DeviceGroups.TYPE_FACTORY_FIXTURE,
            'in the fixture group');
        return 'assigned';
    }, [S.newDevice, G.fixture]);

    await op('control.factory blinkup + bless', async () => {
        const dut = await control('POST', '/factory/blinkup', { fixture: S.newDevice, imp_type: 'imp004m' });
        S.dutDevice = dut.data.id;
        const blessed = await control('POST', '/factory/bless', { device: S.dutDevice });
        check(relId(blessed.data, 'devicegroup') === G.prod, 'blessed into production');
        S.prodDevice = S.dutDevice;
        return S.prodDevice;
    }, [S.newDevice]);

    await op('deviceGroups.removeDevices (production, no unbond key -> 403)', async () => {
        const e = await expectApiError(api.deviceGroups.removeDevices(G.prod, null, S.prodDevice), 403, 'PX301');
        return e.message;
    }, [S.prodDevice]);

    await op('deviceGroups.removeDevices (production, unbond key)', async () => {
        await api.deviceGroups.removeDevices(G.prod, UNBOND_KEY, S.prodDevice);
        const d = await api.devices.get(S.prodDevice);
        check(!relId(d.data, 'devicegroup'), 'unassigned');
        return 'unbonded';
    }, [S.prodDevice]);

    await op('devices.delete', async () => {
        await api.devices.delete(S.prodDevice);
        await expectApiError(api.devices.get(S.prodDevice), 404, 'NF100');
        await expectApiError(api.devices.delete(S.newDevice), 409, 'CX108'); // still in the fixture
        await api.deviceGroups.removeDevices(G.fixture, null, S.newDevice);
        await api.devices.delete(S.newDevice);
        return 'two devices deleted; assigned one refused first';
    }, [S.prodDevice, S.newDevice]);

    // --- log streams ---------------------------------------------------------------------------
    for (const format of [LogStreams.FORMAT_JSON, LogStreams.FORMAT_TEXT]) {
        const L = { messages: [], states: [], errors: [] };
        await op(`logStreams.create (${format})`, async () => {
            const r = await api.logStreams.create(
                (m) => L.messages.push(m),
                (s) => L.states.push(s),
                (e) => L.errors.push(e),
                format);
            check(r && r.data && r.data.id, 'stream id');
            L.id = r.data.id;
            await waitFor(() => L.states.some((s) => /opened/.test(s)), 5000, 'opened state_change');
            return `${L.id}; states: ${JSON.stringify(L.states)}`;
        }, [S.dev1]);

        await op(`logStreams.addDevice (${format})`, async () => {
            await api.logStreams.addDevice(L.id, S.dev1);
            await waitFor(() => L.states.some((s) => s.includes('subscribed') && s.includes(S.dev1)), 5000, 'subscribed');
            L.subscribed = true;
            return JSON.stringify(L.states);
        }, [L.id]);

        await op(`logStreams receive message (${format})`, async () => {
            await api.devices.restart(S.dev1);
            await waitFor(() => L.messages.some((m) => m.includes('Device restarting')), 8000, 'a "Device restarting" message');
            const m = L.messages.find((x) => x.includes('Device restarting'));
            if (format === LogStreams.FORMAT_JSON) {
                const j = JSON.parse(m);
                check(j.device_id === S.dev1 && j.type === 'status' && j.msg === 'Device restarting', 'json message');
            } else {
                check(m.startsWith(S.dev1 + ' ') && m.includes(' status Device restarting'), 'text message');
            }
            return `${L.messages.length} message(s); first: ${L.messages[0]}`;
        }, [L.id, L.subscribed]);

        await op(`logStreams.removeDevice (${format})`, async () => {
            await api.logStreams.removeDevice(L.id, S.dev1);
            await waitFor(() => L.states.some((s) => s.includes('unsubscribed')), 5000, 'unsubscribed');
            return JSON.stringify(L.states.slice(-1));
        }, [L.id]);

        await op(`logStreams.close (${format})`, async () => {
            await api.logStreams.close(L.id);
            check(L.errors.length === 0, 'no stream errors: ' + L.errors.map(describeError).join('; '));
            return 'closed';
        }, [L.id]);
    }

    // EventSource (eventsource@1.1.2) reconnects on its own 1 s after the server ends a stream.
    // 1) A new stream closes the account's older one (limit 1): the old connection gets
    //    `closed`, ends, the client re-GETs it and must get a clean 404 (not a hang or a 5xx).
    const A = { messages: [], states: [], errors: [] };
    const B = { messages: [], states: [], errors: [] };
    await op('logStreams: a second stream closes the first (closed + 404 on reconnect)', async () => {
        const ra = await api.logStreams.create((m) => A.messages.push(m), (s) => A.states.push(s),
            (e) => A.errors.push(e), LogStreams.FORMAT_JSON);
        A.id = ra.data.id;
        await api.logStreams.addDevice(A.id, S.dev1);
        await waitFor(() => A.states.some((s) => s.includes('subscribed')), 5000, 'A subscribed');
        const rb = await api.logStreams.create((m) => B.messages.push(m), (s) => B.states.push(s),
            (e) => B.errors.push(e), LogStreams.FORMAT_JSON);
        B.id = rb.data.id;
        await waitFor(() => A.states.some((s) => JSON.parse(s).state === 'closed'), 5000, '"closed" on the older stream');
        await waitFor(() => A.errors.length > 0, 6000, 'the reconnect of the destroyed stream to fail');
        check(A.errors[0].statusCode === 404, `reconnect answered ${A.errors[0].statusCode}, expected 404`);
        await api.logStreams.close(A.id);
        return `older stream: ${JSON.stringify(A.states)}; reconnect -> HTTP ${A.errors[0].statusCode}`;
    }, [S.dev1]);

    // 2) A dropped connection (control surface: logstreams/drop abort) is resumed by the
    //    EventSource's automatic re-GET, with the subscriptions announced again.
    await op('logStreams: automatic resume after a dropped connection', async () => {
        await api.logStreams.addDevice(B.id, S.dev1);
        await waitFor(() => B.states.some((s) => s.includes('subscribed')), 5000, 'B subscribed');
        const dropped = await control('POST', '/logstreams/drop', { mode: 'abort' });
        check(dropped && dropped.connections >= 1, 'one connection dropped: ' + JSON.stringify(dropped));
        const opened = () => B.states.filter((s) => JSON.parse(s).state === 'opened').length;
        await waitFor(() => opened() >= 2, 6000, 'the stream to be reopened by the EventSource');
        await waitFor(() => B.states.filter((s) => JSON.parse(s).state === 'subscribed').length >= 2, 3000,
            'the subscription to be announced again');
        const before = B.messages.length;
        await api.devices.restart(S.dev1);
        await waitFor(() => B.messages.slice(before).some((m) => m.includes('Device restarting')), 8000,
            'a message after the resume');
        check(B.errors.length === 0, 'no stream errors: ' + B.errors.map(describeError).join('; '));
        await api.logStreams.close(B.id);
        return `states: ${JSON.stringify(B.states.map((s) => JSON.parse(s).state))}`;
    }, [B.id]);

    // --- webhooks ------------------------------------------------------------------------------
    await op('webhooks.create', async () => {
        const r = await api.webhooks.create(G.dev, DeviceGroups.TYPE_DEVELOPMENT, {
            url: ORIGIN + '/_emulator/sink/deployment', event: Webhooks.EVENT_DEPLOYMENT,
            content_type: Webhooks.CONTENT_TYPE_JSON,
        });
        check(r.data.type === 'webhook' && relId(r.data, 'devicegroup') === G.dev, 'webhook');
        S.hook1 = r.data.id;
        const r2 = await api.webhooks.create(G.prod, DeviceGroups.TYPE_PRODUCTION, {
            url: ORIGIN + '/_emulator/sink/blessing', event: Webhooks.EVENT_BLESSING,
            content_type: Webhooks.CONTENT_TYPE_WWW_FORM,
        });
        check(r2.data.attributes.event === 'blessing', 'blessing hook');
        S.hook2 = r2.data.id;
        await expectApiError(api.webhooks.create(G.dev, DeviceGroups.TYPE_DEVELOPMENT, {
            url: 'https://example.com/x', event: Webhooks.EVENT_BLINKUP, content_type: Webhooks.CONTENT_TYPE_JSON,
        }), 400, 'VX113');
        return `${S.hook1}, ${S.hook2}`;
    }, [G.dev, G.prod]);

    await op('webhooks.get', async () => {
        const r = await api.webhooks.get(S.hook1);
        check(r.data.attributes.url === ORIGIN + '/_emulator/sink/deployment', 'url');
        return r.data.attributes.event;
    }, [S.hook1]);

    await op('webhooks.list', async () => {
        const r = await api.webhooks.list({ [Webhooks.FILTER_DEVICE_GROUP_ID]: G.dev });
        check(JSON.stringify(ids(r.data)) === JSON.stringify([S.hook1]), 'filter devicegroup.id');
        const all = await listAll((n, s) => api.webhooks.list(null, n, s), 1);
        check(ids(all.items).includes(S.hook2), 'both via paging');
        return `${all.items.length} webhooks`;
    }, [S.hook1, S.hook2]);

    await op('webhooks.update', async () => {
        const r = await api.webhooks.update(S.hook1, { url: 'https://example.com/other', content_type: Webhooks.CONTENT_TYPE_WWW_FORM });
        check(r.data.attributes.url === 'https://example.com/other', 'url');
        check(r.data.attributes.content_type === Webhooks.CONTENT_TYPE_WWW_FORM, 'content_type');
        return 'updated';
    }, [S.hook1]);

    await op('webhooks.delete', async () => {
        await api.webhooks.delete(S.hook1);
        await api.webhooks.delete(S.hook2);
        await expectApiError(api.webhooks.get(S.hook1), 404, 'NF100');
        return 'deleted';
    }, [S.hook1, S.hook2]);

    // --- cleanup: groups, products -------------------------------------------------------------
    await op('deviceGroups.delete', async () => {
        await expectApiError(api.deviceGroups.delete(G.prod), 409, 'CX104'); // target of the fixture
        const order = ['fixture', 'prefixture', 'prod', 'prod2', 'dut', 'preprod', 'predut', 'dev'];
        for (const k of order) await api.deviceGroups.delete(G[k]);
        await expectApiError(api.deviceGroups.get(G.dev), 404, 'NF100');
        await expectApiError(api.deployments.get(S.dep3), 404, 'NF100');
        return `${order.length} groups deleted (their deployments with them)`;
    }, Object.values(G).length === 8 ? [true] : [false]);

    await op('products.delete', async () => {
        await api.products.delete(S.product);
        await api.products.delete(S.collabProduct);
        await expectApiError(api.products.get(S.product), 404, 'NF100');
        return 'both products deleted';
    }, [S.product, S.collabProduct]);

    await op('products.delete (has groups -> 409)', async () => {
        const e = await expectApiError(api.products.delete(S.alpha), 409, 'CX102');
        return e.message;
    }, [S.alpha]);

    return finish();
}

function finish() {
    const passed = results.filter((r) => r.ok).length;
    const failed = results.length - passed;
    console.log(`${passed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
}

main().then((code) => {
    // open keep-alive sockets / event sources would keep node alive
    process.exit(code);
}, (e) => {
    console.log(JSON.stringify({ op: 'run_all', ok: false, detail: describeError(e) }));
    console.log(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
    process.exit(1);
});
