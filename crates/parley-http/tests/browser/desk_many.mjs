// The desk with a thousand waiting conversations and a contact with a 60-character name:
// on a phone in the light theme and wide in the dark one, Unassigned shows its count
// and a page of 50 rows with a link to older ones, which shows the next 50; the
// long-named conversation opens with its name wrapped. Every page passes axe-core and
// is no wider than the screen. Run by the Rust test `desk_browser::…_a_thousand_…` with
// BASE, EMAIL, PASSWORD and LONG (the long name). SCREENSHOTS keeps pictures.
import { audit, runBrowserTest } from "./launch.mjs";
const { BASE, EMAIL, PASSWORD, LONG, SCREENSHOTS } = process.env;
if (!BASE || !EMAIL || !PASSWORD || !LONG) {
  console.error("BASE, EMAIL, PASSWORD and LONG are required");
  process.exit(2);
}
const summary = { counts: [], firstPage: [], secondPage: [], longTitle: [], violations: [], errors: [] };
await runBrowserTest(summary, async (browser) => {
  for (const [scheme, width] of [["light", 360], ["dark", 1440]]) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on("pageerror", (e) => summary.errors.push(e.message));
    const check = async (where) => {
      summary.violations.push(...(await audit(page)).map((v) => `${scheme} ${where}: ${v}`));
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      if (wide > width) summary.errors.push(`${scheme} ${where}: ${wide} px wide`);
      if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/many-${where}-${scheme}-${width}.png` });
    };
    await page.goto(`${BASE}/`);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    const views = page.getByRole("navigation", { name: "Views" });
    await views.getByRole("link", { name: "Unassigned" }).click();
    const list = page.getByRole("region", { name: "Conversations" });
    await list.getByRole("heading", { name: "Unassigned" }).waitFor();
    summary.counts.push((await views.locator('a[aria-current="page"] .count').textContent()).replace(/\D/g, ""));
    summary.firstPage.push(await list.locator(".rows .row").count());
    await check("thousand");
    await list.getByRole("link", { name: "Older conversations" }).click();
    await list.locator(".rows .row").first().waitFor();
    summary.secondPage.push(await list.locator(".rows .row").count());
    await page.goto(`${BASE}/`);
    await views.getByRole("link", { name: "Unassigned" }).click();
    await page.getByRole("button", { name: "Search" }).waitFor();
    await page.getByRole("searchbox", { name: "Search conversations" }).fill(LONG.slice(0, 20));
    await page.getByRole("searchbox", { name: "Search conversations" }).press("Enter");
    await list.getByRole("link").filter({ hasText: LONG }).first().click();
    const thread = page.getByRole("region", { name: LONG });
    await thread.waitFor();
    summary.longTitle.push((await thread.getByRole("heading", { level: 2 }).textContent()).trim());
    await check("long-name");
    await context.close();
  }
});
