// The customer picker (partners/picker.py): a search box that becomes a combobox.
// Typing asks the lookup URL for matching names; arrow keys move through them, Enter or
// a click chooses one (its id goes in the hidden field), Escape closes the list.
// Without this file the box is a plain text search by name, answered by the server.
// Listeners sit on the document, so pickers fetched into the page later work too.
(() => {
  "use strict";
  const pickers = new WeakMap();

  function setUp(root) {
    if (pickers.has(root)) return pickers.get(root);
    const box = root.querySelector("input[type=search]");
    const hidden = root.querySelector("input[data-picker-id]");
    const list = root.querySelector("[role=listbox]");
    const status = root.querySelector("[role=status]");
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-expanded", "false");
    box.setAttribute("aria-controls", list.id);
    const state = { root, box, hidden, list, status, active: -1, timer: null, asked: 0 };
    pickers.set(root, state);
    return state;
  }

  function options(state) { return Array.from(state.list.querySelectorAll("[role=option]")); }

  function close(state) {
    state.list.hidden = true;
    state.box.setAttribute("aria-expanded", "false");
    state.box.removeAttribute("aria-activedescendant");
    state.active = -1;
  }

  function highlight(state, index) {
    const all = options(state);
    if (!all.length) return;
    state.active = (index + all.length) % all.length;
    all.forEach((option, i) => option.setAttribute("aria-selected", i === state.active ? "true" : "false"));
    state.box.setAttribute("aria-activedescendant", all[state.active].id);
    all[state.active].scrollIntoView({ block: "nearest" });
  }

  function choose(state, option) {
    state.box.value = option.dataset.name;
    state.hidden.value = option.dataset.id;
    state.hidden.dataset.pickerName = option.dataset.name;
    close(state);
    state.status.textContent = `${option.dataset.name} chosen.`;
  }

  async function lookUp(state) {
    const asked = ++state.asked;
    const url = new URL(state.root.dataset.lookupUrl, window.location.href);
    url.searchParams.set("q", state.box.value.trim());
    let data;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      data = await response.json();
    } catch (error) {
      return; // the box still works as a text search
    }
    if (asked !== state.asked) return; // an answer to an older question
    state.list.replaceChildren(...data.results.map((customer, i) => {
      const option = document.createElement("li");
      option.id = `${state.list.id}_${i}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.id = customer.id;
      option.dataset.name = customer.name;
      option.textContent = customer.name;
      return option;
    }));
    const count = data.results.length;
    state.status.textContent = count ? `${count}${data.more ? "+" : ""} customers match. Use the arrow keys to choose.` : "No customer matches.";
    state.list.hidden = count === 0;
    state.box.setAttribute("aria-expanded", count ? "true" : "false");
    state.active = -1;
  }

  document.addEventListener("input", (event) => {
    const root = event.target.closest && event.target.closest("[data-customer-picker]");
    if (!root || event.target.type !== "search") return;
    const state = setUp(root);
    state.hidden.value = ""; // a new search: the earlier choice no longer holds
    clearTimeout(state.timer);
    state.timer = setTimeout(() => lookUp(state), 150);
  });

  document.addEventListener("focusin", (event) => {
    const root = event.target.closest && event.target.closest("[data-customer-picker]");
    if (root) setUp(root);
  });

  document.addEventListener("keydown", (event) => {
    const root = event.target.closest && event.target.closest("[data-customer-picker]");
    if (!root || event.target.type !== "search") return;
    const state = setUp(root);
    const open = !state.list.hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) { lookUp(state); return; }
      highlight(state, state.active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" && open && state.active >= 0) {
      event.preventDefault();
      choose(state, options(state)[state.active]);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close(state);
    }
  });

  document.addEventListener("mousedown", (event) => {
    const option = event.target.closest && event.target.closest("[data-customer-picker] [role=option]");
    if (!option) return;
    event.preventDefault(); // keep the focus in the box
    choose(setUp(option.closest("[data-customer-picker]")), option);
  });

  document.addEventListener("focusout", (event) => {
    const root = event.target.closest && event.target.closest("[data-customer-picker]");
    if (root && !root.contains(event.relatedTarget)) close(setUp(root));
  });

  // A chosen customer goes in the URL by id alone (?customer=ID), as links share it.
  document.addEventListener("submit", (event) => {
    event.target.querySelectorAll("[data-customer-picker]").forEach((root) => {
      const box = root.querySelector("input[type=search]");
      const hidden = root.querySelector("input[data-picker-id]");
      if (hidden.value && box.value.trim() === hidden.dataset.pickerName) box.disabled = true;
      if (!hidden.value) hidden.disabled = true;
      if (!box.value.trim()) box.disabled = true;
    });
  });
  window.addEventListener("pageshow", () => {
    document.querySelectorAll("[data-customer-picker] input:disabled").forEach((input) => { input.disabled = false; });
  });
})();
