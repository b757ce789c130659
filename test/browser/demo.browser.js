'use strict';
// The `npm start` demo in a real browser: Chromium loads the page, and its own script (not ours) talks to
// the weft server. We only type, click and read the page, as a person would.
const assert = require('assert');
const { startDemo } = require('../../dist/demo/main');
const { launchChromium } = require('./harness');

const WAIT = { timeout: 30000 };

describe('demo page in Chromium (npm start)', () => {
  let browser;
  let server;
  let url;
  const pageErrors = [];

  before(async () => {
    browser = await launchChromium();
    server = await startDemo(0);
    url = `http://127.0.0.1:${server.address().port}/`;
  });

  after(async () => {
    // The browser first: its sockets are upgraded connections, which server.close() would wait for.
    if (browser) await browser.close();
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    }
  });

  async function openPage() {
    const page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err));
    const res = await page.goto(url);
    assert.strictEqual(res.status(), 200);
    return page;
  }

  /** The chat log's lines, as the page shows them. */
  const logLines = (page) => page.locator('#log > div').allTextContents();
  const logLine = (page, text) => page.locator('#log > div').filter({ hasText: text });

  it('names, own messages marked, broadcast, counters, binary echo, reconnect after a drop, and /close', async () => {
    const a = await openPage();
    const b = await openPage();
    try {
      for (const page of [a, b]) {
        await page.locator('#status', { hasText: 'connected' }).waitFor(WAIT);
        await logLine(page, 'welcome to weft, you are guest-').waitFor(WAIT);
        assert.strictEqual(await page.evaluate(() => window.demoSocket.readyState), 1);
        assert.strictEqual(await page.evaluate(() => window.demoSocket.binaryType), 'arraybuffer');
        assert.strictEqual(await page.evaluate(() => window.demoSocket.url), url.replace(/^http:/, 'ws:') + 'chat');
      }

      // A name: typed, then announced to the others.
      const guestA = (await a.locator('#name').getAttribute('placeholder')).trim();
      assert.match(guestA, /^guest-\d+$/);
      await a.locator('#name').fill('alice');
      await a.locator('#name').press('Tab');
      await logLine(b, `${guestA} is now alice`).waitFor(WAIT);

      // Typing and submitting: both tabs show it; the sender's copy is marked as its own.
      await a.locator('#msg').fill('hello from chromium — ünïcödé ✓');
      await a.locator('#msg').press('Enter');
      for (const page of [a, b]) await logLine(page, 'hello from chromium — ünïcödé ✓').waitFor(WAIT);
      assert.strictEqual(await a.locator('#msg').inputValue(), '');
      const mine = logLine(a, 'hello from chromium');
      assert.strictEqual(await mine.getAttribute('class'), 'me');
      assert.strictEqual(await mine.locator('.who').textContent(), 'alice (you)');
      const theirs = logLine(b, 'hello from chromium');
      assert.notStrictEqual(await theirs.getAttribute('class'), 'me');
      assert.strictEqual(await theirs.locator('.who').textContent(), 'alice');
      await b.locator('#msg').fill('and back from the other tab');
      await b.locator('form button').click();
      for (const page of [a, b]) await logLine(page, 'and back from the other tab').waitFor(WAIT);

      // Live counters from the stats topic.
      for (const page of [a, b]) await page.locator('#connections', { hasText: /^2$/ }).waitFor(WAIT);
      assert.match(await a.locator('#rate').textContent(), /^\d+$/);

      // Binary: echoed to the sender only, rendered as its bytes.
      await a.locator('#bin').click();
      await logLine(a, 'binary: [1, 2, 3, 4]').waitFor(WAIT);
      assert.ok(!(await logLines(b)).some((l) => l.startsWith('binary:')));

      // The server drops every connection: both pages reconnect by themselves and are welcomed again.
      // Each status the pages show on the way is recorded (they pass too fast to catch by polling).
      for (const page of [a, b]) {
        await page.evaluate(() => {
          const status = document.getElementById('status');
          window.statusSeen = [];
          new MutationObserver(() => window.statusSeen.push(status.textContent)).observe(status, {
            childList: true,
            characterData: true,
            subtree: true,
          });
        });
      }
      for (const ws of server.wss.clients) ws.terminate();
      for (const page of [a, b]) {
        await page.locator('#log > div', { hasText: /^welcome to weft/ }).nth(1).waitFor(WAIT);
        await page.locator('#status', { hasText: /^connected$/ }).waitFor(WAIT);
        const seen = await page.evaluate(() => window.statusSeen);
        assert.match(seen[0], /^disconnected \(1006\); reconnecting in \d+\.\d s$/, JSON.stringify(seen));
        assert.ok(seen.includes('reconnecting…'), JSON.stringify(seen));
        assert.strictEqual(seen[seen.length - 1], 'connected');
      }
      // a's page sends its name again on the new connection (b may not be back yet to see it).
      await a.locator('#log > div', { hasText: / is now alice$/ }).nth(1).waitFor(WAIT);

      // '/close': the server closes this tab with 4000 and a reason; it stays closed, the other tab is fine.
      await a.locator('#msg').fill('/close');
      await a.locator('#msg').press('Enter');
      await a.locator('#status', { hasText: 'closed: 4000 closed on request' }).waitFor(WAIT);
      assert.strictEqual(await a.evaluate(() => window.demoSocket.readyState), 3);
      assert.ok(!(await logLines(a)).some((l) => l.endsWith('/close')), "'/close' is a command, not broadcast");

      await b.locator('#msg').fill('b is still here');
      await b.locator('#msg').press('Enter');
      await logLine(b, 'b is still here').waitFor(WAIT);
      assert.strictEqual(await b.locator('#status').textContent(), 'connected');
      assert.strictEqual(await a.locator('#status').textContent(), 'closed: 4000 closed on request');
      assert.strictEqual(await a.evaluate(() => window.demoSocket.readyState), 3);
      assert.deepStrictEqual(pageErrors, []);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
