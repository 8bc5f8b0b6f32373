// The desk's live latency, measured by `parley bench desk --live`: a person watches one
// conversation open in the desk (headless chromium) while customers write RATE messages
// a second spread over CONVERSATIONS conversations, through the sim channel's API. For
// each message to the open conversation it records the time from just before its
// request was sent to its text appearing in the thread (a MutationObserver in the page;
// one clock, the machine's). Every other message moves the list. Env: BASE, TOKEN,
// CHANNEL, EMAIL, PASSWORD, RATE, SECONDS, CONVERSATIONS. Prints a JSON summary.
import { launchChromium } from "./launch.mjs";

const { BASE, TOKEN, CHANNEL, EMAIL, PASSWORD } = process.env;
const RATE = Number(process.env.RATE || 50);
const SECONDS = Number(process.env.SECONDS || 20);
const CONVERSATIONS = Number(process.env.CONVERSATIONS || 20);
const from = (k) => `+4479110${String(k).padStart(5, "0")}`;

async function customerSays(k, text) {
  const r = await fetch(`${BASE}/api/v1/channels/${CHANNEL}/sim/inbound`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ from: from(k), text }),
  });
  if (!r.ok) throw new Error(`sim inbound answered ${r.status}: ${await r.text()}`);
}

const summary = { sent: 0, watched: 0, latencies: [], missing: 0, failedRequests: 0, errors: [] };
const browser = await launchChromium();
try {
  for (let k = 0; k < CONVERSATIONS; k++) await customerSays(k, `Hello from customer ${k}`);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  page.setDefaultTimeout(20000);
  page.on("pageerror", (e) => summary.errors.push(e.message));
  await page.goto(`${BASE}/`);
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: "All" }).click();
  await page.getByRole("region", { name: "Conversations" }).getByRole("link").filter({ hasText: from(0) }).first().click();
  await page.getByRole("region", { name: from(0) }).waitFor();
  await page.evaluate(() => {
    window.__seen = {};
    const look = () => {
      for (const el of document.querySelectorAll(".entry-body")) {
        const m = /^live-(\d+)$/.exec(el.textContent);
        if (m && !(m[1] in window.__seen)) window.__seen[m[1]] = Date.now();
      }
    };
    new MutationObserver(look).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  // Customers write at RATE a second; message n goes to conversation n % CONVERSATIONS.
  const sentAt = {};
  const inFlight = [];
  const start = Date.now();
  const total = RATE * SECONDS;
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const k = n % CONVERSATIONS;
    if (k === 0) sentAt[n] = Date.now();
    inFlight.push(customerSays(k, `live-${n}`).catch(() => summary.failedRequests++));
    summary.sent++;
  }
  await Promise.all(inFlight);
  await new Promise((r) => setTimeout(r, 3000));
  const seen = await page.evaluate(() => window.__seen);
  for (const [n, at] of Object.entries(sentAt)) {
    summary.watched++;
    if (seen[n] === undefined) summary.missing++;
    else summary.latencies.push(seen[n] - at);
  }
} catch (e) {
  summary.errors.push(e.message);
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
