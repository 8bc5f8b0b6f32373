// A messy file to a finished campaign in Debian's chromium, as an operator does it: signs
// in; on Imports chooses a file exported from a spreadsheet (byte-order mark, semicolons,
// day-first dates, decimal commas, an "Account" column, two bad rows), makes Account the
// customer id in the preview and imports it, reading the rejected rows on the import's
// page; then on Campaigns chooses that import (the audience counted as it is chosen),
// the flow and the channel at five first messages a second, and starts it. The campaign's
// page is followed without reloading: Sent climbs, Pause holds it, Resume goes on, and
// the page says completed. Pages are audited with axe-core, light and dark. Env: BASE,
// EMAIL, PASSWORD, ROWS; prints a JSON summary.
import { auditThemes, runBrowserTest, signIn } from "./launch.mjs";
const { BASE, EMAIL, PASSWORD } = process.env;
const ROWS = Number(process.env.ROWS || 40);

const lines = ["\u{feff}Account;Mobile;First name;Balance;Due date"];
for (let i = 1; i <= ROWS; i++) {
  lines.push(`AC-${i};07911 2${String(i).padStart(5, "0")};Person ${i};${i},50;${(i % 28) + 1}/12/2026`);
}
lines.push("AC-X;not a number;Nobody;1,00;01/12/2026");
lines.push("AC-Y;07911 299999;Late;lots;31/02/2026");
const FILE = Buffer.from(lines.join("\r\n") + "\r\n");

const summary = { sentSeen: [], violations: [], errors: [] };
const sentNow = async (page) => Number(await page.locator(".counters div", { hasText: "Sent" }).first().locator("dd").textContent());
await runBrowserTest(summary, async (browser) => {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(20000);
  page.on("pageerror", (e) => summary.errors.push(e.message));
  const check = (where) => auditThemes(page, summary, "campaign", where);
  await signIn(page, BASE, EMAIL, PASSWORD);

  await page.getByRole("link", { name: "Imports" }).first().click();
  await page.getByLabel("Choose file").setInputFiles({ name: "arrears export.csv", mimeType: "text/csv", buffer: FILE });
  await page.locator("#preview-detected", { hasText: "separated by semicolons, Windows line endings" }).waitFor();
  await page.getByLabel("Column 1 (Account) goes to").selectOption("customer_id");
  await page.locator(".preview .hint", { hasText: "account" }).waitFor({ state: "detached" });
  await check("preview");
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await page.locator(".badge", { hasText: "completed" }).waitFor();
  const counter = async (label) => Number(await page.locator(".counters div", { hasText: label }).first().locator("dd").textContent());
  summary.imported = await counter("Imported");
  summary.rejected = await counter("Rejected");
  summary.rejectReasons = (await page.locator("table").last().textContent()).replace(/\s+/g, " ");
  await check("import");

  await page.getByRole("link", { name: "Campaigns" }).first().click();
  await page.getByRole("heading", { name: "Campaigns", level: 1 }).waitFor();
  await page.getByLabel("Name").fill("December arrears");
  const option = page.locator("#audience-import option", { hasText: `arrears export.csv — ${ROWS} contacts` });
  await page.getByLabel("Import", { exact: true }).selectOption(await option.getAttribute("value"));
  await page.locator("#audience-count", { hasText: `${ROWS} contacts` }).waitFor();
  summary.audience = (await page.locator("#audience-count").textContent()).trim();
  await page.getByLabel("Rate").fill("5");
  await check("new");
  await page.getByRole("button", { name: "Create campaign" }).click();
  await page.getByRole("heading", { name: "December arrears", level: 1 }).waitFor();
  // Live: the counters move without a reload.
  await page.waitForFunction(() => Number(document.querySelector(".counters dd:not(:empty)") && [...document.querySelectorAll(".counters div")].find((d) => d.querySelector("dt").textContent === "Sent").querySelector("dd").textContent) >= 3);
  summary.sentSeen.push(await sentNow(page));
  await check("running");
  await page.getByRole("button", { name: "Pause" }).click();
  await page.locator("#campaign-status", { hasText: "paused" }).waitFor();
  // Sending stops within a second of the pause (the counters shown are at most a second
  // old): what the page says a second and a half later does not move afterwards.
  await page.waitForTimeout(1500);
  await page.reload();
  const settled = await sentNow(page);
  await page.waitForTimeout(2500);
  await page.reload();
  summary.pausedHeld = (await sentNow(page)) === settled && settled < ROWS;
  summary.sentSeen.push(await sentNow(page));
  await page.getByRole("button", { name: "Resume" }).click();
  await page.locator("#campaign-status", { hasText: "running" }).waitFor();
  await page.locator("#campaign-status", { hasText: "completed" }).waitFor({ timeout: 60000 });
  summary.sentSeen.push(await sentNow(page));
  summary.done = (await page.locator("#campaign-live .hint").first().textContent()).trim();
  const campaignUrl = page.url();
  await check("completed");
  // The campaign's flow in the editor: drawn, and checked again as it is typed.
  await page.getByRole("link", { name: "Flows" }).first().click();
  await page.getByRole("heading", { name: "Flows", level: 1 }).waitFor();
  await page.getByRole("link", { name: "arrears", exact: true }).click();
  await page.locator("svg.flow-graph").waitFor();
  summary.flowFindings = (await page.locator("#flow-check").textContent()).replace(/\s+/g, " ").trim();
  await check("flow");
  const box = page.getByRole("textbox", { name: /^Document/ });
  await box.fill((await box.inputValue()).replace('"next": "bye"', '"next": "nowhere"'));
  await page.locator(".node.missing").waitFor();
  summary.flowTyped = (await page.locator(".findings").textContent()).replace(/\s+/g, " ").trim();
  await check("flow-typed");
  // Try it: the draft talked to as a customer, in the page.
  await box.fill((await box.inputValue()).replace('"next": "nowhere"', '"next": "bye"'));
  await page.locator(".ok-note").waitFor();
  await page.getByRole("button", { name: "Try it" }).click();
  await page.locator(".transcript .bot", { hasText: "Hello Alex" }).waitFor();
  await page.getByLabel("Reply as the customer").fill("yes");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator(".transcript .bot", { hasText: "Thank you." }).waitFor();
  summary.tried = (await page.locator(".transcript").textContent()).replace(/\s+/g, " ").trim();
  await check("flow-tried");
  // On a phone: the flow, the campaign and the form fit the screen.
  await page.setViewportSize({ width: 390, height: 800 });
  summary.phoneOverflow = [];
  const flowUrl = page.url();
  for (const [where, url] of [["flow-phone", flowUrl], ["campaign-phone", campaignUrl], ["campaigns-phone", campaignUrl.replace(/\/campaigns\/.*$/, "/campaigns")]]) {
    await page.goto(url);
    await check(where);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    if (wide) summary.phoneOverflow.push(where);
  }
});
