// Canned responses in the reply box (templates/canned/_picker.html). Three ways in: the
// "Insert canned response" button, the "i" key when not typing (listed under "?"), or "::" typed
// at the start of a line in the reply (the letters after it become the search). The picker is a
// combobox over a listbox: arrows choose, Enter inserts, Escape goes back to the reply. Each
// choice is previewed as filled in for this ticket (the server renders and sanitises it); the
// inserted text lands at the cursor, to be edited before sending. The response's id goes with
// the reply (a hidden input) so its files are attached and its use counted when it is sent.
(() => {
  "use strict";

  const root = document.getElementById("canned");
  if (!root) return;
  const field = document.getElementById(root.dataset.field);
  const opener = document.getElementById("canned-open");
  const picker = document.getElementById("canned-picker");
  const query = document.getElementById("canned-query");
  const list = document.getElementById("canned-results");
  const preview = document.getElementById("canned-preview");
  const previewFiles = document.getElementById("canned-preview-files");
  const status = document.getElementById("canned-status");
  const inserted = document.getElementById("canned-inserted");
  if (!field || !opener || !picker || !query || !list) return;

  const rendered = new Map(); // id -> the server's answer for this ticket
  let results = [];
  let active = -1;
  let range = null; // where the text goes: [start, end] in the reply box
  let triggered = false; // opened by "::", which goes back into the reply if nothing is inserted
  let searchTimer = null;
  let previewTimer = null;
  let searchSeq = 0;

  opener.hidden = false;
  // Responses kept from a reply that came back: their "Do not attach" buttons work with this script.
  for (const button of inserted.querySelectorAll("[data-canned-remove]")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      button.closest("li").remove();
      field.focus();
    });
  }
  for (const tip of root.querySelectorAll(".canned-tip")) tip.hidden = false;

  function say(text) {
    if (status) status.textContent = text;
  }

  // Words come translated from the template (data-t-* on #canned), with %(name)s placeholders.
  function t(key, values) {
    const text = root.dataset[key] || "";
    return text.replace(/%\((\w+)\)s/g, (_match, name) => (values && name in values ? values[name] : ""));
  }

  function renderUrl(id) {
    return root.dataset.renderUrl.replace(/\/0\/$/, `/${id}/`);
  }

  async function fetchJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  }

  function open(initial) {
    if (range === null) range = [field.selectionStart, field.selectionEnd];
    picker.hidden = false;
    opener.setAttribute("aria-expanded", "true");
    query.setAttribute("aria-expanded", "true");
    query.value = initial || "";
    query.focus();
    search();
  }

  function close(refocus) {
    picker.hidden = true;
    opener.setAttribute("aria-expanded", "false");
    query.setAttribute("aria-expanded", "false");
    query.removeAttribute("aria-activedescendant");
    const at = range;
    range = null;
    if (refocus) {
      field.focus();
      if (at && triggered) {
        field.setRangeText("::", at[0], at[0], "end"); // nothing chosen: the colons were meant as text
      } else if (at) {
        field.setSelectionRange(at[0], at[0]);
      }
    }
    triggered = false;
  }

  function search() {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(async () => {
      const seq = ++searchSeq;
      const url = `${root.dataset.searchUrl}?q=${encodeURIComponent(query.value.trim())}`;
      try {
        const answer = await fetchJson(url);
        if (seq !== searchSeq) return; // a newer search is on its way
        results = answer.results;
        draw();
      } catch (_error) {
        say(t("tFailed"));
      }
    }, 150);
  }

  function draw() {
    list.replaceChildren();
    results.forEach((row, index) => {
      const option = document.createElement("li");
      option.id = `canned-option-${row.id}`;
      option.setAttribute("role", "option");
      option.dataset.index = String(index);
      const title = document.createElement("strong");
      title.textContent = row.title;
      const excerpt = document.createElement("span");
      excerpt.className = "muted";
      excerpt.textContent = row.excerpt;
      option.append(title, " ", excerpt);
      option.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the box
      option.addEventListener("click", () => {
        choose(index);
        insert();
      });
      list.append(option);
    });
    say(results.length === 0 ? t("tNone") : t("tFound", { count: String(results.length) }));
    choose(results.length ? 0 : -1);
  }

  function choose(index) {
    active = index;
    for (const option of list.children) {
      option.setAttribute("aria-selected", option.dataset.index === String(index) ? "true" : "false");
    }
    const row = results[index];
    if (!row) {
      query.removeAttribute("aria-activedescendant");
      preview.replaceChildren();
      previewFiles.replaceChildren();
      return;
    }
    query.setAttribute("aria-activedescendant", `canned-option-${row.id}`);
    const option = document.getElementById(`canned-option-${row.id}`);
    if (option) option.scrollIntoView({ block: "nearest" });
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(() => showPreview(row.id), 120);
  }

  async function load(id) {
    if (!rendered.has(id)) rendered.set(id, await fetchJson(renderUrl(id)));
    return rendered.get(id);
  }

  async function showPreview(id) {
    try {
      const answer = await load(id);
      if (!results[active] || results[active].id !== id) return;
      // Rendered and sanitised by the server, exactly as the reply would show it.
      preview.innerHTML = answer.html;
      previewFiles.replaceChildren(...answer.files.map((file) => item(`${file.name} (${file.size})`)));
    } catch (_error) {
      preview.textContent = "";
    }
  }

  function item(text) {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }

  async function insert() {
    const row = results[active];
    if (!row) return;
    let answer;
    try {
      answer = await load(row.id);
    } catch (_error) {
      say(t("tGone"));
      return;
    }
    const [start, end] = range || [field.selectionStart, field.selectionEnd];
    close(false);
    field.focus();
    field.setRangeText(answer.text, start, end, "end");
    field.dispatchEvent(new Event("input", { bubbles: true })); // the reply lock hears typing
    remember(answer);
    say(t("tInserted", { title: answer.title }));
  }

  // The id goes with the reply; responses with files show which files will be attached.
  function remember(answer) {
    const name = root.dataset.hiddenName;
    if (inserted.querySelector(`input[value="${answer.id}"]`)) return;
    const li = document.createElement("li");
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = name;
    hidden.value = String(answer.id);
    li.append(hidden);
    if (answer.files.length) {
      const names = answer.files.map((file) => `${file.name} (${file.size})`).join(", ");
      li.append(`${t("tFiles", { title: answer.title, files: names })} `);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link";
      remove.textContent = t("tRemove");
      remove.setAttribute("aria-label", t("tRemoveLabel", { title: answer.title }));
      remove.addEventListener("click", () => {
        li.remove();
        field.focus();
      });
      li.append(remove);
    } else {
      li.hidden = true;
    }
    inserted.append(li);
  }

  opener.addEventListener("click", () => {
    if (picker.hidden) open("");
    else close(true);
  });

  query.addEventListener("input", search);
  query.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!results.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      choose((active + step + results.length) % results.length);
    } else if (event.key === "Home" && results.length && event.ctrlKey) {
      event.preventDefault();
      choose(0);
    } else if (event.key === "Enter") {
      event.preventDefault(); // never submits the reply
      insert();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close(true);
    }
  });

  // "::" at the start of a line opens the picker; the two colons leave the reply.
  field.addEventListener("input", (event) => {
    if (event.inputType && !event.inputType.startsWith("insert")) return;
    const at = field.selectionStart;
    const before = field.value.slice(0, at);
    const lineStart = before.lastIndexOf("\n") + 1;
    if (before.slice(lineStart) !== "::") return;
    field.setRangeText("", lineStart, at, "start");
    range = [lineStart, lineStart];
    open("");
    triggered = true;
  });

  if (window.tesseraShortcuts) {
    window.tesseraShortcuts.register("i", () => {
      const tab = document.getElementById("composer-tab-reply");
      if (tab) tab.click();
      field.focus();
      field.setSelectionRange(field.value.length, field.value.length);
      range = null;
      triggered = false;
      open("");
      return true;
    });
  }
})();
