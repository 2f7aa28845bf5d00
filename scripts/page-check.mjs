#!/usr/bin/env node
// page-check.mjs URL [SCREENSHOT.png]
//
// Checks the seed app's page the way a person would, with two browser
// windows side by side: a click on the counter in one shows up in the
// other, and so do a chat message, a room message and a thing added and
// deleted through the page. Uses Debian's Chromium (no browser download).
// Exits 0 on success; otherwise prints what failed and exits 1.

import { chromium } from 'playwright-core';

const [url, screenshot] = process.argv.slice(2);
if (!url) {
  console.error('usage: page-check.mjs URL [SCREENSHOT.png]');
  process.exit(2);
}

const CHROMIUM = process.env.SIOSIM_CHROMIUM || '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 15000;

function step(name, fn) {
  return fn().catch((err) => {
    throw new Error(`step "${name}" failed: ${err && err.message}`);
  });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives every launch a fresh temporary profile; these flags
    // keep Chromium from reaching for the network on its own.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const pageErrors = [];
  try {
    // Two contexts = two independent windows (no shared storage).
    const windows = [];
    for (const name of ['one', 'two']) {
      const context = await browser.newContext({ viewport: { width: 1200, height: 820 } });
      const page = await context.newPage();
      page.setDefaultTimeout(STEP_TIMEOUT_MS);
      page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') pageErrors.push(`${name}: console: ${msg.text()}`);
      });
      await page.goto(url);
      windows.push(page);
    }
    const [one, two] = windows;

    await step('both windows connect', async () => {
      for (const page of windows) await page.waitForSelector('#status.online');
    });

    await step('a click in one window updates the count in the other', async () => {
      await two.waitForFunction(() => /^\d+$/.test(document.getElementById('count').textContent));
      const before = Number(await two.textContent('#count'));
      await one.click('#counter');
      const want = String(before + 1);
      await two.waitForFunction((n) => document.getElementById('count').textContent === n, want);
      await one.waitForFunction((n) => document.getElementById('count').textContent === n, want);
    });

    await step('a chat message sent in one window appears in the other', async () => {
      const text = `hello from window one ${Date.now()}`;
      await one.fill('#chat-input', text);
      await one.press('#chat-input', 'Enter');
      await two.waitForFunction(
        (t) => [...document.querySelectorAll('#messages li')].some((li) => li.textContent === t),
        text,
      );
    });

    await step('a room message reaches the other window once both joined', async () => {
      for (const page of windows) {
        await page.fill('#room-name', 'lobby');
        await page.click('#join');
        await page.waitForFunction(() => document.getElementById('joined').textContent.includes('lobby'));
      }
      await one.fill('#room-input', 'hi lobby');
      await one.press('#room-input', 'Enter');
      await two.waitForFunction(() =>
        [...document.querySelectorAll('#room-messages li')].some((li) => li.textContent.endsWith('hi lobby')),
      );
    });

    await step('a thing added in one window appears in the other, and its deletion too', async () => {
      const name = `lamp-${Date.now()}`;
      await one.fill('#thing-name', name);
      await one.fill('#thing-info', 'on the desk');
      await one.press('#thing-info', 'Enter');
      const item = `#things li:has-text("${name}")`;
      await two.waitForSelector(item);
      await two.click(`${item} button`);
      await one.waitForSelector(item, { state: 'detached' });
      await two.waitForSelector(item, { state: 'detached' });
      // Leave one thing behind so a screenshot shows the list in use.
      await one.fill('#thing-name', 'kettle');
      await one.press('#thing-name', 'Enter');
      await two.waitForSelector('#things li:has-text("kettle")');
    });

    if (screenshot) await two.screenshot({ path: screenshot, fullPage: true });
    if (pageErrors.length) throw new Error(`errors in the page:\n${pageErrors.join('\n')}`);
  } finally {
    await browser.close();
  }
}

main().then(
  () => {
    console.log('page-check: ok');
    process.exit(0);
  },
  (err) => {
    console.error(`page-check: FAILED: ${err && err.message}`);
    process.exit(1);
  },
);
