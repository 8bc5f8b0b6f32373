// The flow editor with the example flows in Debian's chromium, as a supervisor works:
// signs in; for each flow opens it from Flows, reads its drawing (a box per step), breaks
// a branch's condition in the document and reads the finding at its step, line and column,
// types it back; opens a step from the drawing, renames it in its form and applies it to
// the document; completes a placeholder typed after "<<"; publishes; and plays the flow's
// dialogue script, chosen as a file, to the end. Pages are audited with axe-core, light and
// dark. Env: BASE, EMAIL, PASSWORD, FLOWS (JSON: [{name, scriptName, script}]), and OUT to
// save the README's picture of the editor. Prints a JSON summary.
import { auditThemes, runBrowserTest, signIn } from "./launch.mjs";
const { BASE, EMAIL, PASSWORD, OUT } = process.env;
const FLOWS = JSON.parse(process.env.FLOWS);

const summary = { flows: {}, violations: [], errors: [] };
await runBrowserTest(summary, async (browser) => {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(20000);
  page.on("pageerror", (e) => summary.errors.push(e.message));
  const check = (where) => auditThemes(page, summary, "flows", where);
  const text = (locator) => locator.textContent().then((t) => t.replace(/\s+/g, " ").trim());
  await signIn(page, BASE, EMAIL, PASSWORD);

  for (const [index, flow] of FLOWS.entries()) {
    const seen = {};
    summary.flows[flow.name] = seen;
    const first = index === 0;
    await page.getByRole("link", { name: "Flows" }).first().click();
    await page.getByRole("heading", { name: "Flows", level: 1 }).waitFor();
    await page.getByRole("link", { name: flow.name, exact: true }).click();
    await page.getByRole("heading", { name: flow.name, level: 1 }).waitFor();
    seen.boxes = await page.locator("svg.flow-graph .node").count();
    seen.arrows = await page.locator("svg.flow-graph .edge").count();
    seen.clean = await text(page.locator("#flow-check .ok-note"));
    if (first) await check("editor");

    // A condition broken as typed: the finding names its step, line and column.
    const box = page.getByRole("textbox", { name: /^Document/ });
    const original = await box.inputValue();
    const lines = original.split("\n");
    const at = lines.findIndex((l) => l.includes('"when": "'));
    seen.brokenLine = at + 1;
    lines[at] = lines[at].replace(/",?\s*$/, (end) => ` ==${end}`);
    await box.fill(lines.join("\n"));
    await page.locator(".findings .finding-error").first().waitFor();
    seen.finding = await text(page.locator(".findings li").first());
    if (first) await check("broken");
    await box.fill(original);
    await page.locator("#flow-check .ok-note").waitFor();

    // A placeholder completed after "<<": the list offers the fields and the flow's names.
    await box.focus();
    await box.evaluate((el) => el.setSelectionRange(el.value.indexOf('"text": "') + 9, el.value.indexOf('"text": "') + 9));
    await page.keyboard.type("<<first");
    await page.getByRole("option", { name: /<<first_name>>/ }).waitFor();
    seen.offered = await page.getByRole("listbox", { name: "Placeholders" }).getByRole("option").filter({ visible: true }).allTextContents();
    if (first) await check("placeholders");
    await page.keyboard.press("Enter");
    seen.completed = (await box.inputValue()).includes('"text": "<<first_name>>');
    await box.fill(original);
    await page.locator("#flow-check .ok-note").waitFor();

    // A branch opened from the drawing, renamed in its form and written into the document
    // (the ways to it renamed too).
    const node = page.locator("svg.flow-graph a.node-link").filter({ has: page.locator("g.node.branch") }).first();
    const step = await node.getAttribute("data-step");
    await node.click();
    await page.getByRole("heading", { name: `Step ${step}`, level: 2 }).waitFor();
    seen.formFields = await page.locator("#step-edit label").allTextContents();
    seen.selected = await page.locator("svg.flow-graph .node.selected").getAttribute("data-step");
    if (first) await check("step");
    if (first && OUT) {
      await page.locator("#step-edit").scrollIntoViewIfNeeded();
      await page.evaluate(() => window.scrollTo(0, document.getElementById("graph-title").getBoundingClientRect().top + window.scrollY - 70));
      await page.screenshot({ path: OUT });
    }
    await page.getByLabel("Step name").fill(`${step}_renamed`);
    await page.getByRole("button", { name: "Apply to document" }).click();
    await page.locator("#step-edit .notice", { hasText: `Step ${step}_renamed written into the document` }).waitFor();
    const written = await box.inputValue();
    seen.renamed = written.includes(`"${step}_renamed": {`) && !written.includes(`"${step}": {`);
    seen.afterRename = await text(page.locator("#flow-check .ok-note"));

    // Published, then its dialogue script, chosen as a file, played to the end.
    await page.getByRole("button", { name: "Publish" }).click();
    await page.locator(".notice", { hasText: "Published as version" }).waitFor();
    seen.published = await text(page.locator(".notice").first());
    await page.getByLabel("Script file").setInputFiles({ name: flow.scriptName, mimeType: "text/plain", buffer: Buffer.from(flow.script) });
    await page.getByRole("button", { name: "Play script" }).click();
    await page.locator(".script-results").waitFor();
    seen.played = await text(page.locator(".script-results > p").first());
    seen.dialogues = await page.locator(".script-results details summary").allTextContents();
    await page.locator(".script-results details summary").first().click();
    seen.firstTranscript = await page.locator(".script-results details").first().locator(".transcript li").allTextContents();
    if (first) await check("script");
  }

  // On a phone the editor fits the screen.
  await page.setViewportSize({ width: 390, height: 800 });
  await page.reload();
  await check("phone");
  summary.phoneOverflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
});
