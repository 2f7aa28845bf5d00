#!/usr/bin/env node
// report-check.mjs PAGE.html
//
// Opens siosim's HTML report in headless Chromium (Debian's, no browser
// download), clicks each label of the verdict filter and prints, as one JSON
// object on stdout, what is visible for each choice:
//   {"requests": [...], "choices": {"all": {"rows": N, "traces": N, "tracesHeading": bool}, ...}}
// The Rust test judges the numbers. Exits 1 with a message if the page
// cannot be driven.

import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: report-check.mjs PAGE.html');
  process.exit(2);
}

const CHROMIUM = process.env.SIOSIM_CHROMIUM || '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 15000;

async function main() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const url = pathToFileURL(file).href;
    // Anything but the page itself is an external asset.
    const requests = [];
    page.on('request', (request) => {
      if (request.url() !== url) requests.push(request.url());
    });
    await page.goto(url);
    const choices = {};
    const ids = await page.$$eval('div.filtered > input[type=radio]', (inputs) => inputs.map((i) => i.id));
    for (const id of ids) {
      await page.click(`label[for="${id}"]`);
      const checked = await page.$eval(`#${id}`, (input) => input.checked);
      if (!checked) throw new Error(`clicking the label of ${id} did not check it`);
      choices[id.replace(/^show-/, '')] = await page.evaluate(() => {
        const visible = (element) => element.getClientRects().length > 0;
        const heading = document.querySelector('h2.traces');
        return {
          rows: [...document.querySelectorAll('table.cases tbody tr')].filter(visible).length,
          traces: [...document.querySelectorAll('section.trace')].filter(visible).length,
          tracesHeading: heading !== null && visible(heading),
        };
      });
    }
    console.log(JSON.stringify({ requests, choices }));
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
