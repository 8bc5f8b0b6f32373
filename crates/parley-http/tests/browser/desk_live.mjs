// The desk live, in two browser contexts (two people): Ann, the owner, watches Unassigned
// while a customer writes; the conversation appears without a reload. She opens it and
// takes it; Sam, a supervisor, opens the same conversation elsewhere. Ann's reply reaches
// Sam's page by itself, and Ann watches its status move to Delivered. Sam's connection is
// then cut while the customer sends three messages; once it is back, each shows exactly
// once. Ann closes the conversation and Sam's page says Closed. Run by the Rust test
// `desk_browser::the_desk_is_live_for_two_people` with BASE, TOKEN, CHANNEL (a sim
// channel), ANN and SAM (email:password). Prints a JSON summary; exits 1 on failure.
import { audit, runBrowserTest } from "./launch.mjs";
const { BASE, TOKEN, CHANNEL, ANN, SAM, SCREENSHOTS } = process.env;
if (!BASE || !TOKEN || !CHANNEL || !ANN || !SAM) {
  console.error("BASE, TOKEN, CHANNEL, ANN and SAM are required");
  process.exit(2);
}
const FROM = "+447911000001";

/** The customer writes `text` through the sim channel's API. */
async function customerSays(text) {
  const r = await fetch(`${BASE}/api/v1/channels/${CHANNEL}/sim/inbound`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ from: FROM, text }),
  });
  if (!r.ok) throw new Error(`sim inbound answered ${r.status}: ${await r.text()}`);
}

async function signIn(browser, who, scheme) {
  const [email, password] = who.split(":");
  const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => summary.errors.push(`${email}: ${e.message}`));
  await page.goto(`${BASE}/`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("region", { name: "Conversations" }).waitFor();
  return { context, page };
}

const summary = { appearedMs: 0, countBefore: "", countAfter: "", reachedSam: false, delivered: false, afterLoss: [], closedSeen: false, violations: [], errors: [] };
const loads = { ann: 0, sam: 0 };
await runBrowserTest(summary, async (browser) => {
  const ann = await signIn(browser, ANN, "light");
  const sam = await signIn(browser, SAM, "dark");
  // Count full page loads after the first: live updates must not reload.
  ann.page.on("load", () => loads.ann++);
  sam.page.on("load", () => loads.sam++);

  await ann.page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: "Unassigned" }).click();
  await ann.page.getByText("No one is waiting").waitFor();
  const count = ann.page.locator('.views a[aria-current="page"] .count');
  summary.countBefore = (await count.textContent()).replace(/\D/g, "");
  const loadsBefore = loads.ann;
  const started = Date.now();
  await customerSays("Hello, I got your letter.");
  const row = ann.page.getByRole("region", { name: "Conversations" }).getByRole("link").filter({ hasText: FROM });
  await row.waitFor();
  summary.appearedMs = Date.now() - started;
  await count.filter({ hasText: "1" }).waitFor();
  summary.countAfter = (await count.textContent()).replace(/\D/g, "");
  if (loads.ann !== loadsBefore) throw new Error("the list reloaded instead of updating");

  await row.click();
  const annThread = ann.page.getByRole("region", { name: FROM });
  await annThread.waitFor();
  await ann.page.getByRole("button", { name: "Assign to me" }).click();
  await annThread.locator(".thread-facts").getByText("Assigned to").waitFor();
  await sam.page.goto(ann.page.url());
  const samThread = sam.page.getByRole("region", { name: FROM });
  await samThread.waitFor();
  const samLoads = loads.sam;

  await ann.page.getByLabel("Reply").fill("We can help: reply PAY for a link.");
  await ann.page.getByLabel("Reply").press("Enter");
  await samThread.locator(".entry.out .entry-body", { hasText: "We can help" }).waitFor();
  summary.reachedSam = true;
  await annThread.locator(".entry.out", { hasText: "We can help" }).locator(".entry-status", { hasText: "Delivered" }).waitFor();
  summary.delivered = true;

  // Sam's connection drops while the customer writes three times.
  await sam.context.setOffline(true);
  await sam.page.waitForTimeout(500);
  const lines = ["First while away", "Second while away", "Third while away"];
  for (const line of lines) await customerSays(line);
  await sam.page.waitForTimeout(500);
  await sam.context.setOffline(false);
  await samThread.locator(".entry.in .entry-body", { hasText: lines[2] }).waitFor({ timeout: 20000 });
  await sam.page.waitForTimeout(600); // any doubled drawing would show by now
  for (const line of lines) summary.afterLoss.push(await samThread.locator(".entry.in .entry-body", { hasText: line }).count());
  summary.violations.push(...(await audit(sam.page)).map((v) => `sam: ${v}`));
  if (SCREENSHOTS) await sam.page.screenshot({ path: `${SCREENSHOTS}/desk-live-sam.png` });

  await ann.page.getByRole("button", { name: "Close conversation" }).click();
  await samThread.locator(".thread-facts .badge", { hasText: "Closed" }).waitFor();
  summary.closedSeen = true;
  if (loads.sam !== samLoads) summary.errors.push(`Sam's page loaded ${loads.sam - samLoads} more times`);
  summary.violations.push(...(await audit(ann.page)).map((v) => `ann: ${v}`));
  if (SCREENSHOTS) await ann.page.screenshot({ path: `${SCREENSHOTS}/desk-live-ann.png` });
});
