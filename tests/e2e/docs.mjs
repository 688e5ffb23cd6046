// Reads the API reference in headless Chromium as a developer would, at desktop and phone
// width: waits for the viewer to render /openapi.json, looks for a request body field, a
// response schema field and rendered Markdown, notes any Content-Security-Policy refusal, and
// writes a screenshot at each width. Usage: node docs.mjs <docs-url> <screenshot-dir>
import { chromium } from 'playwright-core';

const [docsUrl, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const seen = { refused: [], external: [] };
try {
  for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    const page = await browser.newPage({ viewport });
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) seen.refused.push(message.text());
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(new URL(docsUrl).origin) && !request.url().startsWith('blob:') && !request.url().startsWith('data:')) {
        seen.external.push(request.url());
      }
    });
    await page.goto(docsUrl);
    // The operation that creates users, its body's externalId field, rendered by the viewer.
    await page.waitForSelector('[data-section-id^="tag/users"]', { timeout: 30000 });
    const operation = page.locator('[data-section-id="tag/users/operation/create_user"]');
    await operation.scrollIntoViewIfNeeded();
    seen[name] = {
      bodyField: await operation.getByText('externalId', { exact: true }).count() > 0,
      responseField: await page.getByText('nextCursor', { exact: true }).count() > 0,
      markdownCode: await page.locator('[data-section-id="tag/providers/operation/list_providers"] code').count() > 0,
      fitsWidth: await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
    };
    await page.screenshot({ path: `${shots}/docs-${name}.png` });
    await page.close();
  }
  process.stdout.write(JSON.stringify(seen) + '\n');
} finally {
  await browser.close();
}
