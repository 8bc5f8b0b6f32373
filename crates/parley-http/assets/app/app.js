// Parley's web application: the page works without this module (links and forms); it
// adds what a person at a keyboard all day expects. Nothing here builds markup from data:
// every piece of HTML comes from the server (ADR 0010).
//
// Keys (when not typing in a field): j / k — next / previous conversation in the list;
// Escape — close an open menu. In the reply box: Enter sends, Shift+Enter starts a line.

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
  if (event.key === "j") {
    event.preventDefault();
    moveInList(1);
  } else if (event.key === "k") {
    event.preventDefault();
    moveInList(-1);
  }
});

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
