// The campaign page's goal, measured by `parley bench campaign --page`: a person signs in
// (headless chromium), opens the campaign's page, presses Start and watches it until it
// says completed. A MutationObserver in the page records each change of the "Sent"
// counter on screen with the machine's clock (Date.now(), the same clock the benchmark's
// store sampler uses). Env: BASE, EMAIL, PASSWORD, CAMPAIGN (the page's path). Prints a
// JSON summary: pressed, completed (ms since the epoch) and changes [[ms, sent]…].
import { launchChromium, signIn } from "./launch.mjs";

const { BASE, EMAIL, PASSWORD, CAMPAIGN } = process.env;
const summary = { changes: [], errors: [] };
const browser = await launchChromium();
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(60000);
  page.on("pageerror", (e) => summary.errors.push(e.message));
  await signIn(page, BASE, EMAIL, PASSWORD);
  await page.getByRole("link", { name: "Campaigns" }).first().waitFor();
  await page.goto(`${BASE}${CAMPAIGN}`);
  summary.pressed = Date.now();
  await page.getByRole("button", { name: "Start" }).click();
  await page.locator("#campaign-status", { hasText: "running" }).waitFor();
  await page.evaluate(() => {
    window.__changes = [];
    let last = null;
    const look = () => {
      const div = [...document.querySelectorAll(".counters div")].find((d) => d.querySelector("dt")?.textContent === "Sent");
      const sent = div ? Number(div.querySelector("dd").textContent) : null;
      if (sent !== null && sent !== last) {
        window.__changes.push([Date.now(), sent]);
        last = sent;
      }
      const status = document.getElementById("campaign-status")?.textContent;
      if (status === "completed" && !window.__completed) window.__completed = Date.now();
    };
    look();
    new MutationObserver(look).observe(document.getElementById("campaign-live"), { childList: true, subtree: true, characterData: true });
  });
  await page.waitForFunction(() => window.__completed, null, { timeout: 1800000, polling: 200 });
  summary.changes = await page.evaluate(() => window.__changes);
  summary.completed = await page.evaluate(() => window.__completed);
} catch (e) {
  summary.failure = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
