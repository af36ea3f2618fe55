// Opens each state browser of the dashboard (KV, R2, Durable Objects, queues, workflows) in
// Debian's headless Chromium over a state folder full of hostile keys, opens the first
// resource of each and one item, saves a screenshot of each, and prints what it saw (JSON).
//   node state_pages.mjs DASHBOARD_URL SCREENSHOT_DIR
import { chromium } from "playwright-core";

const [dashboard, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const wait = { timeout: 60000 };
const seen = { errors: [], dialogs: 0 };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (error) => seen.errors.push(String(error)));
  page.on("console", (message) => { if (message.type() === "error") seen.errors.push(message.text()); });
  page.on("dialog", async (dialog) => { seen.dialogs += 1; await dialog.dismiss(); });
  const open = async (view) => {
    await page.goto(`${dashboard}#${view}`);
    await page.click("ul.resources li", wait);
  };

  await open("kv");
  await page.waitForSelector("table.keys tbody tr.key", wait);
  seen.kvKeys = await page.locator("table.keys tbody tr.key td:first-child").allTextContents();
  await page.click("button.next");  // the second page of keys
  await page.waitForFunction(() => document.querySelectorAll("table.keys").length === 2, null, wait);
  seen.kvKeysAfterNext = await page.locator("table.keys tbody tr.key td:first-child").allTextContents();
  await page.locator("table.keys tbody tr.key").filter({ hasText: "<img" }).first().click();
  await page.waitForSelector(".kv-value pre.value", wait);
  seen.kvValue = await page.locator(".kv-value pre.value").textContent();
  await page.screenshot({ path: `${shots}/kv.png`, fullPage: true });

  await open("r2");
  await page.waitForSelector("table.objects tbody tr", wait);
  seen.r2Rows = await page.locator("table.objects tbody tr td:first-child").allTextContents();
  await page.locator("table.objects tr.folder").first().click();
  await page.waitForSelector("table.objects tr.object", wait);
  await page.locator("table.objects tr.object").first().click();
  await page.waitForSelector(".r2-object pre.value", wait);
  seen.r2Value = await page.locator(".r2-object pre.value").textContent();
  await page.screenshot({ path: `${shots}/r2.png`, fullPage: true });

  await open("do");
  await page.waitForSelector("tr.object", wait);
  await page.click("tr.object");
  await page.waitForSelector(".do-keys table tbody tr", wait);
  seen.doKeys = await page.locator(".do-keys table tbody tr td:first-child").allTextContents();
  await page.screenshot({ path: `${shots}/durable-objects.png`, fullPage: true });

  await open("queues");
  await page.waitForSelector("table.messages tbody tr", wait);
  seen.messages = await page.locator("table.messages tbody tr").count();
  await page.screenshot({ path: `${shots}/queues.png`, fullPage: true });

  await open("workflows");
  await page.waitForSelector("table.instances tbody tr", wait);
  seen.instances = await page.locator("table.instances tbody tr td:first-child").allTextContents();
  await page.screenshot({ path: `${shots}/workflows.png`, fullPage: true });

  seen.images = await page.locator("img").count();
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
