// Queue pages, enhanced: j / k move through the rows, Enter opens the current one, x ticks
// its checkbox; new tickets arrive at the top of the first page without a reload. Loaded only
// on queue pages. Without it every queue still works with links, buttons and reloads.
(() => {
  "use strict";

  const table = () => document.getElementById("queue-table");
  const rows = () => {
    const t = table();
    return t ? Array.from(t.tBodies[0].rows) : [];
  };
  let current = null;

  function isTyping(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    if (target.closest("textarea, select")) return true;
    const input = target.closest("input");
    return Boolean(input) && !["checkbox", "radio", "button", "submit", "reset"].includes(input.type);
  }

  function mark(row) {
    if (current && current !== row) {
      current.classList.remove("current");
      current.removeAttribute("aria-selected");
    }
    current = row;
    row.classList.add("current");
    row.setAttribute("aria-selected", "true");
  }

  function setCurrent(row) {
    mark(row);
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    let index = current && current.isConnected ? all.indexOf(current) : -1;
    if (index === -1) index = step > 0 ? 0 : all.length - 1;
    else index = Math.min(all.length - 1, Math.max(0, index + step));
    setCurrent(all[index]);
  }

  function toggle(row) {
    const box = row.querySelector('input[type="checkbox"][name="tickets"]');
    if (!box) return;
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || !table()) return;
    if (document.querySelector("dialog[open]")) return; // the shortcuts help has the keyboard
    const key = event.key;
    if (key === "j" || key === "k") {
      event.preventDefault();
      move(key === "j" ? 1 : -1);
    } else if (key === "Enter" && current && current.isConnected) {
      // A focused link or button keeps its own Enter.
      if (event.target instanceof Element && event.target !== current && event.target.closest("a, button")) return;
      event.preventDefault();
      window.location.assign(current.dataset.href);
    } else if (key === "x" && current && current.isConnected) {
      event.preventDefault();
      toggle(current);
    }
  });

  // A click on a row makes it the current one, so j / k carry on from there.
  document.addEventListener("click", (event) => {
    const row = event.target instanceof Element && event.target.closest("#queue-table tbody tr");
    if (row) mark(row);
  });

  // ---------------------------------------------------------------- new arrivals

  function announce(count) {
    const status = document.getElementById("arrivals-status");
    const t = table();
    if (!status || !t) return;
    status.textContent =
      count === 1 ? t.dataset.newOne : t.dataset.newMany.replace("%(count)s", String(count));
  }

  async function fetchRows(url, after, afterId) {
    const sep = url.includes("?") ? "&" : "?";
    const response = await fetch(
      `${url}${sep}after=${encodeURIComponent(after)}&after_id=${encodeURIComponent(afterId)}`,
      { credentials: "same-origin", headers: { Accept: "text/html" } },
    );
    if (response.status !== 200 || response.redirected) return [];
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    return Array.from(doc.querySelectorAll("tbody > tr[data-id]"));
  }

  async function pollTable(t) {
    const body = t.tBodies[0];
    const first = body.rows[0];
    if (!first) return;
    const arrived = await fetchRows(t.dataset.arrivalsUrl, first.dataset.cursor, first.dataset.id);
    if (!arrived.length) return;
    // Newest first in the answer: insert from the oldest up, each at the top.
    for (const incoming of arrived.reverse()) {
      const row = document.importNode(incoming, true);
      const old = document.getElementById(row.id);
      if (old) {
        // An updated ticket moves up; its tick and its place as the current row come along.
        const oldBox = old.querySelector('input[name="tickets"]');
        const newBox = row.querySelector('input[name="tickets"]');
        if (oldBox && newBox) newBox.checked = oldBox.checked;
        const badge = row.querySelector(".badge-new");
        if (badge) badge.textContent = t.dataset.updatedLabel;
        const wasCurrent = old === current;
        old.remove();
        if (wasCurrent) mark(row);
      }
      body.insertBefore(row, body.firstChild);
    }
    announce(arrived.length);
  }

  async function pollEmpty(card) {
    // Nothing listed yet, so nothing to lose: show the first arrivals by reloading.
    const arrived = await fetchRows(card.dataset.arrivalsUrl, card.dataset.after, "0");
    if (arrived.length) window.location.reload();
  }

  function startPolling() {
    const t = table();
    const card = document.getElementById("queue-empty");
    const source = t && t.dataset.arrivalsUrl ? t : card && card.dataset.arrivalsUrl ? card : null;
    if (!source) return;
    const seconds = Math.max(1, Number(source.dataset.pollSeconds) || 20);
    let busy = false;
    window.setInterval(async () => {
      if (busy || document.hidden) return;
      busy = true;
      try {
        if (source === t) await pollTable(t);
        else await pollEmpty(source);
      } catch (error) {
        // Offline for a moment: the next tick tries again.
      } finally {
        busy = false;
      }
    }, seconds * 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startPolling);
  else startPolling();
})();
