// Opens the chat page in Debian's headless Chromium, asks a question, waits for the streamed
// answer, and prints what the page showed (JSON) after saving a screenshot.
//   node chat_page.mjs URL SCREENSHOT.png
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await page.goto(url);
  await page.fill("#prompt", "Say hello in three words.");
  await page.click("#send");
  // Text arrives while the answer is still streaming (the bubble carries the class meanwhile).
  const streaming = page.locator("li.message.assistant.streaming");
  await streaming.waitFor({ timeout: 60000 });
  let seenWhileStreaming = "";
  for (let i = 0; i < 600 && !seenWhileStreaming; i++) {
    if (await streaming.count()) seenWhileStreaming = (await streaming.first().textContent()) || "";
    else break;
    if (!seenWhileStreaming) await page.waitForTimeout(50);
  }
  await page.waitForSelector("li.message.assistant:not(.streaming)", { timeout: 120000 });
  const answer = (await page.locator("li.message.assistant").last().textContent()) || "";
  const state = await page.evaluate(() => document.body.dataset.state);
  await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ answer, seenWhileStreaming, state }));
} finally {
  await browser.close();
}
