#!/usr/bin/env node
// driver.mjs -- a headless Chromium the Python tests command step by step.
//
// Debian's chromium (CHROMIUM, default /usr/bin/chromium) driven by
// playwright-core; no browser is downloaded. One JSON object a line on
// stdin, one answer a line on stdout:
//
//   -> {"id": 1, "op": "open", "url": "http://127.0.0.1:8000/", "width": 1280,
//       "height": 900}
//   <- {"id": 1, "ok": true, "result": null}
//   <- {"id": 2, "ok": false, "error": "Timeout 5000ms exceeded ..."}
//
// and, unasked, what the page says: {"log": "console", "type": "error",
// "text": "..."} and {"log": "pageerror", "text": "..."}.
//
// Ops: open {url, width, height, mobile, mic, init, routes}, goto {url}, click
// {selector}, fill {selector, value}, press {selector, key}, wait
// {selector, state}, wait_fn {expr, arg} (a JS function body's text,
// waited until truthy; returns its value), eval {expr, arg}, text
// {selector}, attr {selector, name}, count {selector}, screenshot {path,
// full_page}, viewport {width, height}, close, quit. Every op takes
// "timeout" (ms, default 10000).
//
// open's "init" is a script run before the page's own; "routes" is a list
// of {pattern, status, body} answered by the browser instead of the
// server (a canned reply, e.g. for an API the service does not have yet).
//
// The browser starts with a fake microphone (a beep) and no permission
// prompt, so Talk can be tested: --use-fake-ui-for-media-stream
// --use-fake-device-for-media-stream.

import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const EXE = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
];

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

let browser = null;
let context = null;
let page = null;

async function open({ url, width = 1280, height = 900, mobile = false,
                      mic = true, init = null, routes = [], timeout }) {
  if (context) await context.close();
  context = await browser.newContext({
    viewport: { width, height },
    deviceScaleFactor: mobile ? 2 : 1,
    isMobile: mobile,
    hasTouch: mobile,
  });
  if (mic)
    await context.grantPermissions(['microphone'], { origin: new URL(url).origin });
  page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on('console', (m) => send({ log: 'console', type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => send({ log: 'pageerror', text: String(e && e.stack || e) }));
  page.on('requestfailed', (r) =>
    send({ log: 'requestfailed', text: `${r.method()} ${r.url().replace(/token=[^&]*/, 'token=…')}: ${r.failure()?.errorText}` }));
  if (init) await page.addInitScript(init);
  for (const r of routes)
    await page.route(r.pattern, (route) => route.fulfill({
      status: r.status ?? 200, contentType: 'application/json',
      body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body),
    }));
  await page.goto(url);
  return null;
}

function fn(expr) {
  // "expr" is the body of a function of one argument, "arg"
  // eslint-disable-next-line no-new-func
  return new Function('arg', expr);
}

const ops = {
  open,
  goto: ({ url }) => page.goto(url).then(() => null),
  click: ({ selector, timeout }) => page.click(selector, { timeout }),
  fill: ({ selector, value, timeout }) => page.fill(selector, value, { timeout }),
  press: ({ selector, key, timeout }) => page.press(selector, key, { timeout }),
  wait: ({ selector, state = 'visible', timeout }) =>
    page.waitForSelector(selector, { state, timeout }).then(() => null),
  wait_fn: async ({ expr, arg = null, timeout }) => {
    const h = await page.waitForFunction(fn(expr), arg, { timeout, polling: 50 });
    return h.jsonValue();
  },
  eval: ({ expr, arg = null }) => page.evaluate(fn(expr), arg),
  text: ({ selector, timeout }) => page.textContent(selector, { timeout }),
  attr: ({ selector, name, timeout }) => page.getAttribute(selector, name, { timeout }),
  count: ({ selector }) => page.locator(selector).count(),
  screenshot: ({ path, full_page = true }) =>
    page.screenshot({ path, fullPage: full_page, animations: 'disabled' }).then(() => path),
  viewport: ({ width, height }) => page.setViewportSize({ width, height }),
  close: async () => {
    if (context) await context.close();
    context = page = null;
    return null;
  },
};

async function main() {
  try {
    browser = await chromium.launch({ executablePath: EXE, headless: true, args: ARGS });
  } catch (e) {
    send({ ready: false, error: `cannot start ${EXE}: ${e.message}` });
    process.exit(1);
  }
  send({ ready: true, version: browser.version() });

  const rl = createInterface({ input: process.stdin });
  // one op at a time, in order
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        send({ ok: false, error: 'not JSON: ' + line });
        return;
      }
      if (msg.op === 'quit') {
        await browser.close().catch(() => {});
        send({ id: msg.id, ok: true, result: null });
        process.exit(0);
      }
      const op = ops[msg.op];
      if (!op) {
        send({ id: msg.id, ok: false, error: 'unknown op ' + msg.op });
        return;
      }
      if (msg.op !== 'open' && !page) {
        send({ id: msg.id, ok: false, error: 'no page: open one first' });
        return;
      }
      try {
        const result = await op({ timeout: 10000, ...msg });
        send({ id: msg.id, ok: true, result: result === undefined ? null : result });
      } catch (e) {
        send({ id: msg.id, ok: false, error: String(e && e.message || e) });
      }
    });
  });
  rl.on('close', async () => {
    await chain;
    await browser.close().catch(() => {});
    process.exit(0);
  });
}

main();
