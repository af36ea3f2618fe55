// Opens the dashboard of a running `wranglerpy dev` in Debian's headless Chromium, sends a
// request to a worker once the live stream is open, waits for it (and its hop to the second
// worker) to appear, opens its trace, then a D1 table's rows and the read-only console's
// refusal. Saves a screenshot of each and prints what the page showed (JSON).
//   node dashboard_page.mjs DASHBOARD_URL WORKER_URL SCREENSHOT_DIR
import { chromium } from "playwright-core";

const [dashboard, worker, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const wait = { timeout: 60000 };
const seen = { consoleErrors: [], failed: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (error) => seen.consoleErrors.push(String(error)));
  page.on("console", (message) => {
    // A refused query is a 400 the browser also logs; responses are checked one by one below.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) seen.consoleErrors.push(message.text());
  });
  page.on("response", (response) => { if (response.status() >= 400) seen.failed.push([new URL(response.url()).pathname, response.status()]); });
  // Anything the page asks from elsewhere than the dashboard is a failure (it must work offline).
  const foreign = [];
  page.on("request", (request) => { if (!request.url().startsWith(new URL(dashboard).origin)) foreign.push(request.url()); });

  await page.goto(dashboard + "#requests");
  await page.waitForSelector('body[data-stream="open"]', wait);

  // A request sent now shows up live, with its hop to the back worker.
  const answer = await fetch(worker + "/hello-dashboard");
  seen.answer = await answer.text();
  await page.waitForSelector('tr.request[data-worker="front"][data-path="/hello-dashboard"]', wait);
  await page.waitForSelector('tr.request[data-worker="back"][data-path="/inner/hello-dashboard"]', wait);
  await page.click('tr.request[data-worker="front"][data-path="/hello-dashboard"]');
  await page.waitForFunction(() => document.querySelectorAll("#trace .span").length >= 2, null, wait);
  seen.trace = await page.locator("#trace").getAttribute("data-trace");
  seen.backTrace = await page.locator('tr.request[data-worker="back"][data-path="/inner/hello-dashboard"]').first().getAttribute("data-trace");
  seen.spans = await page.locator("#trace .wf-label").allTextContents();
  seen.traceLogs = await page.locator("#trace pre").allTextContents();
  await page.screenshot({ path: `${shots}/requests.png`, fullPage: true });

  await page.goto(dashboard + "#logs");
  await page.waitForFunction(() => document.querySelector("table.logs")?.textContent.includes("front saw /hello-dashboard"), null, wait);
  await page.screenshot({ path: `${shots}/logs.png`, fullPage: true });

  await page.goto(dashboard + "#workers");
  await page.waitForSelector('section.worker[data-worker="front"]', wait);
  seen.workers = await page.locator("section.worker h3").allTextContents();
  seen.frontBindings = await page.locator('section.worker[data-worker="front"] td').allTextContents();
  await page.screenshot({ path: `${shots}/workers.png`, fullPage: true });

  await page.goto(dashboard + "#d1");
  await page.click("ul.resources li", wait);
  await page.click('li[data-table="visits"]', wait);
  await page.waitForSelector(".table-rows table.rows tbody tr", wait);
  seen.d1Columns = await page.locator(".table-rows th").allTextContents();
  seen.d1Rows = await page.$$eval(".table-rows tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  seen.imagesInPage = await page.locator("img").count();
  seen.title = await page.title();
  await page.screenshot({ path: `${shots}/d1-table.png`, fullPage: true });

  await page.fill("textarea.sql", "DELETE FROM visits");
  await page.click("button.run");
  await page.waitForSelector(".console-output .error", wait);
  seen.refusal = await page.locator(".console-output .error").textContent();
  await page.screenshot({ path: `${shots}/d1-refusal.png`, fullPage: true });
  await page.fill("textarea.sql", "SELECT count(*) AS n FROM visits");
  await page.click("button.run");
  await page.waitForSelector(".console-output table.rows", wait);
  seen.count = await page.locator(".console-output tbody td").first().textContent();
  await page.screenshot({ path: `${shots}/d1-console.png`, fullPage: true });

  // A request made while the table is open: the view offers a refresh, which shows its row.
  await fetch(worker + "/second-visit");
  await page.waitForSelector("button.refresh:has-text('requests since')", wait);
  await page.click("button.refresh");
  await page.click("ul.resources li", wait);
  await page.click('li[data-table="visits"]', wait);
  await page.waitForFunction(() => [...document.querySelectorAll(".table-rows tbody td")].some((td) => td.textContent === "/second-visit"), null, wait);
  seen.refreshed = true;
  seen.foreign = foreign;
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
