// The "New ticket" page's requester box: an ARIA combobox over the people lookup
// (GET /staff/people/lookup/?q=…, which answers escaped <li role="option"> elements).
// Typing asks the server; ArrowDown/ArrowUp move through the people found, Enter chooses one
// (filling the hidden `requester` id), Escape closes the list. Typing again forgets the choice.
// Without this script the box does nothing and the agent gives a new person's address instead.
(() => {
  "use strict";

  const DELAY_MS = 150;

  function setup() {
    const box = document.getElementById("id_requester_search");
    const list = document.getElementById("requester-options");
    const hidden = document.getElementById("id_requester");
    const chosen = document.getElementById("requester-chosen");
    if (!box || !list || !hidden) return;
    const url = box.dataset.lookupUrl;
    let timer = null;
    let asked = 0; // answers to older questions are dropped
    let active = -1;

    function options() {
      return Array.from(list.querySelectorAll('[role="option"]:not([aria-disabled="true"])'));
    }

    function close() {
      list.hidden = true;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open() {
      if (!list.children.length) return close();
      list.hidden = false;
      box.setAttribute("aria-expanded", "true");
    }

    function highlight(index) {
      const found = options();
      if (!found.length) return;
      active = (index + found.length) % found.length;
      found.forEach((option, i) => option.setAttribute("aria-selected", i === active ? "true" : "false"));
      const current = found[active];
      box.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    }

    function choose(option) {
      hidden.value = option.dataset.id;
      box.value = option.dataset.label;
      if (chosen) chosen.textContent = chosen.dataset.prefix ? `${chosen.dataset.prefix} ${option.dataset.label}` : option.dataset.label;
      close();
      box.dispatchEvent(new CustomEvent("tessera:requester-chosen", { bubbles: true, detail: { id: option.dataset.id } }));
    }

    async function lookup(text) {
      const mine = ++asked;
      const target = new URL(url, window.location.href);
      target.searchParams.set("q", text);
      let html = "";
      try {
        const response = await fetch(target, { headers: { Accept: "text/html" }, credentials: "same-origin" });
        if (!response.ok) return;
        html = await response.text();
      } catch (_error) {
        return; // offline for a moment: the next key press asks again
      }
      if (mine !== asked) return;
      list.innerHTML = html; // the server escaped every value (templates/staff/_people_options.html)
      active = -1;
      if (box === document.activeElement) open();
    }

    box.addEventListener("input", () => {
      if (hidden.value) {
        hidden.value = ""; // the text no longer names the person chosen
        if (chosen) chosen.textContent = "";
      }
      window.clearTimeout(timer);
      const text = box.value.trim();
      if (!text) {
        list.innerHTML = "";
        close();
        return;
      }
      timer = window.setTimeout(() => lookup(text), DELAY_MS);
    });

    box.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (list.hidden) open();
        if (!list.hidden) {
          event.preventDefault();
          highlight(active + (event.key === "ArrowDown" ? 1 : -1));
        }
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0) {
          event.preventDefault(); // choosing a person does not submit the form
          choose(options()[active]);
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          close();
        }
      }
    });

    box.addEventListener("blur", () => window.setTimeout(close, 150));

    list.addEventListener("mousedown", (event) => {
      const option = event.target instanceof Element ? event.target.closest('[role="option"]') : null;
      if (option && option.getAttribute("aria-disabled") !== "true") {
        event.preventDefault();
        choose(option);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
