// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  // Close an open Actions / three-dots menu when clicking elsewhere.
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});

// Buttons (or forms) that ask before doing something that cannot be undone (Cancel an order).
document.addEventListener("submit", (event) => {
  const asker = [event.submitter, event.target].find((el) => el && el.dataset && el.dataset.confirm);
  if (asker && !window.confirm(asker.dataset.confirm)) event.preventDefault();
});

// Expired Licences: Select All ticks this page's boxes and means every learner that
// matches the search, on every page (the server receives the search, not ids).
document.addEventListener("change", (event) => {
  const box = event.target;
  const form = box.closest && box.closest("form[data-select-all-form]");
  if (!form) return;
  const selectAll = form.querySelector("[data-select-all]");
  const note = form.querySelector("[data-select-all-note]");
  if (box === selectAll) {
    form.querySelectorAll("[data-learner-box]").forEach((b) => { b.checked = selectAll.checked; });
  } else if (box.matches("[data-learner-box]") && !box.checked && selectAll.checked) {
    selectAll.checked = false;
  }
  if (note) note.hidden = !selectAll.checked;
});

// A dropdown that changes what the page shows (the email column) applies at once.
document.addEventListener("change", (event) => {
  const form = event.target.closest && event.target.closest("form[data-autosubmit]");
  if (form && event.target.matches("select")) form.submit();
});

// Progress bars take their width from aria-valuenow here: the Content-Security-Policy
// allows no style attributes in the markup.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[role=progressbar] [data-progress-bar]").forEach((bar) => {
    bar.style.width = bar.closest("[role=progressbar]").getAttribute("aria-valuenow") + "%";
  });
});

// Background imports: poll the progress endpoint and move the bar.
document.addEventListener("DOMContentLoaded", () => {
  const card = document.querySelector("[data-progress-url]");
  if (!card || !card.dataset.progressUrl) return;
  const bar = card.querySelector("[data-progress-bar]");
  const meter = card.querySelector("[role=progressbar]");
  const message = card.querySelector("[data-progress-message]");
  const done = card.querySelector("[data-progress-done]");
  const poll = () => {
    fetch(card.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => response.json())
      .then((status) => {
        bar.style.width = status.percent + "%";
        meter.setAttribute("aria-valuenow", status.percent);
        message.textContent = status.message;
        if (status.finished) {
          // The page itself knows which links fit the outcome.
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(() => window.setTimeout(poll, 3000));
  };
  window.setTimeout(poll, 500);
});

// Filter forms: leave empty fields (and fields left at their default) out of the URL, so
// a shared link says only what is filtered. Fields are enabled again when the page comes
// back from the back/forward cache.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches || !form.matches("form[data-compact-query]")) return;
  form.querySelectorAll("input, select").forEach((field) => {
    if (field.name && (field.value === "" || field.value === field.dataset.default)) field.disabled = true;
  });
});
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[data-compact-query] :disabled").forEach((field) => { field.disabled = false; });
});

// Add Filter: open the filter form in place (the link alone works too, by reloading the
// page with the form open). The form is fetched only when asked for: a partner's list of
// customers can be long.
document.addEventListener("click", async (event) => {
  const toggle = event.target.closest && event.target.closest("a[data-filters-toggle]");
  if (!toggle || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const slot = document.getElementById(toggle.getAttribute("aria-controls"));
  if (!slot) return;
  event.preventDefault();
  if (toggle.getAttribute("aria-expanded") === "true") {
    slot.replaceChildren();
    toggle.setAttribute("aria-expanded", "false");
    return;
  }
  try {
    const response = await fetch(toggle.href, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(response.statusText);
    slot.innerHTML = await response.text();
    toggle.setAttribute("aria-expanded", "true");
    const first = slot.querySelector("select, input");
    if (first) first.focus();
  } catch (error) {
    window.location.href = toggle.href;
  }
});
