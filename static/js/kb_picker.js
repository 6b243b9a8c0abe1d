// The knowledge base in the reply box (templates/kb/_picker.html): a button opens a search over
// the articles (kb.staff_views.picker_search, JSON); each result inserts either the link a
// customer can open (public articles only) or the article's Markdown text at the cursor, to be
// edited before sending. Nothing is fetched until the picker is opened.
(() => {
  "use strict";

  const root = document.getElementById("kb-picker-root");
  if (!root) return;
  const field = document.getElementById(root.dataset.field);
  const opener = document.getElementById("kb-picker-open");
  const picker = document.getElementById("kb-picker");
  const query = document.getElementById("kb-picker-query");
  const list = document.getElementById("kb-picker-results");
  const status = document.getElementById("kb-picker-status");
  if (!field || !opener || !picker || !query || !list) return;
  root.hidden = false;

  let timer = null;
  let seq = 0;
  let range = null;

  function t(key, values) {
    const text = root.dataset[key] || "";
    return text.replace(/%\((\w+)\)s/g, (_m, name) => (values && name in values ? values[name] : ""));
  }

  function say(text) {
    status.textContent = text;
  }

  async function fetchJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  }

  function open() {
    range = [field.selectionStart, field.selectionEnd];
    picker.hidden = false;
    opener.setAttribute("aria-expanded", "true");
    query.focus();
    search();
  }

  function close(backToReply) {
    picker.hidden = true;
    opener.setAttribute("aria-expanded", "false");
    if (backToReply) field.focus();
  }

  function insertText(text, title) {
    const [start, end] = range || [field.selectionStart, field.selectionEnd];
    field.setRangeText(text, start, end, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
    close(true);
    say(t("tInserted", { title }));
  }

  function button(label, aria, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "link";
    b.textContent = label;
    b.setAttribute("aria-label", aria);
    b.addEventListener("click", onClick);
    return b;
  }

  function show(results) {
    list.replaceChildren();
    for (const r of results) {
      const li = document.createElement("li");
      const title = document.createElement("strong");
      title.textContent = r.title;
      const excerpt = document.createElement("p");
      excerpt.className = "muted";
      excerpt.textContent = r.excerpt;
      const actions = document.createElement("div");
      actions.className = "kb-picker-actions";
      if (r.url) {
        actions.append(
          button(t("tLink"), t("tLinkLabel", { title: r.title }), () => insertText(`[${r.title}](${r.url})`, r.title)),
        );
      } else {
        const note = document.createElement("span");
        note.className = "muted";
        note.textContent = t("tInternal");
        actions.append(note);
      }
      actions.append(
        button(t("tText"), t("tTextLabel", { title: r.title }), async () => {
          try {
            const url = root.dataset.articleUrl.replace(/\/0\/$/, `/${r.id}/`);
            const article = await fetchJson(url);
            insertText(article.body, article.title);
          } catch {
            say(t("tFailed"));
          }
        }),
      );
      li.append(title, excerpt, actions);
      list.append(li);
    }
    say(results.length ? t("tFound", { count: results.length }) : t("tNone"));
  }

  async function search() {
    const mine = ++seq;
    const url = `${root.dataset.searchUrl}?q=${encodeURIComponent(query.value.trim())}`;
    try {
      const answer = await fetchJson(url);
      if (mine === seq) show(answer.results);
    } catch {
      if (mine === seq) say(t("tFailed"));
    }
  }

  opener.addEventListener("click", () => (picker.hidden ? open() : close(true)));
  query.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  picker.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close(true);
    }
  });
})();
