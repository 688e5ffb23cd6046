// Uses the developer console in headless Chromium as a developer would: signs in with a
// read-only key, finds a user by externalId, opens them, and reads their connections and sync
// jobs; signs out and in again with a key that may write and starts a sync. Screenshots at
// desktop and phone width. Usage: node console.mjs <base-url> <read-key> <write-key> <externalId> <screenshot-dir>
import { chromium } from 'playwright-core';

const [base, readKey, writeKey, externalId, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const seen = { refused: [] };
async function signIn(page, key) {
  await page.goto(`${base}/console`);
  await page.fill('input[name="key"]', key);
  await page.click('button[type="submit"]');
  await page.waitForSelector('#sign-out:not([hidden])');
}
async function openUser(page) {
  await page.fill('input[name="externalId"]', externalId);
  await page.click('form button[type="submit"]');
  await page.click(`a[data-user="${externalId}"]`);
  await page.waitForSelector('h2:has-text("Sync jobs")');
}
/// Does `act` and waits until the view it causes has replaced the one on the page.
async function rerenders(page, act) {
  await page.evaluate(() => document.querySelectorAll('main > *').forEach((n) => n.setAttribute('data-stale', '')));
  await act();
  await page.waitForFunction(() => document.querySelector('main > *') && !document.querySelector('main > [data-stale]'));
}
const rows = (page, heading) => page.locator(`h2:has-text("${heading}") + div table tbody tr`).allInnerTexts();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) seen.refused.push(message.text());
  });
  await signIn(page, readKey);
  seen.workspace = await page.locator('#workspace').textContent();
  seen.keyInUrl = page.url().includes(readKey);
  seen.cookie = await page.evaluate(() => document.cookie);
  seen.stored = await page.evaluate(() => sessionStorage.getItem('vitasync.key') !== null);
  await openUser(page);
  seen.connections = await rows(page, 'Connections');
  seen.jobs = await rows(page, 'Sync jobs');
  seen.readOnlyButtons = await page.locator('button[data-action]').count();
  // The user's data: charts with points, a hypnogram with stages, in the chosen zone.
  await page.waitForSelector('section.chart canvas');
  seen.charts = await page.locator('section.chart').evaluateAll((sections) =>
    Object.fromEntries(sections.map((s) => [s.dataset.chart, { points: Number(s.dataset.points), drawn: s.querySelector('canvas') !== null }])));
  seen.stages = Number(await page.locator('section.chart[data-stages]').getAttribute('data-stages'));
  // Another zone draws the charts again (the page is rebuilt) and is remembered in the tab.
  await page.evaluate(() => document.querySelector('section.chart').setAttribute('data-old', ''));
  await page.selectOption('select[name="zone"]', 'Asia/Kathmandu');
  await page.waitForFunction(() => document.querySelector('section.chart') && !document.querySelector('section.chart[data-old]'));
  seen.zoneKept = await page.locator('select[name="zone"]').inputValue();
  seen.zoneStored = await page.evaluate(() => sessionStorage.getItem('vitasync.zone'));
  // Each night has its hypnogram: another night picked draws its stages.
  const nights = await page.locator('select[name="night"] option').count();
  const second = await page.locator('select[name="night"] option').nth(1).getAttribute('value');
  // The page is rebuilt for the night picked: read the new one, not the old select.
  await rerenders(page, () => page.selectOption('select[name="night"]', second));
  seen.nights = nights;
  seen.otherNightStages = Number(await page.locator('section.chart[data-stages]').getAttribute('data-stages'));
  seen.otherNightTitle = await page.locator('section.chart[data-stages] h3').textContent();
  await page.screenshot({ path: `${shots}/console-desktop.png`, fullPage: true });
  await page.locator('section.chart[data-stages]').screenshot({ path: `${shots}/console-hypnogram.png` });
  await page.locator('h2:has-text("Data")').evaluate((heading) => heading.scrollIntoView());
  await page.screenshot({ path: `${shots}/console-data.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  seen.fitsPhone = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  await page.screenshot({ path: `${shots}/console-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.click('#sign-out');
  seen.signedOut = await page.evaluate(() => sessionStorage.getItem('vitasync.key') === null);
  await signIn(page, writeKey);
  await openUser(page);
  seen.writeButtons = await page.locator('button[data-action]').count();
  const before = (await rows(page, 'Sync jobs')).length;
  await page.click('button[data-action="sync"]');
  for (let i = 0; i < 100 && (await rows(page, 'Sync jobs')).length <= before; i++) {
    await page.waitForTimeout(100);
  }
  seen.jobsAfterSync = (await rows(page, 'Sync jobs')).length - before;

  // Webhooks: the endpoint's deliveries, every attempt, a payload, a resend.
  await page.goto(`${base}/console#/webhooks`);
  await page.click('main table a');
  await page.waitForSelector('h2:has-text("Deliveries")');
  seen.deliveries = await rows(page, 'Deliveries');
  await page.click('button[data-view="payload"]');
  seen.payloadShown = await page.locator('pre.payload').isVisible();
  await rerenders(page, () => page.click('button[data-action="resend"]'));
  seen.resendError = await page.locator('.error').count();

  // API keys: one made (its secret shown once), then revoked.
  await rerenders(page, () => page.goto(`${base}/console#/keys`));
  await page.waitForSelector('input[name="name"]');
  const keysBefore = (await page.locator('main table tbody tr').count());
  await page.fill('input[name="name"]', 'made-in-the-console');
  await page.selectOption('select[name="scope"]', 'read');
  await page.click('form button[type="submit"]');
  await page.waitForSelector('output[data-secret]');
  seen.newSecret = (await page.locator('output[data-secret] code').textContent()).startsWith('vs_');
  seen.keysAfterCreate = (await page.locator('main table tbody tr').count()) - keysBefore;
  const made = page.locator('main table tbody tr', { hasText: 'made-in-the-console' });
  await made.locator('button[data-action="revoke"]').click();
  for (let i = 0; i < 50 && (await page.locator('main table tbody tr', { hasText: 'made-in-the-console' }).count()) > 0; i++) {
    await page.waitForTimeout(100);
  }
  seen.keysAfterRevoke = (await page.locator('main table tbody tr').count()) - keysBefore;
  await page.screenshot({ path: `${shots}/console-keys.png` });

  // A read-only key sees the keys and the webhooks' deliveries, and gets no button that writes.
  await page.click('#sign-out');
  await signIn(page, readKey);
  await rerenders(page, () => page.goto(`${base}/console#/keys`));
  seen.readOnlyKeys = await page.locator('main table tbody tr').count();
  seen.readOnlyKeysButtons = await page.locator('main button').count();
  await rerenders(page, () => page.goto(`${base}/console#/webhooks`));
  await page.click('main table a');
  await page.waitForSelector('h2:has-text("Deliveries")');
  seen.readOnlyDeliveries = (await rows(page, 'Deliveries')).length;
  seen.readOnlyWebhookButtons = await page.locator('main button[data-action]').count();
  process.stdout.write(JSON.stringify(seen) + '\n');
} finally {
  await browser.close();
}
