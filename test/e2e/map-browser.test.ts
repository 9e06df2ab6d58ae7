// The map page in a real headless Chromium (Debian's `chromium`, driven by
// playwright-core) against a real server fed by the simulated fleet: the page
// loads without console errors and asks nothing of any other host, draws the
// roads and the drivers, the drivers move, a click draws the answer and keeps
// it live (one watch open on the server, closed by the next click or map).
// FAROS_MAP_SCREENSHOT=docs/map-page.png keeps the screenshot (the README's).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { boot, POINTS, type Booted } from './helpers.js';
import { loadMap } from '../../src/mapbuild/build.js';
import { loadCatalog } from '../../src/mapbuild/catalog.js';
import { runSimFleet } from '../../src/cli/fleet.js';

// Functions passed to page.evaluate run in the page: its globals, typed loosely here (no DOM lib in this project).
declare const document: any;
declare const Event: any;

const CHROMIUM = process.env.FAROS_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (apt-get install chromium, or set FAROS_CHROMIUM)`;
if (skip) console.log(`map-browser.test skipped: ${skip}`);

const M = 'monaco-car';
let srv: Booted | undefined;
let browser: Browser | undefined;
let fleet: { stop: () => void } | undefined;

/** A sample of the server's /metrics, e.g. faros_watches_open (0 when absent). */
async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${srv!.http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

async function until(what: string, ok: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  if (skip) return;
  srv = await boot(['--map', M]);
  const e = loadCatalog().find((m) => m.id === M)!;
  fleet = runSimFleet({ baseUrl: srv.http, mapId: M, graph: await loadMap(e.file, e.profile, { shared: false }), drivers: 300, seed: 3 });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});
after(async () => {
  fleet?.stop();
  await browser?.close();
  if (srv) assert.equal(await srv.stop(), 0);
});

test('the map page in Chromium: roads, moving drivers, a click answered', { skip, timeout: 90_000 }, async () => {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
  page.on('requestfailed', (r) => {
    // The page closing an event stream (a watch on a new click, both on choosing a map) aborts that request: expected.
    if (/\/v1\/nearby:watch\?|\/v1\/maps\/[^/]+\/live$/.test(r.url()) && r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(`${srv!.http}/`) && !r.url().startsWith('data:')) problems.push(`request to another host: ${r.url()}`);
  });
  await page.goto(`${srv!.http}/?map=${M}`, { waitUntil: 'load' });
  await page.waitForFunction(() => Number(document.body.dataset.roads) > 1000 && Number(document.body.dataset.drivers) >= 300, undefined, { timeout: 20_000 });

  // The roads are drawn: the map's canvas has many non-background pixels.
  const inked = await page.evaluate(() => {
    let n = 0;
    for (const c of document.querySelectorAll('#map canvas')) {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    }
    return n;
  });
  assert.ok(inked > 10_000, `${inked} pixels drawn`);

  // Drivers move as updates arrive (the fleet reports every second).
  const before = await page.evaluate(() => JSON.stringify([...(globalThis as any).faros.state.markers.values()].slice(0, 20).map((m: any) => m.getLatLng())));
  await page.waitForFunction(
    (b: string) => JSON.stringify([...(globalThis as any).faros.state.markers.values()].slice(0, 20).map((m: any) => m.getLatLng())) !== b,
    before,
    { timeout: 10_000 },
  );

  // A click near a road of the centre: K = 5 drivers listed, their paths drawn, the straight-line K beside.
  const at = await page.evaluate((p: { lat: number; lng: number }) => {
    const map = (globalThis as any).faros.map;
    map.setView([p.lat, p.lng], 15, { animate: false });
    const pt = map.latLngToContainerPoint([p.lat, p.lng]);
    const r = document.querySelector('#map')!.getBoundingClientRect();
    return { x: r.x + pt.x, y: r.y + pt.y };
  }, POINTS.monaco);
  await page.mouse.click(at.x, at.y);
  await page.waitForFunction(() => document.body.dataset.answered === '1', undefined, { timeout: 15_000 });
  const shown = await page.evaluate(() => ({
    road: [...document.querySelectorAll('#road-k li')].map((li: any) => li.textContent as string),
    line: [...document.querySelectorAll('#line-k li')].map((li: any) => li.textContent as string),
    paths: Number(document.body.dataset.paths),
    summary: document.querySelector('#summary')!.textContent,
    settled: document.querySelector('#settled')!.textContent,
    note: document.querySelector('#note')!.textContent,
  }));
  assert.equal(shown.road.length, 5, JSON.stringify(shown));
  assert.equal(shown.paths, 5);
  assert.ok(
    shown.road.every((t) => /^sim-\d+ — \d+ m, \d+ s$/.test(t ?? '')),
    JSON.stringify(shown.road),
  );
  assert.equal(shown.line.length, 5);
  assert.match(shown.summary ?? '', /^\d of the 5 nearest by straight line (is|are) not among the 5 nearest by road\.$/);
  assert.match(shown.settled ?? '', /^\d+ \(found 5 of 5/);
  assert.equal(shown.note, '');

  // The answer is live: marked so, one watch open on the server, and messages arriving as the fleet moves.
  await page.waitForFunction(() => document.body.dataset.watching === 'live' && !document.querySelector('#live').hidden, undefined, { timeout: 10_000 });
  await until('one watch open', async () => (await metric('faros_watches_open')) === 1);
  await page.waitForFunction(() => Number(document.body.dataset.watchMessages) >= 2, undefined, { timeout: 20_000 });
  // A second click closes the first watch and opens another (live = the server counts it: one open means the first is gone); choosing a map closes that one.
  await page.mouse.click(at.x + 40, at.y + 20);
  await page.waitForFunction(() => document.body.dataset.answered === '2' && document.body.dataset.watching === 'live', undefined, { timeout: 15_000 });
  await until('the first watch closed, the second open', async () => (await metric('faros_watches_open')) === 1);
  await page.evaluate(() => document.querySelector('#map-select').dispatchEvent(new Event('change')));
  await until('no watch open after choosing a map', async () => (await metric('faros_watches_open')) === 0);
  assert.equal(await page.evaluate(() => document.body.dataset.watching), '');
  await page.waitForFunction(() => /drivers live/.test(document.querySelector('#status').textContent), undefined, { timeout: 20_000 });

  // Back to the first click's answer for the screenshot.
  await page.evaluate((p: { lat: number; lng: number }) => {
    (globalThis as any).faros.map.setView([p.lat, p.lng], 15, { animate: false });
  }, POINTS.monaco);
  await page.mouse.click(at.x, at.y);
  await page.waitForFunction(() => document.body.dataset.answered === '3' && document.body.dataset.watching === 'live', undefined, { timeout: 15_000 });
  await new Promise((r) => setTimeout(r, 300));
  const file = process.env.FAROS_MAP_SCREENSHOT ?? join(tmpdir(), `faros-map-page-${process.pid}.png`);
  await page.screenshot({ path: file });
  console.log(`map-browser.test: ${inked} road pixels, answer ${JSON.stringify(shown.road)}; ${shown.summary}; screenshot ${file}`);
  assert.deepEqual(problems, []);
});
