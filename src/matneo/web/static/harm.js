// Harm report form: live routes and deadlines while the form is filled in.
// Progressive enhancement only: without JavaScript, "Check routes" posts the form and the page
// comes back with the same preview. No inline scripts (the CSP is script-src 'self').
const form = document.getElementById("harm-form");
const region = document.querySelector("#harm-preview [data-preview]");

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function show(result) {
  const parts = [];
  if (!result.valid) {
    parts.push(el("p", "nhsuk-body", "To see the routes, answer these first:"));
    const list = el("ul", "nhsuk-list nhsuk-list--bullet");
    for (const error of result.errors) list.appendChild(el("li", "", error.message));
    parts.push(list);
  } else {
    if (!result.routes.length) parts.push(el("p", "nhsuk-body", "No routes apply to this report."));
    for (const route of result.routes) {
      const card = el("div", "nhsuk-card");
      card.dataset.route = route.id;
      const content = el("div", "nhsuk-card__content");
      content.appendChild(el("h3", "nhsuk-card__heading nhsuk-heading-s", route.title));
      const list = el("ul", "nhsuk-list");
      for (const deadline of route.deadlines) {
        const item = el("li", "", `${deadline.label}: `);
        item.appendChild(el("strong", "", deadline.due_text));
        if (deadline.needs_local_confirmation) item.appendChild(document.createTextNode(" (needs local confirmation)"));
        list.appendChild(item);
      }
      content.appendChild(list);
      for (const why of route.why) content.appendChild(el("p", "nhsuk-body-s", why));
      card.appendChild(content);
      parts.push(card);
    }
    if (result.pending.length) {
      parts.push(el("h3", "nhsuk-heading-s", "Could change when you know more"));
      const list = el("ul", "nhsuk-list nhsuk-list--bullet");
      for (const item of result.pending) list.appendChild(el("li", "", item.why));
      parts.push(list);
    }
  }
  region.replaceChildren(...parts);
  region.dataset.live = result.valid ? "routes" : "incomplete";
}

let timer = null;
let latest = 0;

async function refresh() {
  const values = {};
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && !["csrf_token", "action"].includes(name)) values[name] = value;
  }
  const request = ++latest;
  try {
    const response = await fetch("/api/v1/harm-route", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": form.elements.csrf_token.value },
      body: JSON.stringify({ form: values }),
    });
    if (!response.ok || request !== latest) return;
    show(await response.json());
  } catch (error) {
    // The "Check routes" button still works; the preview just stays as it was.
  }
}

if (form && region) {
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  };
  form.addEventListener("change", later);
  form.addEventListener("input", later);
}
