// What e2e/browser.mjs's flows stand on: the run's settings, reporting,
// watching every page for errors, navigating with status checks, axe-core,
// screenshots, and the mail in the board's outbox folder.

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const BASE = need('BASE');
export const DATA = need('DATA');
export const JOBS = readFileSync(need('EXPORT'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
export const ADMIN_EMAIL = need('ADMIN_EMAIL');
export const ADMIN_PASSWORD = need('ADMIN_PASSWORD');
export const SHOTS = process.env.SHOTS || 'target/e2e-screenshots';
const AXE_SOURCE = readFileSync(join(HERE, 'node_modules/axe-core/axe.min.js'), 'utf8');

export const DESKTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };
const PHONE_CONTEXT = { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
// Unique per run, so addresses and titles never meet an earlier run's.
export const RUN = Date.now().toString(36);

function need(name) {
    const v = process.env[name];
    if (!v) {
        console.error(`browser-check: ${name} is not set (run e2e/browser-check.sh)`);
        process.exit(2);
    }
    return v;
}

// ---------------------------------------------------------------------------
// Reporting

const failures = [];
let warnings = 0;
let where = 'start';

export function fail(message) {
    failures.push(`${where}: ${message}`);
    console.error(`  FAIL ${where}: ${message}`);
}

export class Check extends Error {}

/** Stops the current flow with a clear message. */
export function expect(condition, message) {
    if (!condition) throw new Check(message);
}

export async function flow(name, body) {
    const t0 = Date.now();
    where = name;
    console.log(`flow: ${name}`);
    try {
        await body();
    } catch (e) {
        fail(e instanceof Check ? e.message : `${e.message.split('\n')[0]}`);
        if (!(e instanceof Check)) console.error(e.stack.split('\n').slice(1, 4).join('\n'));
    }
    console.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

// ---------------------------------------------------------------------------
// Watching every page: console errors, uncaught errors, failed requests of our
// own, requests to anyone else.

// Documents that may answer an error status (a 404 page, a refused form):
// Chromium logs "Failed to load resource" for them, which is expected there.
const errorDocuments = new Set();
const consoleErrors = [];

function watch(context, actor) {
    context.on('console', (msg) => {
        if (msg.type() === 'error') {
            consoleErrors.push({ where, actor, text: msg.text(), url: msg.location().url || '' });
        }
    });
    context.on('weberror', (e) => fail(`uncaught error in the page (${actor}): ${e.error().message}`));
    context.on('requestfailed', (req) => {
        const failure = req.failure()?.errorText || '';
        // Aborted is cancelled, not failed: a request still running when
        // its page is left (the favicon often is). An error status is
        // caught below, a refused connection or a broken response here.
        if (req.url().startsWith(BASE) && failure !== 'net::ERR_ABORTED') {
            fail(`request failed (${actor}): ${req.method()} ${req.url()}: ${failure}`);
        }
    });
    context.on('response', (res) => {
        const req = res.request();
        if (res.url().startsWith(BASE) && !req.isNavigationRequest() && res.status() >= 400) {
            fail(`${res.status()} for ${req.resourceType()} ${res.url()} (${actor})`);
        }
    });
    // No third-party request ever. Following a link to another site is
    // answered with a stand-in page here (no network needed).
    context.route(
        (url) => !url.href.startsWith(BASE),
        (route) => {
            const req = route.request();
            if (req.isNavigationRequest() && req.frame().parentFrame() === null) {
                return route.fulfill({
                    contentType: 'text/html',
                    body: '<!doctype html><html lang="en"><title>Elsewhere</title><h1>The employer\'s page</h1></html>',
                });
            }
            fail(`third-party request (${actor}): ${req.resourceType()} ${req.url()}`);
            return route.abort();
        },
    );
}

function checkConsole() {
    for (const e of consoleErrors) {
        const expected = /^Failed to load resource: the server responded with a status of (400|404|422)\b/.test(e.text)
            && errorDocuments.has(e.url);
        if (!expected) {
            where = e.where;
            fail(`console error (${e.actor}): ${e.text}${e.url ? ` at ${e.url}` : ''}`);
        }
    }
}

// ---------------------------------------------------------------------------
// Navigating

export async function open(page, path, status = 200) {
    const res = await page.goto(path.startsWith('http') ? path : BASE + path);
    expect(res, `no response for ${path}`);
    if (status >= 400) errorDocuments.add(res.url());
    expect(res.status() === status, `${path} answered ${res.status()}, expected ${status}`);
    return res;
}

/**
 * Runs `action` (a click, a key press) and waits for the page it leads to,
 * after any redirect, checking that page's status.
 */
async function go(page, action, status = 200) {
    const response = page.waitForResponse((r) => r.request().isNavigationRequest()
        && r.frame() === page.mainFrame() && !(r.status() >= 300 && r.status() < 400));
    const loaded = page.waitForEvent('load');
    // When the action itself fails, these waits fail later: that is not news.
    response.catch(() => {});
    loaded.catch(() => {});
    await action();
    const res = await response;
    await loaded;
    if (status >= 400) errorDocuments.add(res.url());
    expect(res.status() === status, `${res.request().method()} ${res.url()} answered ${res.status()}, expected ${status}`);
    return res;
}

export const click = (page, locator, status) => go(page, () => locator.click(), status);

async function heading(page) {
    return (await page.locator('h1').first().innerText()).trim();
}

export async function expectHeading(page, want) {
    const h1 = await heading(page);
    const ok = want instanceof RegExp ? want.test(h1) : h1 === want;
    expect(ok, `the page's heading is "${h1}", expected ${want instanceof RegExp ? want : `"${want}"`} (${page.url()})`);
}

export async function expectText(page, text, locator = page.locator('main')) {
    const got = await locator.innerText();
    const ok = text instanceof RegExp ? text.test(got) : got.includes(text);
    expect(ok, `"${text}" is not on ${page.url()}`);
}

// ---------------------------------------------------------------------------
// Accessibility, phone layout, screenshots

const audited = [];

const spent = { axe: 0, screenshots: 0 };

/**
 * axe-core at desktop and phone widths (and its contrast rule once more in the
 * dark colour scheme), and no sideways scrolling on a phone.
 */
export async function audit(page, name) {
    const t0 = Date.now();
    audited.push(name);
    const before = where;
    where = `${before} [${name}]`;
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
        // The pages' CSP (script-src 'self') refuses an injected <script>, so
        // axe is evaluated through the DevTools protocol, which CSP leaves alone.
        await page.evaluate(AXE_SOURCE);
    }
    for (const [width, size, scheme] of [['desktop', DESKTOP, 'light'], ['phone', PHONE, 'light'], ['dark desktop', DESKTOP, 'dark']]) {
        await page.setViewportSize(size);
        await page.emulateMedia({ colorScheme: scheme });
        // Buttons fade to their new colours: measure the colours they end with.
        await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
        // In the dark scheme only colours change: the contrast rule is all that can tell.
        const options = scheme === 'dark' ? { resultTypes: ['violations'], runOnly: ['color-contrast'] } : { resultTypes: ['violations'] };
        const results = await page.evaluate((o) => window.axe.run(document, o), options);
        for (const v of results.violations) {
            const serious = v.impact === 'serious' || v.impact === 'critical';
            const targets = v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(' | ');
            const line = `axe ${v.impact} ${v.id} at ${width} width on ${page.url()}: ${v.help} — ${targets}`
                + `${v.nodes.length > 5 ? ` (and ${v.nodes.length - 5} more)` : ''} — ${v.helpUrl}`;
            if (serious) {
                fail(line);
                for (const n of v.nodes.slice(0, 3)) console.error(`      ${n.failureSummary.replace(/\n/g, ' ')}`);
            } else {
                warnings++;
                console.log(`  warning ${where}: ${line}`);
            }
        }
        if (width === 'phone') {
            const overflow = await page.evaluate(() => {
                const w = document.documentElement.clientWidth;
                if (document.documentElement.scrollWidth <= w) return null;
                const wide = [];
                for (const el of document.querySelectorAll('body *')) {
                    const r = el.getBoundingClientRect();
                    if (r.right > w + 1 && r.width > 0) {
                        wide.push(`${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''} (${Math.round(r.right)} px)`);
                    }
                }
                return { width: document.documentElement.scrollWidth, wide: wide.slice(0, 5) };
            });
            if (overflow) fail(`at phone width the page scrolls sideways (${overflow.width} px wide): ${overflow.wide.join(', ')}`);
        }
    }
    await page.setViewportSize(DESKTOP);
    await page.emulateMedia({ colorScheme: 'light' });
    where = before;
    spent.axe += Date.now() - t0;
}

let browser;

/** Full-page screenshots at desktop width (this page) and phone width (the same address, same cookies). */
export async function shoot(page, name) {
    const t0 = Date.now();
    await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
    const phone = await browser.newContext({ ...PHONE_CONTEXT, storageState: await page.context().storageState() });
    watch(phone, `${name} on a phone`);
    const p = await phone.newPage();
    await open(p, page.url());
    await p.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
    await phone.close();
    spent.screenshots += Date.now() - t0;
}

// ---------------------------------------------------------------------------
// Mail, read from the board's outbox folder

function decodeBody(body, encoding) {
    switch ((encoding || '').toLowerCase()) {
        case 'base64':
            return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
        case 'quoted-printable':
            return Buffer.from(
                body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
                'latin1',
            ).toString('utf8');
        default:
            return body;
    }
}

/** A MIME message or part: its headers (lower-case names) and its text parts by type. */
function parseMime(raw) {
    const split = raw.search(/\r?\n\r?\n/);
    const head = split < 0 ? raw : raw.slice(0, split);
    const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
    const headers = {};
    for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const type = (headers['content-type'] || 'text/plain').toLowerCase();
    const texts = {};
    if (type.startsWith('multipart/')) {
        const boundary = (headers['content-type'].match(/boundary="?([^";]+)"?/i) || [])[1];
        for (const part of body.split(`--${boundary}`).slice(1)) {
            if (part.startsWith('--')) break;
            Object.assign(texts, parseMime(part.replace(/^\r?\n/, '')).texts);
        }
    } else {
        texts[type.split(';')[0]] = decodeBody(body, headers['content-transfer-encoding']);
    }
    return { headers, texts };
}

/** The plain-text part of the newest email to `to` that contains `pattern`; waits up to 10 s for it. */
export async function mailTo(to, pattern) {
    const folder = join(DATA, 'outbox');
    for (let i = 0; i < 100; i++) {
        let names = [];
        try {
            // Newest first (the names are random).
            names = readdirSync(folder)
                .map((name) => ({ name, at: statSync(join(folder, name)).mtimeMs }))
                .sort((a, b) => b.at - a.at)
                .map((f) => f.name);
        } catch {
            // Not made yet.
        }
        for (const name of names) {
            const mail = parseMime(readFileSync(join(folder, name), 'utf8'));
            const text = mail.texts['text/plain'] || '';
            if ((mail.headers.to || '').includes(to) && pattern.test(text)) return { mail, text };
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Check(`no email to ${to} matching ${pattern} in ${folder} after 10 s`);
}

export function linkIn(text, path) {
    const m = text.match(new RegExp(`https?://\\S*${path}\\S*`));
    expect(m, `no ${path} link in the email:\n${text}`);
    return m[0];
}

// ---------------------------------------------------------------------------
// Helpers for the board's controls

export async function search(page, words) {
    if (await page.getByRole('searchbox', { name: 'Search jobs' }).count() === 0) {
        await click(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }));
    }
    await page.getByRole('searchbox', { name: 'Search jobs' }).fill(words);
    await go(page, () => page.getByRole('searchbox', { name: 'Search jobs' }).press('Enter'));
    const url = new URL(page.url());
    expect(url.pathname === '/jobs' && url.searchParams.get('q') === words, `searching for "${words}" led to ${page.url()}`);
}

/** The number in the results heading ("12 jobs"). */
export async function resultCount(page) {
    const text = await page.locator('#results-heading').innerText();
    const m = text.match(/^(\d+) jobs?$/);
    expect(m, `the results heading says "${text}"`);
    return Number(m[1]);
}

export async function signIn(page, email, password, status = 200) {
    await page.getByLabel(field('Email')).fill(email);
    await page.getByLabel(field('Password')).fill(password);
    await click(page, page.getByRole('button', { name: 'Sign in' }), status);
}

/** A field's label: its text, then " (required)" on required fields. */
export const field = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\(required\\))?$`);

export const jobId = (url) => Number(new URL(url).pathname.match(/^\/jobs\/(\d+)/)?.[1]);
export const jobById = (id) => JOBS.find((j) => j.id === id);

// ---------------------------------------------------------------------------
// The browser and its people

/** Starts the one browser of the run; `actor` gives each person a context of their own. */
export async function launch() {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    return browser;
}

export const contexts = {};

export async function actor(name) {
    const context = await browser.newContext({ viewport: DESKTOP });
    context.setDefaultTimeout(10_000);
    watch(context, name);
    contexts[name] = context;
    return context.newPage();
}

/** Prints what the run found; the exit status. */
export function summary(started) {
    checkConsole();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`browser-check: ${audited.length} pages checked with axe-core at ${DESKTOP.width} and ${PHONE.width} px (and dark), `
        + `${warnings} moderate or minor warnings, screenshots in ${SHOTS}/ `
        + `(${seconds} s: axe ${(spent.axe / 1000).toFixed(1)} s, screenshots ${(spent.screenshots / 1000).toFixed(1)} s)`);
    if (failures.length) {
        console.error(`browser-check: ${failures.length} failures:`);
        for (const f of failures) console.error(`  - ${f}`);
        return 1;
    }
    console.log('browser-check: all flows passed');
    return 0;
}
