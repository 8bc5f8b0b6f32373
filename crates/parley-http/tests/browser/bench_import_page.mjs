// The import page's goal, measured by `parley bench import --page`: a person signs in
// (headless chromium), chooses the benchmark's CSV file on the Imports page, makes its
// customer_ref column the customer id in the preview, presses Import and watches the
// import's page until it says completed. Every 50 ms it reads the page's "Rows read"
// counter and records when the number shown changes (one clock, the machine's).
// Env: BASE, EMAIL, PASSWORD, FILE. Prints a JSON summary (milliseconds since Import was
// pressed): uploaded (the import's page shown), completed, changes [[ms, rows]…], rows.
import { launchChromium, signIn } from "./launch.mjs";

const { BASE, EMAIL, PASSWORD, FILE } = process.env;
const summary = { changes: [], errors: [] };
const browser = await launchChromium();
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(60000);
  page.on("pageerror", (e) => summary.errors.push(e.message));
  await signIn(page, BASE, EMAIL, PASSWORD);
  await page.getByRole("link", { name: "Imports" }).first().click();
  await page.getByLabel("Choose file").setInputFiles(FILE);
  await page.locator("#preview-detected").waitFor();
  await page.getByLabel(/\(customer_ref\) goes to$/).selectOption("customer_id");
  await page.locator(".preview .hint", { hasText: "customer_ref" }).waitFor({ state: "detached" });
  const pressed = Date.now();
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await page.waitForURL(/\/imports\/imp_/, { timeout: 600000 });
  summary.uploaded = Date.now() - pressed;
  let last = null;
  for (;;) {
    const seen = await page.evaluate(() => {
      const rows = [...document.querySelectorAll(".counters div")].find((d) => d.querySelector("dt")?.textContent === "Rows read");
      return { rows: rows?.querySelector("dd")?.textContent ?? "", status: document.querySelector("#import-progress .badge")?.textContent ?? "" };
    });
    if (seen.rows !== last) {
      summary.changes.push([Date.now() - pressed, Number(seen.rows)]);
      last = seen.rows;
    }
    if (seen.status === "completed" || seen.status === "failed") {
      summary.completed = Date.now() - pressed;
      summary.status = seen.status;
      summary.rows = Number(seen.rows);
      break;
    }
    if (Date.now() - pressed > 900000) throw new Error("the import did not finish in 15 minutes");
    await page.waitForTimeout(50);
  }
} catch (e) {
  summary.failure = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
