// Debian's chromium as every browser test starts it: headless, no sandbox (CI runs as
// root), and no background networking (the machine reaches nothing outside); and the
// accessibility audit every browser test runs.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

// axe-core is evaluated through the browser's devtools protocol: a page's own policy
// (no inline or foreign script) stays in force, and would refuse a script tag.
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/// The serious and critical axe-core violations on the page, as `id: help` lines.
export async function audit(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => await window.axe.run());
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help}`);
}

/**
 * Audits `page` in the light and the dark theme, adding each violation to
 * `summary.violations` as "scheme where: …" and, with SCREENSHOTS set, saving the whole
 * page as `{prefix}-{where}-{scheme}.png`; the page is left light.
 */
export async function auditThemes(page, summary, prefix, where) {
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    summary.violations.push(...(await audit(page)).map((v) => `${scheme} ${where}: ${v}`));
    if (process.env.SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.SCREENSHOTS}/${prefix}-${where}-${scheme}.png`, fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
}

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/// Runs `body(browser)` in a fresh chromium, then prints `summary` as JSON; on any failure
/// prints the reason (and the summary so far) and exits 1.
export async function runBrowserTest(summary, body) {
  const browser = await launchChromium();
  let failed = false;
  try {
    await body(browser);
    console.log(JSON.stringify(summary));
  } catch (e) {
    failed = true;
    console.error(`browser test failed: ${e.message}\n${JSON.stringify(summary)}`);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}

/// Signs in at BASE as a person does: the sign-in page's Email and Password, then Sign in.
export async function signIn(page, base, email, password) {
  await page.goto(`${base}/`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}
