/* Parley web chat: the widget an organization embeds on its site.
 *
 *   <script src="https://parley.example.com/widget.js" data-channel="chn_…" async></script>
 *
 * Optional attributes on the tag:
 *   data-user-token  a JWT the site signs (HS256, the channel's identity_secret) for a
 *                    signed-in user: {sub, exp, name?, email?}
 *   data-title       the panel's title (default "Chat with us")
 *   data-open        "true" to open the panel at once
 *
 * It draws a launcher and a panel inside a shadow root (the page's styles do not reach
 * it), talks to Parley over one WebSocket, keeps the visitor token Parley gives it in
 * this site's localStorage, shows the thread after a reload, resends what was not
 * acknowledged after a reconnection, and tells Parley which replies were shown.
 * No framework, no dependency, no cookie.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__parleyChat) return;
  var channel = script.getAttribute("data-channel");
  if (!channel) { console.error("Parley chat: the script tag needs data-channel"); return; }
  var base = new URL(script.src);
  var wsUrl = (base.protocol === "https:" ? "wss:" : "ws:") + "//" + base.host +
    "/webchat/ws?channel=" + encodeURIComponent(channel);
  var userToken = script.getAttribute("data-user-token") || null;
  var title = script.getAttribute("data-title") || "Chat with us";
  var storeKey = "parley_visitor_" + channel;

  var state = { socket: null, ready: false, lines: {}, pending: [], retry: 500, open: false };
  window.__parleyChat = state;

  function stored() { try { return localStorage.getItem(storeKey); } catch (e) { return null; } }
  function keep(token) { try { localStorage.setItem(storeKey, token); } catch (e) { /* private mode */ } }

  // ---- the view -------------------------------------------------------------------
  var host = document.createElement("div");
  host.setAttribute("data-parley-chat", "");
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" +
    ":host{all:initial}" +
    ".launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;" +
    "padding:12px 18px;background:#1f4f8f;color:#fff;font:600 14px system-ui,sans-serif;cursor:pointer}" +
    ".panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:320px;max-width:calc(100vw - 40px);" +
    "height:420px;max-height:calc(100vh - 100px);display:none;flex-direction:column;background:#fff;" +
    "border:1px solid #ccd;border-radius:10px;box-shadow:0 6px 24px rgba(0,0,0,.18);font:14px system-ui,sans-serif;color:#222}" +
    ".panel.open{display:flex}" +
    "header{padding:10px 14px;background:#1f4f8f;color:#fff;font-weight:600;border-radius:10px 10px 0 0}" +
    ".log{padding:10px;overflow-y:auto;flex:1}" +
    ".log:focus-visible{outline:2px solid #1f4f8f;outline-offset:-2px}" +
    "ol{list-style:none;margin:0;padding:0}" +
    "li{margin:6px 0;padding:7px 10px;border-radius:12px;width:fit-content;max-width:80%;white-space:pre-wrap;word-wrap:break-word}" +
    "li.inbound{margin-left:auto;background:#1f4f8f;color:#fff}" +
    "li.outbound{margin-right:auto;background:#eef1f6}" +
    "li.sending{opacity:.6}" +
    "form{display:flex;border-top:1px solid #dde;padding:8px;gap:6px}" +
    "textarea{flex:1;resize:none;height:38px;font:inherit;padding:6px;border:1px solid #ccd;border-radius:6px}" +
    "button.send{border:0;border-radius:6px;background:#1f4f8f;color:#fff;padding:0 12px;font:inherit;cursor:pointer}" +
    ".note{font-size:12px;color:#a33;padding:0 12px 6px}" +
    "</style>" +
    "<button class='launch' type='button' aria-expanded='false'></button>" +
    "<section class='panel' role='dialog'>" +
    "<header></header>" +
    "<div class='log' role='log' aria-live='polite' aria-label='Conversation' tabindex='0'><ol></ol></div>" +
    "<div class='note' role='status'></div>" +
    "<form><textarea aria-label='Message' placeholder='Write a message…' maxlength='4096'></textarea>" +
    "<button class='send' type='submit'>Send</button></form>" +
    "</section>";
  var launch = root.querySelector(".launch");
  var panel = root.querySelector(".panel");
  var scroller = root.querySelector(".log");
  var list = root.querySelector("ol");
  var note = root.querySelector(".note");
  var input = root.querySelector("textarea");
  launch.textContent = title;
  // The accessible name holds the visible text (WCAG 2.5.3) and says what a press does.
  function nameLaunch(open) { launch.setAttribute("aria-label", (open ? "Close chat: " : "Open chat: ") + title); }
  nameLaunch(false);
  root.querySelector("header").textContent = title;
  panel.setAttribute("aria-label", title);

  function toggle(open) {
    state.open = open;
    panel.classList.toggle("open", open);
    nameLaunch(open);
    launch.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) { input.focus(); scroller.scrollTop = scroller.scrollHeight; markRead(); }
  }
  launch.addEventListener("click", function () { toggle(!state.open); });

  function show(line, sending) {
    var el = state.lines[line.id] || (line.client_id && state.lines[line.client_id]);
    if (!el) {
      el = document.createElement("li");
      list.appendChild(el);
    }
    el.className = line.direction + (sending ? " sending" : "");
    el.textContent = line.text;
    el.setAttribute("data-direction", line.direction);
    state.lines[line.id] = el;
    if (line.client_id) state.lines[line.client_id] = el;
    scroller.scrollTop = scroller.scrollHeight;
  }

  // ---- the socket -----------------------------------------------------------------
  var unread = [];
  function send(frame) {
    if (state.socket && state.socket.readyState === 1) state.socket.send(JSON.stringify(frame));
  }
  function markRead() {
    if (!state.open || document.visibilityState !== "visible") return;
    while (unread.length) send({ type: "read", id: unread.shift() });
  }
  document.addEventListener("visibilitychange", markRead);

  function connect() {
    var socket = new WebSocket(wsUrl);
    state.socket = socket;
    socket.onopen = function () {
      send({ type: "hello", visitor_token: stored(), user_token: userToken });
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "welcome") {
        keep(frame.visitor_token);
        state.ready = true;
        state.retry = 500;
        note.textContent = "";
        frame.history.forEach(function (line) { show(line, false); });
        state.pending.forEach(function (p) { send(p); });
      } else if (frame.type === "message") {
        var known = !!state.lines[frame.id];
        show(frame, false);
        if (frame.direction === "inbound") {
          state.pending = state.pending.filter(function (p) { return p.client_id !== frame.client_id; });
        } else if (!known) {
          send({ type: "received", id: frame.id });
          unread.push(frame.id);
          markRead();
        }
      } else if (frame.type === "error") {
        note.textContent = frame.code === "rate_limited" ? "Please slow down a little." :
          "Something went wrong (" + frame.code + ").";
        if (frame.code === "rate_limited" || frame.code === "unavailable") {
          setTimeout(function () { state.pending.forEach(function (p) { send(p); }); }, 1500);
        }
        if (window.console) console.warn("Parley chat:", frame.code, frame.detail);
      }
    };
    socket.onclose = function (event) {
      state.ready = false;
      if (event.code === 4401 || event.code === 4403 || event.code === 4404) {
        note.textContent = "Chat is unavailable.";
        return;
      }
      setTimeout(connect, state.retry);
      state.retry = Math.min(state.retry * 2, 15000);
    };
  }

  function clientId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  root.querySelector("form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    var frame = { type: "message", text: text, client_id: clientId() };
    state.pending.push(frame);
    show({ id: frame.client_id, client_id: frame.client_id, direction: "inbound", text: text }, true);
    if (state.ready) send(frame);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      root.querySelector("form").requestSubmit();
    }
  });

  function start() {
    document.body.appendChild(host);
    connect();
    if (script.getAttribute("data-open") === "true") toggle(true);
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
