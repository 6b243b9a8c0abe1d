// The queue's bulk bar, enhanced: count the ticked tickets and show only the value select the
// chosen action uses. Without this file every select stays visible and the form still works.
(() => {
  const form = () => document.getElementById("bulk-form");

  function updateCount() {
    const f = form();
    const count = document.getElementById("bulk-count");
    if (!f || !count) return;
    const n = f.querySelectorAll('input[type="checkbox"][name="tickets"]:checked').length;
    if (n === 0) count.textContent = count.dataset.none;
    else if (n === 1) count.textContent = count.dataset.one;
    else count.textContent = count.dataset.many.replace("%(count)s", String(n));
  }

  function showValueFor() {
    const f = form();
    const select = document.getElementById("id_bulk-action");
    if (!f || !select) return;
    f.querySelectorAll("[data-bulk-for]").forEach((field) => {
      field.hidden = field.dataset.bulkFor !== select.value;
    });
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches('input[name="tickets"]')) updateCount();
    if (event.target.id === "id_bulk-action") showValueFor();
  });
  // Rows added by htmx (new tickets arriving) keep the count true.
  document.addEventListener("htmx:afterSwap", updateCount);

  function start() {
    updateCount();
    showValueFor();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
