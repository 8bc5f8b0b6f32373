// The README's picture of the desk: a morning's waiting conversations with named
// customers; Ann opens one, takes it and answers. Checks the page with axe-core and, with
// OUT set, saves the picture there (light theme, a laptop's screen). Run by the Rust test
// `desk_browser::the_readme_picture_of_the_desk` with BASE, EMAIL and PASSWORD.
import { audit, runBrowserTest } from "./launch.mjs";
const { BASE, EMAIL, PASSWORD, OUT } = process.env;
if (!BASE || !EMAIL || !PASSWORD) {
  console.error("BASE, EMAIL and PASSWORD are required");
  process.exit(2);
}
const summary = { violations: [], errors: [] };
await runBrowserTest(summary, async (browser) => {
  const context = await browser.newContext({ colorScheme: "light", viewport: { width: 1280, height: 760 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => summary.errors.push(e.message));
  await page.goto(`${BASE}/`);
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: "Unassigned" }).click();
  await page.getByRole("region", { name: "Conversations" }).getByRole("link").filter({ hasText: "Maria Lopez" }).click();
  await page.getByRole("button", { name: "Assign to me" }).click();
  await page.getByLabel("Reply").fill("Thank you, Maria. I have set up £50 on the 1st of each month; you will get a reminder the day before.");
  await page.getByLabel("Reply").press("Enter");
  const thread = page.getByRole("region", { name: "Maria Lopez" });
  await thread.locator(".entry.out .entry-status", { hasText: "Delivered" }).last().waitFor();
  summary.violations.push(...(await audit(page)));
  if (OUT) await page.screenshot({ path: OUT });
  await context.close();
});
