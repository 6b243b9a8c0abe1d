// Small progressive enhancements. Every page works without this file.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// A panel marked data-swap-errors answers a refused change with itself, showing why (400 invalid,
// 403 not allowed, 409 changed meanwhile): swap it in like any other answer (custom fields).
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  if (target && target.matches && target.matches("[data-swap-errors]") && [400, 403, 409].includes(event.detail.xhr.status)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// After a change in such a panel (data-version: the ticket's version now), the page's other forms
// carry the new version, so a reply sent next is not refused as stale.
document.addEventListener("htmx:afterSettle", (event) => {
  const target = event.detail.target;
  const panel = target && target.id ? document.getElementById(target.id) : null;
  if (!panel || !panel.matches("[data-swap-errors][data-version]")) return;
  for (const input of document.querySelectorAll('input[type=hidden][name$="-version"]')) {
    if (!panel.contains(input)) input.value = panel.dataset.version;
  }
});
