// Drives Parley's web-chat widget in Debian's chromium, as a visitor would: opens a page
// that embeds widget.js and writes ROUNDS messages, each time waiting for all of the bot's
// replies to it, then reloads and reads the thread again. Run by the Rust test
// `webchat_browser` with PAGE_URL (the embedding page), MESSAGE (what the visitor writes,
// followed by the round's number), REPLIES (a JSON array: what the bot answers each
// message with, in order) and ROUNDS (default 1); SCREENSHOT, when set, is where to save
// a picture of the page after the last reply. Prints the lines the widget drew, in the
// order it drew them, before and after the reload, and the serious or critical axe-core
// violations of the open widget with its thread, as JSON ({"drawn": […], "reloaded":
// […], "violations": […]}); exits 1 with the reason on any failure.
import { audit, launchChromium } from "./launch.mjs";

const { PAGE_URL, MESSAGE, REPLIES } = process.env;
if (!PAGE_URL || !MESSAGE || !REPLIES) {
  console.error("PAGE_URL, MESSAGE and REPLIES are required");
  process.exit(2);
}
const replies = JSON.parse(REPLIES);
const rounds = Number(process.env.ROUNDS || "1");

/// The lines of the conversation log, top to bottom (the order the widget drew them).
function linesOf(log) {
  return log.locator("li").evaluateAll((items) =>
    items.map((li) => ({ direction: li.getAttribute("data-direction"), text: li.textContent })));
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
  for (let round = 1; round <= rounds; round++) {
    const text = `${MESSAGE} ${round}`;
    await page.getByRole("textbox", { name: "Message" }).fill(text);
    await page.getByRole("button", { name: "Send" }).click();
    // The visitor's line is acknowledged (no longer "sending") and the bot answers with
    // every reply of the turn.
    await log.locator("li.inbound:not(.sending)", { hasText: text }).waitFor();
    await log.locator("li.outbound").nth(round * replies.length - 1).waitFor();
  }
  // SCREENSHOT=path.png saves what the visitor sees, for a person to look at.
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
  const drawn = await linesOf(log);
  const violations = await audit(page);
  // The widget keeps nothing but the visitor token; the thread comes from Parley.
  const kept = await page.evaluate(() =>
    Object.keys(localStorage).filter((k) => k.startsWith("parley_visitor_")).length);
  if (kept !== 1) throw new Error(`expected one visitor token in localStorage, found ${kept}`);

  await page.reload();
  await page.getByRole("button", { name: "Open chat" }).click();
  const again = page.getByRole("log", { name: "Conversation" });
  await again.locator("li.outbound").nth(rounds * replies.length - 1).waitFor();
  const reloaded = await linesOf(again);
  console.log(JSON.stringify({ drawn, reloaded, violations }));
} catch (e) {
  failed = true;
  console.error(`browser test failed: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
