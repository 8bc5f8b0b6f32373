// Parley's web application: the page works without this module (links and forms); it
// adds what a person at a keyboard all day expects. Nothing here builds markup from data:
// every piece of HTML comes from the server (ADR 0010).
//
// Keys (when not typing in a field): j / k — next / previous conversation in the list;
// / — search conversations; r — write a reply; a — assign to me; Shift+C — close the conversation; ? — the list of
// shortcuts; Escape — close an open menu. In the reply box: Enter sends, Shift+Enter
// starts a line, / opens the canned replies. The page lists them in its "Keyboard shortcuts" dialog.

/** Whether the key event happened while typing in a field. */
function typing(event) {
  const t = event.target;
  return t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
}

/** Moves focus to the next (`step` 1) or previous (-1) conversation row. */
function moveInList(step) {
  const rows = [...document.querySelectorAll(".rows .row")];
  if (rows.length === 0) return;
  const at = rows.indexOf(document.activeElement);
  const current = at >= 0 ? at : rows.findIndex((r) => r.getAttribute("aria-current") === "page");
  const next = current < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, current + step));
  rows[next].focus();
}

/** Closes every open menu except `keep`. */
function closeMenus(keep) {
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (menu !== keep) menu.removeAttribute("open");
  }
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    const open = document.querySelector("details.menu[open]");
    if (open) {
      closeMenus(null);
      open.querySelector("summary")?.focus();
    }
    return;
  }
  if (typing(event) || event.altKey || event.ctrlKey || event.metaKey) return;
  /** Presses the button with this exact text, when the page shows one. */
  const press = (text) => {
    const button = [...document.querySelectorAll("button")].find((b) => b.textContent.trim() === text);
    if (!button) return false;
    button.click();
    return true;
  };
  let handled = true;
  if (event.key === "j") moveInList(1);
  else if (event.key === "k") moveInList(-1);
  else if (event.key === "/") {
    const search = document.getElementById("search");
    search?.focus();
    search?.select();
    handled = Boolean(search);
  }
  else if (event.key === "r") {
    const box = document.getElementById("reply-text");
    box?.focus();
    handled = Boolean(box);
  }
  else if (event.key === "a") handled = press("Assign to me");
  else if (event.key === "C" && event.shiftKey) handled = press("Close conversation");
  else if (event.key === "?") document.getElementById("shortcuts")?.showModal();
  else handled = false;
  if (handled) event.preventDefault();
});

for (const opener of document.querySelectorAll("[data-shortcuts]")) {
  opener.addEventListener("click", () => {
    closeMenus(null);
    document.getElementById("shortcuts")?.showModal();
  });
}

// A click outside an open menu closes it, as menus do elsewhere.
document.addEventListener("click", (event) => {
  const inside = event.target instanceof Element ? event.target.closest("details.menu") : null;
  closeMenus(inside);
});

// The reply box: Enter sends the reply (as the Send button would), Shift+Enter (or an
// input method composing a character) keeps typing.
document.addEventListener("keydown", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLTextAreaElement) || box.id !== "reply-text") return;
  if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
  event.preventDefault();
  if (box.value.trim() === "") return;
  const send = box.form?.querySelector('button[value="reply"]');
  if (send) box.form.requestSubmit(send);
});

// An open conversation shows its latest messages: the thread starts scrolled to its end
// (the pane scrolls on a wide screen, the page on a phone).
const thread = document.getElementById("thread");
if (thread) {
  if (thread.scrollHeight > thread.clientHeight && getComputedStyle(thread).overflowY === "auto") {
    thread.scrollTop = thread.scrollHeight;
  } else {
    window.scrollTo(0, document.body.scrollHeight);
  }
}

// Live: the server says which conversation changed (server-sent events); the page reads
// itself again and swaps in the list, the open conversation's header, its messages and
// its tools — never the reply or the search being typed. Notices that come together make one read, and
// a read that is running when another notice comes is followed by one more. After a lost
// connection (or a read that failed), the same read is made once it is back: that is the
// catch-up, and since the messages are replaced as a whole, each shows exactly once.
const liveUrl = document.body.dataset.live;
if (liveUrl) {
  let running = false;
  let again = false;

  /** Replaces `selector`'s element in the page with the one of `fresh`, if both exist,
   * keeping the disclosures the person opened; a `form` part (the tools) is left alone
   * while the person is working in it (the next read catches up). */
  const swap = (fresh, selector, keepScroll, form = false) => {
    const now = document.querySelector(selector);
    const next = fresh.querySelector(selector);
    if (!now || !next) return;
    if (now.innerHTML === next.innerHTML) return;
    if (form && now.contains(document.activeElement)) return;
    const opened = [...now.querySelectorAll("details[open]")].map((d) => d.className);
    const top = now.scrollTop;
    now.innerHTML = next.innerHTML;
    for (const d of now.querySelectorAll("details")) if (opened.includes(d.className)) d.open = true;
    if (keepScroll) now.scrollTop = top;
  };

  const refresh = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const response = await fetch(location.href, { headers: { accept: "text/html" }, credentials: "same-origin" });
        if (response.redirected && new URL(response.url).pathname === "/app/sign-in") {
          location.reload(); // the session ended: sign in, then come back here
          return;
        }
        if (!response.ok) break;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        const pane = document.getElementById("thread");
        const atEnd = pane ? pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40 : false;
        swap(fresh, "#list .list-body", false);
        swap(fresh, ".views", true);
        swap(fresh, ".thread-head", false);
        swap(fresh, ".entries", false);
        swap(fresh, ".tools", false, true);
        if (pane && atEnd) pane.scrollTop = pane.scrollHeight;
        document.title = fresh.title;
      } while (again);
    } catch {
      // Offline for a moment: try again shortly (the notices that came meanwhile are
      // covered by that read), and at once when the browser says it is back.
      setTimeout(refresh, 2000);
    } finally {
      running = false;
    }
  };
  window.addEventListener("online", refresh);

  let lost = false;
  const events = new EventSource(liveUrl);
  events.addEventListener("conversation", refresh);
  events.addEventListener("error", () => {
    lost = true;
  });
  events.addEventListener("open", () => {
    if (lost) {
      lost = false;
      refresh();
    }
  });
}

// The reply counter: as the reply is written, the server counts it with the code that
// sends it (characters; for SMS the parts and their encoding) and the page shows it.
const replyForm = document.querySelector("form.reply[data-counter]");
if (replyForm) {
  const box = replyForm.querySelector("textarea");
  const out = replyForm.querySelector("output");
  let timer = 0;
  let asked = 0;
  box?.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++asked;
      const body = new URLSearchParams({
        csrf: replyForm.elements.csrf.value,
        sms: replyForm.elements.sms.value,
        text: box.value,
      });
      try {
        const r = await fetch(replyForm.dataset.counter, { method: "POST", body, credentials: "same-origin" });
        if (r.ok && mine === asked && out) out.textContent = await r.text();
      } catch {
        // The count waits for the next keystroke.
      }
    }, 120);
  });
}

// A list that completes what is being typed in a text box (the ARIA combobox pattern),
// shared by the canned replies and the flow editor's placeholders. `find(before)` reads
// the part just typed before the caret ({ start, words }) or null; the options whose
// `data-match` holds the words are shown; ↑ / ↓ choose, Enter or Tab puts `text(option)`
// in place of the typed part, Escape closes the list and keeps typing. With `follow`, the
// list moves under whichever box is being typed in (`attach(box)` for each).
function completer({ picker, status, find, text, say, follow }) {
  const options = [...picker.querySelectorAll('[role="option"]')];
  const none = picker.querySelector("[data-none]");
  const list = picker.querySelector('[role="listbox"]');
  let box = null;
  let shown = [];
  let at = -1;
  const typed = () => box && find(box.value.slice(0, box.selectionStart));
  const select = (index) => {
    at = index;
    for (const option of options) option.setAttribute("aria-selected", "false");
    const chosen = shown[index];
    if (chosen) {
      chosen.setAttribute("aria-selected", "true");
      chosen.scrollIntoView({ block: "nearest" });
      box?.setAttribute("aria-activedescendant", chosen.id);
    } else {
      box?.removeAttribute("aria-activedescendant");
    }
  };
  const close = () => {
    picker.hidden = true;
    shown = [];
    select(-1);
  };
  const update = () => {
    const query = typed();
    if (!query) {
      close();
      return;
    }
    shown = options.filter((option) => {
      option.hidden = !option.dataset.match.includes(query.words);
      return !option.hidden;
    });
    none.hidden = shown.length > 0;
    picker.hidden = false;
    select(shown.length > 0 ? 0 : -1);
    status.textContent = say(shown.length);
  };
  const insert = (option) => {
    const query = typed();
    if (!query) return;
    box.setRangeText(text(option), query.start, box.selectionStart, "end");
    close();
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true })); // counters and checks see it
  };
  const keys = (event) => {
    if (picker.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (shown.length === 0) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      select((at + step + shown.length) % shown.length);
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && at >= 0) {
      event.preventDefault();
      event.stopPropagation();
      insert(shown[at]);
    } else if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
  };
  for (const option of options) {
    // Pressing an option keeps the focus in the box (no blur), then inserts it.
    option.addEventListener("mousedown", (event) => {
      event.preventDefault();
      insert(option);
    });
  }
  close();
  return (target) => {
    if (target.dataset.completes) return;
    target.dataset.completes = "yes";
    target.setAttribute("aria-autocomplete", "list");
    target.setAttribute("aria-controls", list.id);
    target.addEventListener("focus", () => {
      if (box !== target) {
        close();
        box = target;
        if (follow) target.after(picker);
      }
    });
    target.addEventListener("input", () => box === target && update());
    target.addEventListener("blur", close);
    // On the box itself, so it runs before the page's Enter-sends handler and can stop it.
    target.addEventListener("keydown", (event) => box === target && keys(event));
  };
}

// Canned replies: "/" at the start of the reply or after a space opens the list of the
// organization's saved replies (the server filled each for this contact); what follows
// the "/" filters them by key or title.
const cannedPicker = document.getElementById("canned");
const replyBox = document.getElementById("reply-text");
if (cannedPicker && replyBox) {
  completer({
    picker: cannedPicker,
    status: document.getElementById("canned-status"),
    find: (before) => {
      const found = /(^|\s)\/([^\s/]*)$/.exec(before);
      return found ? { start: before.length - found[2].length - 1, words: found[2].toLowerCase() } : null;
    },
    text: (option) => option.querySelector(".canned-text").textContent,
    say: (n) => n > 0
      ? `${n} canned ${n === 1 ? "reply" : "replies"}: up and down to choose, Enter to insert.`
      : "No canned reply matches.",
  })(replyBox);
}

// Placeholders in the flow editor: "<<" in the document or in a step's text opens the
// organization's fields and the flow's own names; what follows filters them by key or
// label; the chosen one is written as <<key>>.
const placeholders = document.getElementById("placeholders");
if (placeholders) {
  const attach = completer({
    picker: placeholders,
    status: document.getElementById("placeholders-status"),
    follow: true,
    find: (before) => {
      const found = /<<([\w.-]*)$/.exec(before);
      return found ? { start: before.length - found[0].length, words: found[1].toLowerCase() } : null;
    },
    text: (option) => `<<${option.dataset.key}>>`,
    say: (n) => n > 0
      ? `${n} ${n === 1 ? "name" : "names"}: up and down to choose, Enter to insert.`
      : "No field or name matches.",
  });
  const attachAll = () => document.querySelectorAll("textarea[data-placeholders]").forEach(attach);
  attachAll();
  new MutationObserver(attachAll).observe(document.querySelector("main") ?? document.body, { childList: true, subtree: true });
}

// Copy buttons: `data-copy` names the element whose text goes to the clipboard (a secret
// shown once); the button says it was copied.
for (const button of document.querySelectorAll("button[data-copy]")) {
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = "Copied";
    } catch {
      // No clipboard here (an insecure origin): select the text to copy by hand.
      getSelection()?.selectAllChildren(source);
    }
  });
}

// Regions that follow work as it happens (`data-refresh` = milliseconds between reads):
// while the page is visible and nothing inside the region has focus, the page (or the
// region alone, from `data-refresh-from`) is read again and the region swapped in when
// it changed; once the fresh region no longer asks to be followed (the work is done), the
// reading stops.
for (const region of document.querySelectorAll("[data-refresh][id]")) {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy || document.hidden || region.contains(document.activeElement)) return;
    busy = true;
    try {
      const answer = await fetch(region.dataset.refreshFrom || location.href, { credentials: "same-origin" });
      if (!answer.ok) return;
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fresh = page.getElementById(region.id);
      if (fresh && fresh.innerHTML !== region.innerHTML) region.innerHTML = fresh.innerHTML;
      if (fresh && !fresh.hasAttribute("data-refresh")) clearInterval(timer);
    } catch {
      // Offline for a moment: the next tick tries again.
    } finally {
      busy = false;
    }
  }, Number(region.dataset.refresh) || 2000);
}

// Uploads (`form[data-upload]`): the form is sent by us so a progress bar can follow the
// upload; the answer replaces the page (the import's own page, or the form with its
// problems). A file dropped on the form is put in its file box. With `data-preview`, each
// chosen file and each changed option is first sent there — a CSV file's first megabyte,
// a workbook whole — and the answer's `#preview` region (how Parley reads the file, with
// a choice of target per column) put in the form, so Import sends the mapping shown.
const HEAD = 1024 * 1024;
for (const form of document.querySelectorAll("form[data-upload]")) {
  const input = form.querySelector("input[type=file]");
  const bar = form.querySelector("progress");
  const said = form.querySelector("[role=status]");
  let asked = 0;
  let wait;
  // `reset`: "file" forgets the last file's choices, "sheet" its columns' mapping.
  const preview = async (reset) => {
    const file = input?.files[0];
    const region = document.getElementById("preview");
    if (!form.dataset.preview || !file || !region) return;
    const ask = ++asked;
    const whole = /\.(xlsx?|xlsm)$/i.test(file.name) || file.size <= HEAD;
    const data = new FormData();
    for (const [name, value] of new FormData(form)) {
      const mapping = name.startsWith("header.") || name.startsWith("column.");
      if (name === "file" || (reset && (mapping || (reset === "file" && name === "sheet")))) continue;
      data.append(name, value);
    }
    if (reset === "file") region.replaceChildren();
    data.append("partial", whole ? "0" : "1");
    data.append("file", whole ? file : file.slice(0, HEAD), file.name);
    said.textContent = "Reading the file…";
    try {
      const answer = await fetch(form.dataset.preview, { method: "POST", body: data, credentials: "same-origin" });
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const shown = page.getElementById("preview");
      if (ask !== asked) return;
      if (shown) region.replaceWith(shown);
      said.textContent = shown ? "" : "The preview could not be made; the file can still be imported.";
    } catch {
      if (ask === asked) said.textContent = "The preview did not reach Parley; check the connection.";
    }
  };
  input?.addEventListener("change", () => preview("file"));
  form.addEventListener("change", (event) => {
    if (event.target === input) return;
    clearTimeout(wait);
    wait = setTimeout(() => preview(event.target.name === "sheet" ? "sheet" : ""), 250);
  });
  form.addEventListener("dragover", (event) => {
    event.preventDefault();
    form.classList.add("over");
  });
  form.addEventListener("dragleave", () => form.classList.remove("over"));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    form.classList.remove("over");
    if (input && event.dataTransfer?.files.length) {
      input.files = event.dataTransfer.files;
      preview("file");
    }
  });
  form.addEventListener("submit", (event) => {
    if (!window.XMLHttpRequest || !bar) return;
    event.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    bar.hidden = false;
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      bar.value = Math.round((e.loaded / e.total) * 100);
      said.textContent = `Uploading: ${bar.value}%`;
    });
    xhr.addEventListener("load", () => {
      if (xhr.status < 400 && xhr.responseURL) {
        location.assign(xhr.responseURL);
        return;
      }
      const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      const main = page.querySelector("main");
      if (main) document.querySelector("main").replaceWith(main);
      else said.textContent = "The upload was refused.";
    });
    xhr.addEventListener("error", () => {
      said.textContent = "The upload did not reach Parley; check the connection and try again.";
    });
    // The options (the preview's mapping among them) go before the file, which the
    // server streams as it arrives.
    const data = new FormData(form);
    const file = data.get("file");
    data.delete("file");
    if (file) data.append("file", file);
    xhr.send(data);
  });
}

// A campaign's audience counted as it is chosen (`form[data-audience]`): the audience
// boxes are sent to that address when the page opens and after each change, and the
// answer's count replaces the one shown.
for (const form of document.querySelectorAll("form[data-audience]")) {
  let wait;
  let asked = 0;
  const count = async () => {
    const shown = document.getElementById("audience-count");
    if (!shown) return;
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (/^(audience|import_id|field\.\d+|value\.\d+)$/.test(name)) query.append(name, value);
    }
    const ask = ++asked;
    try {
      const answer = await fetch(`${form.dataset.audience}?${query}`, { credentials: "same-origin" });
      const fresh = new DOMParser().parseFromString(await answer.text(), "text/html").getElementById("audience-count");
      if (ask === asked && fresh) shown.replaceWith(fresh);
    } catch {
      // Offline for a moment: the next change asks again.
    }
  };
  const later = (event) => {
    if (!/^(audience|import_id|field\.\d+|value\.\d+)$/.test(event.target.name || "")) return;
    clearTimeout(wait);
    wait = setTimeout(count, 300);
  };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  count();
}

// The flow editor (`form[data-flow-check]`): half a second after the person stops typing,
// the document goes to that address and the answer (the flow drawn and its findings with
// their lines) replaces `#flow-check`. Only the latest answer is shown.
for (const form of document.querySelectorAll("form[data-flow-check]")) {
  const box = form.querySelector("textarea[name=document]");
  let wait;
  let asked = 0;
  box?.addEventListener("input", () => {
    clearTimeout(wait);
    wait = setTimeout(async () => {
      const ask = ++asked;
      const body = new URLSearchParams({ csrf: form.querySelector("[name=csrf]").value, document: box.value });
      try {
        const answer = await fetch(form.dataset.flowCheck, { method: "POST", body, credentials: "same-origin" });
        const fresh = new DOMParser().parseFromString(await answer.text(), "text/html").getElementById("flow-check");
        const shown = document.getElementById("flow-check");
        if (ask === asked && fresh && shown) shown.replaceWith(fresh);
      } catch {
        // Offline for a moment: the next keystroke asks again.
      }
    }, 500);
  });
}

// Try it (`form[data-try]`) and the dialogue scripts (`form[data-script]`): the form goes
// with the editor's document as typed; the answer replaces the form's region, and after a
// turn of Try it the reply box takes the focus again. A chosen script file is read into
// the script box.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest?.("form[data-try], form[data-script]");
  const region = form?.closest("section[id]");
  if (!region) return;
  event.preventDefault();
  const data = new FormData(form);
  if (event.submitter?.name) data.append(event.submitter.name, event.submitter.value);
  data.append("document", document.getElementById("flow-document")?.value ?? "");
  try {
    const answer = await fetch(form.action, { method: "POST", body: new URLSearchParams(data), credentials: "same-origin" });
    const fresh = new DOMParser().parseFromString(await answer.text(), "text/html").getElementById(region.id);
    if (fresh) {
      region.replaceWith(fresh);
      showScriptFile(fresh);
      (fresh.querySelector("#try-reply") || fresh.querySelector("input[name^='fetch.']"))?.focus();
    }
  } catch {
    // Offline for a moment: the tester presses again.
  }
});
function showScriptFile(within) {
  for (const part of within.querySelectorAll("[data-script-file]")) part.hidden = false;
}
showScriptFile(document);
document.addEventListener("change", async (event) => {
  if (event.target.id !== "script-file") return;
  const file = event.target.files?.[0];
  const box = document.getElementById("script-text");
  if (file && box) box.value = await file.text();
});

// The flow editor's step form (`#step-edit`): a step in the drawing opens its form as the
// document stands typed; Apply to document or Remove step sends the form with the document
// as typed; changing the step's type redraws the form's fields. Each answer is the editor's
// page, from which the document, the drawing with its findings and the form are taken.
const stepEditor = document.querySelector("form[data-flow-check]");
if (stepEditor) {
  const box = stepEditor.querySelector("textarea[name=document]");
  const swap = async (body) => {
    body.set("csrf", stepEditor.querySelector("[name=csrf]").value);
    body.set("document", box.value);
    try {
      const answer = await fetch(stepEditor.dataset.flowStep, { method: "POST", body, credentials: "same-origin" });
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const typed = page.getElementById("flow-document");
      if (typed) box.value = typed.value;
      const check = page.getElementById("flow-check");
      if (check) document.getElementById("flow-check")?.replaceWith(check);
      const form = page.getElementById("step-edit");
      const shown = document.getElementById("step-edit");
      if (form && shown) shown.replaceWith(form);
      else if (form) document.getElementById("graph-title")?.closest("section")?.after(form);
      else shown?.remove();
      return form;
    } catch {
      return null; // Offline for a moment: the person clicks again.
    }
  };
  document.addEventListener("click", async (event) => {
    const close = event.target.closest?.("a[data-step-close]");
    if (close) {
      event.preventDefault();
      document.getElementById("step-edit")?.remove();
      return;
    }
    const node = event.target.closest?.("a[data-step]");
    if (!node) return;
    event.preventDefault();
    const form = await swap(new URLSearchParams({ do: "open", step: node.dataset.step }));
    form?.scrollIntoView({ block: "nearest" });
    form?.querySelector("#step-name")?.focus();
  });
  document.addEventListener("submit", (event) => {
    const form = event.target.closest?.("form[data-step-form]");
    if (!form) return;
    event.preventDefault();
    const data = new URLSearchParams(new FormData(form));
    if (event.submitter?.name) data.set(event.submitter.name, event.submitter.value);
    swap(data);
  });
  document.addEventListener("change", (event) => {
    if (event.target.id !== "step-type") return;
    const data = new URLSearchParams(new FormData(event.target.form));
    data.set("do", "open");
    swap(data).then((fresh) => fresh?.querySelector("#step-type")?.focus());
  });
}
