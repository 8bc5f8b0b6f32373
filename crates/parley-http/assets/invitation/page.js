// The invitation page: reads the one-time token from the link's fragment (never sent to
// a server or kept in the address bar), shows what it offers, and accepts it with the
// person's password. Text from the server is always set as text, never as HTML.
const token = decodeURIComponent(location.hash.slice(1));
history.replaceState(null, "", location.pathname);

const offer = document.getElementById("offer");
const form = document.getElementById("accept");
const problem = document.getElementById("problem");
const done = document.getElementById("done");

function showProblem(text) {
  problem.textContent = text;
  problem.hidden = false;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    credentials: "omit",
  });
  const json = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, json };
}

function explain(answer) {
  const { json } = answer;
  if (Array.isArray(json.errors) && json.errors.length > 0) {
    return json.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
  }
  if (answer.status === 404) {
    return "This invitation link is not valid any more (used, withdrawn or expired). Ask whoever invited you for a new one.";
  }
  return json.detail || "Something went wrong; try again in a moment.";
}

async function start() {
  if (!token) {
    offer.textContent = "This page needs the invitation link you were given.";
    return;
  }
  const answer = await post("/api/v1/invitations/preview", { token });
  if (!answer.ok) {
    offer.textContent = "";
    showProblem(explain(answer));
    return;
  }
  const { organization_name, role, email } = answer.json;
  offer.textContent = `You are invited to join ${organization_name} as ${role}, with the email ${email}.`;
  form.hidden = false;
  document.getElementById("password").focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  problem.hidden = true;
  const button = form.querySelector("button");
  button.disabled = true;
  const name = document.getElementById("name").value.trim();
  const password = document.getElementById("password").value;
  const body = { token, password };
  if (name) body.name = name;
  const answer = await post("/api/v1/invitations/accept", body);
  button.disabled = false;
  if (!answer.ok) {
    showProblem(explain(answer));
    return;
  }
  form.hidden = true;
  offer.hidden = true;
  done.textContent = answer.json.created_account
    ? "Your account is ready and you have joined. Sign in with your email and the password you chose."
    : "You have joined. Sign in as usual.";
  done.hidden = false;
});

start();
