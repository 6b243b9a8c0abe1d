// Keyboard shortcuts for every workspace page: "?" lists them, "/" goes to the search box,
// "n" opens the "New ticket" page (the ticket page gives "n" to its internal note instead).
// Page scripts add their own keys with tesseraShortcuts.register (ticket.js: r, n, s, p, a, t,
// d, h, c, l; canned.js: i; directory.js: n, e; every key is listed in templates/staff/_shortcuts.html).
// A shortcut never fires while the agent types in a field, or with Ctrl, Alt or Meta held.
(() => {
  "use strict";

  const handlers = new Map();
  const FOCUS_SEARCH = "tessera:focus-search";

  function isTyping(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    return Boolean(target.closest("input, textarea, select, [contenteditable]"));
  }

  function openDialog() {
    const dialog = document.getElementById("shortcuts-dialog");
    if (!dialog || dialog.open) return;
    dialog.showModal();
  }

  function searchBox() {
    return (
      document.querySelector("[data-shortcut-search]") ||
      document.getElementById("staff-search") ||
      document.getElementById("jump-q")
    );
  }

  function focusSearch() {
    const box = searchBox();
    if (box) {
      box.focus();
      if (typeof box.select === "function") box.select();
      return true;
    }
    // Pages without a search box (the ticket page) go to the search page, box focused there.
    const dialog = document.getElementById("shortcuts-dialog");
    const url = dialog && dialog.dataset.searchUrl;
    if (!url) return false;
    try {
      window.sessionStorage.setItem(FOCUS_SEARCH, "1");
    } catch (_error) {
      // Storage refused (private mode): the search page still opens.
    }
    window.location.assign(url);
    return true;
  }

  function register(key, handler) {
    handlers.set(key, handler);
  }

  register("?", () => {
    openDialog();
    return true;
  });
  register("/", focusSearch);
  register("n", () => {
    const dialog = document.getElementById("shortcuts-dialog");
    const url = dialog && dialog.dataset.newTicketUrl;
    if (!url || window.location.pathname === url) return false;
    window.location.assign(url);
    return true;
  });

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (isTyping(event.target)) return;
    if (document.querySelector("dialog[open]")) return; // the dialog has the keyboard; Esc closes it
    const handler = handlers.get(event.key);
    if (handler && handler(event) !== false) {
      event.preventDefault(); // the key is not also typed into the field it focused
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    let wanted = null;
    try {
      wanted = window.sessionStorage.getItem(FOCUS_SEARCH);
      window.sessionStorage.removeItem(FOCUS_SEARCH);
    } catch (_error) {
      wanted = null;
    }
    if (wanted && searchBox()) searchBox().focus();
    const button = document.getElementById("shortcuts-button");
    if (button) {
      button.hidden = false; // useless without this script, so shown only with it
      button.addEventListener("click", openDialog);
    }
  });

  window.tesseraShortcuts = { register, isTyping };
})();
