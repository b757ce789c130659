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

  it('loads, connects, shows the welcome, broadcasts typed text, echoes binary and closes on /close', async () => {
    const a = await openPage();
    const b = await openPage();
    try {
      for (const page of [a, b]) {
        await page.locator('#status', { hasText: 'connected' }).waitFor(WAIT);
        await logLine(page, 'welcome to weft').waitFor(WAIT);
        assert.strictEqual(await page.evaluate(() => window.demoSocket.readyState), 1);
        assert.strictEqual(await page.evaluate(() => window.demoSocket.binaryType), 'arraybuffer');
      }
      assert.deepStrictEqual(await logLines(a), ['welcome to weft']);

      // Typing and submitting: the sender and the other tab both show it; the input is cleared.
      await a.locator('#msg').fill('hello from chromium — ünïcödé ✓');
      await a.locator('#msg').press('Enter');
      for (const page of [a, b]) await logLine(page, 'hello from chromium — ünïcödé ✓').waitFor(WAIT);
      assert.strictEqual(await a.locator('#msg').inputValue(), '');
      await b.locator('#msg').fill('and back from the other tab');
      await b.locator('form button').click();
      for (const page of [a, b]) await logLine(page, 'and back from the other tab').waitFor(WAIT);

      // Binary: echoed to the sender only, rendered as its bytes.
      await a.locator('#bin').click();
      await logLine(a, 'binary: [1, 2, 3, 4]').waitFor(WAIT);
      assert.deepStrictEqual(await logLines(a), [
        'welcome to weft',
        'hello from chromium — ünïcödé ✓',
        'and back from the other tab',
        'binary: [1, 2, 3, 4]',
      ]);

      // '/close': the server closes this tab with 4000 and a reason; the other tab stays connected.
      await a.locator('#msg').fill('/close');
      await a.locator('#msg').press('Enter');
      await a.locator('#status', { hasText: 'closed: 4000 closed on request' }).waitFor(WAIT);
      assert.strictEqual(await a.locator('#status').textContent(), 'closed: 4000 closed on request');
      assert.strictEqual(await a.evaluate(() => window.demoSocket.readyState), 3);
      assert.ok(!(await logLines(a)).includes('/close'), "'/close' is a command, not broadcast");

      await b.locator('#msg').fill('b is still here');
      await b.locator('#msg').press('Enter');
      await logLine(b, 'b is still here').waitFor(WAIT);
      assert.strictEqual(await b.locator('#status').textContent(), 'connected');
      assert.deepStrictEqual(await logLines(b), [
        'welcome to weft',
        'hello from chromium — ünïcödé ✓',
        'and back from the other tab',
        'b is still here',
      ]);
      assert.deepStrictEqual(pageErrors, []);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
