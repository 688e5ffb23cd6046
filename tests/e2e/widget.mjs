// Drives the hosted connect widget in headless Chromium, as an end user would: open the widget
// session's URL, pick a provider, allow access on the demo provider's consent page, and report
// where the browser lands. Usage: node widget.mjs <widget-url> <provider-id> <demo-account>
import { chromium } from 'playwright-core';

const [widgetUrl, provider, account] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
try {
  const page = await browser.newPage();
  await page.goto(widgetUrl);
  const choices = await page.locator('a.provider').evaluateAll(
    (links) => links.map((link) => link.dataset.provider),
  );
  const logo = await page.locator(`a[data-provider="${provider}"] img`).evaluate(
    (img) => img.complete && img.naturalWidth > 0,
  );
  await page.click(`a[data-provider="${provider}"]`);
  await page.waitForSelector('#account');
  const consentTitle = await page.title();
  await page.fill('#account', account);
  await Promise.all([
    page.waitForURL((url) => !url.pathname.startsWith('/v1/demo/') && !url.pathname.startsWith('/v1/oauth/demo/')),
    page.click('button[value="allow"]'),
  ]);
  const landed = page.url();
  const heading = await page.locator('h1').textContent();
  process.stdout.write(JSON.stringify({ choices, logo, consentTitle, landed, heading }) + '\n');
} finally {
  await browser.close();
}
