// Drives Parley's web-chat widget in Debian's chromium, as a visitor would: opens a page
// that embeds widget.js, writes, waits for the bot's reply, reloads, and reads the thread
// again. Run by the Rust test `webchat_browser` with PAGE_URL (the embedding page),
// MESSAGE (what the visitor writes) and REPLY (what the bot answers); SCREENSHOT, when
// set, is where to save a picture of the page with the reply. Prints the thread
// shown after the reload as JSON; exits 1 with the reason on any failure.
import { launchChromium } from "./launch.mjs";

const { PAGE_URL, MESSAGE, REPLY } = process.env;
if (!PAGE_URL || !MESSAGE || !REPLY) {
  console.error("PAGE_URL, MESSAGE and REPLY are required");
  process.exit(2);
}

const browser = await launchChromium();
let failed = false;
try {
  const page = await browser.newPage();
  page.on("console", (m) => console.error(`page console: ${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  page.setDefaultTimeout(15000);

  await page.goto(PAGE_URL);
  await page.getByRole("button", { name: "Open chat" }).click();
  const log = page.getByRole("log", { name: "Conversation" });
  await page.getByRole("textbox", { name: "Message" }).fill(MESSAGE);
  await page.getByRole("button", { name: "Send" }).click();
  // The visitor's line is acknowledged (no longer "sending") and the bot answers.
  await log.locator("li.inbound:not(.sending)", { hasText: MESSAGE }).waitFor();
  await log.locator("li.outbound", { hasText: REPLY }).waitFor();
  // SCREENSHOT=path.png saves what the visitor sees, for a person to look at.
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
  // The widget keeps nothing but the visitor token; the thread comes from Parley.
  const kept = await page.evaluate(() =>
    Object.keys(localStorage).filter((k) => k.startsWith("parley_visitor_")).length);
  if (kept !== 1) throw new Error(`expected one visitor token in localStorage, found ${kept}`);

  await page.reload();
  await page.getByRole("button", { name: "Open chat" }).click();
  const again = page.getByRole("log", { name: "Conversation" });
  await again.locator("li.outbound", { hasText: REPLY }).waitFor();
  const lines = await again.locator("li").evaluateAll((items) =>
    items.map((li) => ({ direction: li.getAttribute("data-direction"), text: li.textContent })));
  console.log(JSON.stringify(lines));
} catch (e) {
  failed = true;
  console.error(`browser test failed: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
