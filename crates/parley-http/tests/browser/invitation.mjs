// Drives Parley's invitation page in Debian's chromium as the invited person would: opens
// the link, reads what the invitation offers, chooses a name and password, accepts, and
// checks the page with axe-core (no serious or critical violation, light and dark, phone
// and wide). Run by the Rust test `invitation_browser` with LINK (the invitation link)
// and PASSWORD; SCREENSHOTS, when set, is a folder for pictures of the page. Prints a JSON
// summary; exits 1 with the reason on any failure.
import { audit, launchChromium } from "./launch.mjs";
const { LINK, PASSWORD, SCREENSHOTS } = process.env;
if (!LINK || !PASSWORD) {
  console.error("LINK and PASSWORD are required");
  process.exit(2);
}

const browser = await launchChromium();

let failed = false;
const summary = { offer: "", done: "", violations: [], errors: [] };
try {
  for (const [scheme, width] of [["light", 390], ["dark", 1280]]) {
    const context = await browser.newContext({
      colorScheme: scheme,
      viewport: { width, height: 800 },
    });
    const page = await context.newPage();
    page.on("pageerror", (e) => summary.errors.push(e.message));
    // Every request but the used link's preview (refused on purpose at the end) works.
    let reused = false;
    page.on("response", (r) => {
      const expected = reused && r.url().endsWith("/api/v1/invitations/preview");
      if (r.status() >= 400 && !expected) summary.errors.push(`${r.status()} ${r.url()}`);
    });
    page.setDefaultTimeout(15000);
    await page.goto(LINK);
    const offer = page.locator("#offer");
    await offer.filter({ hasText: "You are invited" }).waitFor();
    summary.offer = (await offer.textContent()).trim();
    if (new URL(page.url()).hash !== "") throw new Error("the token stayed in the address bar");
    summary.violations.push(...(await audit(page)).map((v) => `${scheme}: ${v}`));
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/invitation-${scheme}-${width}.png`, fullPage: true });
    if (scheme === "dark") {
      await page.getByLabel("Your name").fill("Ann Example");
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Accept invitation" }).click();
      const done = page.getByRole("status");
      await done.filter({ hasText: "joined" }).waitFor();
      summary.done = (await done.textContent()).trim();
      summary.violations.push(...(await audit(page)).map((v) => `after: ${v}`));
      if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/invitation-accepted.png` });
      // The link is used up: opening it again says so, in an alert.
      await page.goto("about:blank");
      reused = true;
      await page.goto(LINK);
      await page.getByRole("alert").filter({ hasText: "not valid any more" }).waitFor();
    }
    await context.close();
  }
  console.log(JSON.stringify(summary));
} catch (e) {
  failed = true;
  console.error(`browser test failed: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
