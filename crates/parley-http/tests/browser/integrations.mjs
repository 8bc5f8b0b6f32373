// The seed's path in Debian's chromium, as an operator takes it: signs in, opens
// Integrations, presses Add webhook with the Callback URL of a local receiver and two
// events ticked, copies the signing secret shown once, then sends each of the five
// sample requests (Test kind, Test) and reads the answer shown beside the endpoint; opens
// the endpoint's messages and attempts, then the custom value and SFTP pages. The pages are audited with axe-core in both
// themes. Run by the Rust test `integrations_browser` with BASE, EMAIL, PASSWORD and
// RECEIVER; prints a JSON summary (the secret, each test's answer as the page says it).
import { audit, runBrowserTest } from "./launch.mjs";
const { BASE, EMAIL, PASSWORD, RECEIVER, SCREENSHOTS } = process.env;
if (!BASE || !EMAIL || !PASSWORD || !RECEIVER) {
  console.error("BASE, EMAIL, PASSWORD and RECEIVER are required");
  process.exit(2);
}

const summary = { secret: "", events: "", results: [], violations: [], errors: [], foreign: [] };
await runBrowserTest(summary, async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => summary.errors.push(e.message));
  page.on("request", (r) => {
    if (!r.url().startsWith(BASE)) summary.foreign.push(r.url());
  });
  page.on("response", (r) => {
    if (r.status() >= 400) summary.errors.push(`${r.status()} ${r.url()}`);
  });
  const check = async (where) => {
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      summary.violations.push(...(await audit(page)).map((v) => `${scheme} ${where}: ${v}`));
      if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/integrations-${where}-${scheme}.png`, fullPage: true });
    }
  };

  await page.goto(`${BASE}/`);
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("details.settings summary").click();
  await page.getByRole("link", { name: "Integrations" }).click();
  await page.getByRole("heading", { name: "Integrations", level: 1 }).waitFor();
  await page.getByLabel("Callback URL").fill(RECEIVER);
  await page.getByRole("checkbox", { name: "setStatus" }).check();
  await page.getByRole("checkbox", { name: "conversationClosed" }).check();
  await page.getByRole("button", { name: "Add webhook" }).click();
  await page.getByRole("heading", { name: "Signing secret" }).waitFor();
  summary.secret = (await page.locator("#secret-value").textContent()).trim();
  summary.events = (await page.locator(".hook-facts").first().textContent()).trim();
  await check("added");

  const kinds = await page.getByLabel("Test kind").locator("option").allTextContents();
  for (const kind of kinds) {
    await page.getByLabel("Test kind").selectOption(kind);
    await page.getByRole("button", { name: "Test", exact: true }).click();
    const result = page.getByRole("status").filter({ hasText: `${kind}:` });
    await result.waitFor();
    summary.results.push({ kind, text: (await result.textContent()).replace(/\s+/g, " ").trim() });
  }
  await check("tested");

  await page.getByRole("link", { name: /Messages and attempts/ }).click();
  await page.getByRole("heading", { name: RECEIVER, level: 1 }).waitFor();
  await check("messages");

  // The other two kinds of integration, empty, as a new organization first sees them.
  await page.getByRole("link", { name: "Integrations" }).first().click();
  await page.getByRole("navigation", { name: "Integrations" }).getByRole("link", { name: "Custom values" }).click();
  await page.getByRole("heading", { name: "Custom values", level: 1 }).waitFor();
  await check("custom-values");
  await page.getByRole("navigation", { name: "Integrations" }).getByRole("link", { name: "SFTP" }).click();
  await page.getByRole("heading", { name: "SFTP", level: 1 }).waitFor();
  await check("sftp");
  await context.close();
});
