// Drives Parley's agent desk in Debian's chromium as an agent would: opens the
// application, is sent to sign in, gets a wrong password refused, signs in, finds the
// waiting conversation under Unassigned, opens it and reads the customer's words as
// text; saves a canned reply on its page; on the wide screen takes the conversation,
// inserts the canned reply with "/", sends it with Enter, adds a note, sets an outcome
// status, closes it and finds it again with the search; then signs out. Each page is audited with axe-core (no serious or critical
// violation) in the light theme on a phone and the dark one on a wide screen. Run by the
// Rust test `desk_browser` with BASE, EMAIL, PASSWORD and EXPECT (the customer's text);
// SCREENSHOTS, when set, is a folder for pictures. Prints a JSON summary; exits 1 with
// the reason on any failure.
import { audit, runBrowserTest } from "./launch.mjs";
const { BASE, EMAIL, PASSWORD, EXPECT, SCREENSHOTS } = process.env;
if (!BASE || !EMAIL || !PASSWORD || !EXPECT) {
  console.error("BASE, EMAIL, PASSWORD and EXPECT are required");
  process.exit(2);
}

const summary = { refused: "", thread: "", reply: "", counter: "", closedHasReply: null, scriptRan: false, violations: [], errors: [], foreign: [] };
await runBrowserTest(summary, async (browser) => {
  for (const [scheme, width] of [["light", 390], ["dark", 1280]]) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width, height: 820 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on("pageerror", (e) => summary.errors.push(e.message));
    page.on("dialog", async (d) => {
      summary.scriptRan = true;
      await d.dismiss();
    });
    page.on("request", (r) => {
      if (!r.url().startsWith(BASE)) summary.foreign.push(r.url());
    });
    page.on("response", (r) => {
      // The wrong password is refused on purpose (401).
      // The refused webhook (422) is refused on purpose too.
      const refusedHook = r.status() === 422 && /\/(integrations|organizations)$/.test(r.url());
      if (r.status() >= 400 && r.status() !== 401 && !refusedHook) summary.errors.push(`${r.status()} ${r.url()}`);
    });
    const shot = async (name) => {
      if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/desk-${name}-${scheme}-${width}.png`, fullPage: width < 600 });
    };
    const check = async (where) => {
      summary.violations.push(...(await audit(page)).map((v) => `${scheme} ${where}: ${v}`));
      // Nothing may make the page wider than the screen (a phone would scroll sideways).
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > page.viewportSize().width) summary.errors.push(`${scheme} ${where}: ${width} px wide`);
    };

    // A section's link: on a phone in the person's menu, wide either in the top bar or,
    // for what is set up once, in its Settings menu.
    const SETTINGS = ["Canned replies", "Organizations", "People", "Integrations", "Channels", "Queues"];
    const section = async (name) => {
      if (width < 600) await page.locator("details.me summary").click();
      else if (SETTINGS.includes(name)) await page.locator("details.settings summary").click();
      await page.getByRole("link", { name, exact: true }).first().click();
    };

    await page.goto(`${BASE}/`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await check("sign-in");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    summary.refused = (await alert.textContent()).trim();
    await check("sign-in refused");
    await shot("sign-in-refused");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();

    const list = page.getByRole("region", { name: "Conversations" });
    await list.waitFor();
    await check("desk");
    await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: "Unassigned" }).click();
    const row = list.getByRole("link").filter({ hasText: "+447911123456" }).first();
    await row.waitFor();
    await shot("list");
    await row.click();
    const thread = page.getByRole("region", { name: "+447911123456" });
    await thread.waitFor();
    summary.thread = (await thread.locator(".entry.in .entry-body").first().textContent()) ?? "";
    await check("thread");
    await shot("thread");
    await page.getByText("Contact details").click();
    await thread.locator(".facts dd", { hasText: "+447911123456" }).waitFor();
    await check("contact panel");

    // A canned reply, saved on its page (in the first pass) and audited in both themes.
    const threadUrl = page.url();
    await section("Canned replies");
    await page.getByRole("heading", { name: "Canned replies", level: 1 }).waitFor();
    if (scheme === "light") {
      await page.getByLabel("Key").fill("friday");
      await page.getByLabel("Title").fill("Friday is fine");
      await page.getByLabel("Text").fill("Friday is fine.");
      await page.getByRole("button", { name: "Save reply" }).click();
      await page.getByText("/friday").waitFor();
    }
    await check("canned replies");
    await shot("replies");
    // The integrations page, with an endpoint refused (its problem next to the field).
    await section("Integrations");
    await page.getByRole("heading", { name: "Integrations", level: 1 }).waitFor();
    await page.getByLabel("Callback URL").fill("ftp://example.com/hook");
    await page.getByRole("checkbox", { name: "setStatus" }).check();
    await page.getByRole("button", { name: "Add webhook" }).click();
    await page.getByRole("alert").waitFor();
    summary.integrationsChecked = await page.getByRole("checkbox", { name: "setStatus" }).isChecked();
    await check("integrations");
    await shot("integrations");
    await section("Queues");
    await page.getByRole("heading", { name: "Queues", level: 1 }).waitFor();
    await check("queues");
    await shot("queues");
    // Channels: the simulator channel of the test with its form, and the add form.
    await section("Channels");
    await page.getByRole("heading", { name: "Channels", level: 1 }).waitFor();
    await page.locator("details.edit summary").first().click();
    await check("channels");
    await shot("channels");
    // Contacts: the list, the contact of the waiting conversation, the fields page.
    await section("Contacts");
    await page.getByRole("heading", { name: "Contacts", level: 1 }).waitFor();
    await check("contacts");
    await shot("contacts");
    await page.locator("table.members a").first().click();
    await page.getByRole("heading", { name: "Details" }).waitFor();
    await check("contact");
    await shot("contact");
    await page.getByRole("link", { name: "Contacts" }).first().click();
    await page.getByRole("link", { name: "Fields and suppression list" }).click();
    await page.getByRole("heading", { name: "Fields and suppression list", level: 1 }).waitFor();
    await check("fields");
    await shot("fields");
    // Imports: a file uploaded by our module (the progress bar), then its own page.
    await section("Imports");
    await page.getByRole("heading", { name: "Imports", level: 1 }).waitFor();
    await check("imports");
    // Choosing the file shows it as Parley reads it; Ref is made the customer id there.
    const mobile = scheme === "light" ? "444" : "445";
    await page.getByLabel("Choose file").setInputFiles({ name: `people-${scheme}.csv`, mimeType: "text/csv", buffer: Buffer.from(`Ref;first_name;phone\nZ-${scheme};Zoe;07911 000${mobile}\n`) });
    await page.locator("#preview-detected", { hasText: "separated by semicolons" }).waitFor();
    await page.locator(".cell-read", { hasText: `+447911000${mobile}` }).first().waitFor();
    const ref = page.getByLabel("Column 1 (Ref) goes to");
    if ((await ref.inputValue()) !== "ref") throw new Error("Ref should be a new field until changed");
    await ref.selectOption("customer_id");
    await page.locator(".preview .hint", { hasText: "new fields from this file" }).waitFor({ state: "detached" });
    if ((await ref.inputValue()) !== "customer_id") throw new Error("the preview keeps the choice");
    await check("import preview");
    await shot("import-preview");
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await page.getByRole("heading", { name: `people-${scheme}.csv`, level: 1 }).waitFor();
    await check("import");
    await shot("import");
    await page.locator(".badge", { hasText: "completed" }).waitFor();
    // The mapping chosen in the preview is the one used: Zoe is found by her reference.
    await section("Contacts");
    await page.getByLabel("Customer id").fill(`Z-${scheme}`);
    await page.getByRole("button", { name: "Find" }).click();
    await page.locator("table.members a", { hasText: "Zoe" }).waitFor();
    // Organizations, with a sub-organization refused (every bad field beside its field).
    await section("Organizations");
    await page.getByRole("heading", { name: "Organizations", level: 1 }).waitFor();
    await page.locator("#new-name").fill(`Team ${scheme}`);
    await page.locator("#new-timezone").fill("Mars/Olympus");
    await page.getByRole("button", { name: "Add sub-organization" }).click();
    await page.getByRole("alert").waitFor();
    await check("organizations refused");
    await shot("organizations-refused");
    await page.locator("#new-timezone").fill("");
    await page.getByRole("button", { name: "Add sub-organization" }).click();
    await page.locator(".org-tree strong", { hasText: `Team ${scheme}` }).waitFor();
    await check("organizations");
    await shot("organizations");
    // People: an API key made, its secret shown once; then the audit log.
    await section("People");
    await page.getByRole("heading", { name: "People", level: 1 }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill(`Billing ${scheme}`);
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("heading", { name: "API key secret" }).waitFor();
    summary.keySecretShown = (await page.locator("#once-value").textContent()).startsWith("pk_");
    await check("people");
    await shot("people");
    await page.getByRole("link", { name: "audit log" }).click();
    await page.getByRole("heading", { name: "Audit log", level: 1 }).waitFor();
    await page.getByLabel("Action").selectOption("api_key_created");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByRole("cell", { name: "API key created" }).first().waitFor();
    await check("audit log");
    await shot("audit");
    await page.goto(threadUrl);
    await thread.waitFor();

    if (scheme === "dark") {
      // The shortcuts are listed in a dialog that passes the audit.
      await page.keyboard.press("?");
      await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
      await check("shortcuts");
      await page.keyboard.press("Escape");
      // Work the conversation from the keyboard: take it (a), write (r), send (Enter);
      // then note, tag and close.
      await page.keyboard.press("a");
      await thread.locator(".thread-facts").getByText("Assigned to Owner").waitFor();
      await page.keyboard.press("r");
      await page.keyboard.type("/fri");
      await page.getByRole("listbox", { name: "Canned replies" }).getByRole("option", { name: /Friday is fine/ }).waitFor();
      await check("canned reply list");
      await shot("canned");
      await page.keyboard.press("Enter");
      summary.inserted = await page.getByLabel("Reply").inputValue();
      const counter = page.locator("#reply-counter");
      await counter.filter({ hasText: "15 characters" }).waitFor();
      summary.counter = (await counter.textContent()).trim();
      await page.getByLabel("Reply").press("Enter");
      await thread.locator(".entry.out .entry-body", { hasText: "Friday is fine." }).waitFor();
      summary.reply = (await thread.locator(".entry.out").last().locator(".entry-who").textContent()).trim();
      await page.getByLabel("Reply").fill("Promised Friday; call back if not paid.");
      await page.getByRole("button", { name: "Add note" }).click();
      await thread.locator(".entry.note", { hasText: "Promised Friday" }).waitFor();
      await page.getByLabel("Outcome status").selectOption({ label: "Promise to pay" });
      await page.getByRole("button", { name: "Set", exact: true }).click();
      await thread.locator(".thread-facts .badge.outcome", { hasText: "Promise to pay" }).waitFor();
      await check("thread after acting");
      await shot("worked");
      await page.getByRole("button", { name: "Close conversation" }).click();
      await thread.locator(".thread-facts .badge", { hasText: "Closed" }).waitFor();
      summary.closedHasReply = (await page.getByLabel("Reply").count()) > 0;
      // Find it again from the keyboard: / goes to the search, the national form of
      // the number finds it (closed ones too).
      await page.keyboard.press("/");
      await page.keyboard.type("07911 123456");
      await page.keyboard.press("Enter");
      await list.getByRole("heading", { name: "Results for “07911 123456”" }).waitFor();
      summary.searchRows = await list.locator(".rows .row").count();
      summary.searchBox = await page.getByRole("searchbox", { name: "Search conversations" }).inputValue();
      await check("search results");
      await shot("search");
    }
    await page.locator("details.me summary").click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await context.close();
  }
});
