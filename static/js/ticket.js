// The ticket page: the composer's Reply / Internal note tabs, the properties panel (saved on
// change by htmx, Undo for a few seconds), shortcut keys, and the reply lock that lets other
// agents see "… is replying". The page works without this file: both composer forms are shown,
// the panel has a Save button, replies are still checked on the server for crossing another
// agent's, and the presence line is polled by htmx.
(() => {
  "use strict";

  // With htmx the panel saves each select as it changes: its Save button is not needed.
  if (window.htmx) document.documentElement.classList.add("with-htmx");

  // ------------------------------------------------------------------ the composer's tabs

  function tabs() {
    return Array.from(document.querySelectorAll("#composer [role=tab]"));
  }

  function selectTab(tab, focusTab) {
    for (const other of tabs()) {
      const selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      const pane = document.getElementById(other.getAttribute("aria-controls"));
      if (pane) pane.hidden = !selected;
    }
    if (focusTab) tab.focus();
  }

  function setUpTabs() {
    const composer = document.getElementById("composer");
    const list = composer && composer.querySelector("[role=tablist]");
    if (!list) return;
    for (const tab of tabs()) {
      const pane = document.getElementById(tab.getAttribute("aria-controls"));
      if (pane) {
        // Named by its own heading ("Reply to …"), which stays in the page for screen readers,
        // so the tab's short name stays the name of the text box alone.
        const heading = pane.querySelector(".composer-heading");
        pane.setAttribute("role", "tabpanel");
        pane.setAttribute("aria-labelledby", heading ? heading.id : tab.id);
      }
      tab.addEventListener("click", () => selectTab(tab, false));
    }
    list.addEventListener("keydown", (event) => {
      const all = tabs();
      const at = all.indexOf(document.activeElement);
      if (at < 0) return;
      const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: all.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      selectTab(all[(next + all.length) % all.length], true);
    });
    list.hidden = false;
    composer.classList.add("with-tabs");
    const wanted = composer.dataset.tab === "note" ? "composer-tab-note" : "composer-tab-reply";
    selectTab(document.getElementById(wanted) || tabs()[0], false);
  }

  // Show a composer pane (its tab, when there are tabs) and put the cursor in its text box.
  function compose(paneId, fieldId) {
    return () => {
      const field = document.getElementById(fieldId);
      if (!field) return false;
      const tab = document.querySelector(`#composer [aria-controls="${paneId}"]`);
      if (tab) selectTab(tab, false);
      field.focus();
      return true;
    };
  }

  // ------------------------------------------------------------------ shortcut keys

  function property(key) {
    return () => {
      const control = document.querySelector(`#properties-body [data-shortcut="${key}"]`);
      if (!control) return false; // read-only here: nothing to go to
      control.focus();
      return true;
    };
  }

  function tool(id, fieldSelector) {
    return () => {
      const section = document.getElementById(id);
      if (!section) return false;
      section.open = true;
      const field = fieldSelector && section.querySelector(fieldSelector);
      (field || section.querySelector("summary")).focus();
      return true;
    };
  }

  if (window.tesseraShortcuts) {
    const register = window.tesseraShortcuts.register;
    register("r", compose("composer-reply", "id_reply-message"));
    register("n", compose("composer-note", "id_note-note"));
    for (const key of ["s", "p", "a", "t", "d", "h"]) register(key, property(key));
    register("c", tool("tool-collaborators", "input[type=email]"));
    register("l", tool("tool-links", "#link-number"));
  }

  // ------------------------------------------------------------------ the properties panel

  function inPanel(target) {
    return Boolean(target && target.closest && target.closest("#properties"));
  }

  let undoTimer = null;
  let refocus = null;

  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (target && target.id === "presence") {
      // Polling swaps the presence line only when it changed, so screen readers are not told
      // the same news every few seconds.
      const incoming = (event.detail.serverResponse || "").trim();
      if (event.detail.xhr.status !== 200 || incoming === target.innerHTML.trim()) {
        event.detail.shouldSwap = false;
      }
      return;
    }
    if (inPanel(target)) {
      // A refused change comes back as the panel with the reason (400 invalid, 403 not
      // allowed, 409 changed meanwhile): show it like any other answer.
      if ([400, 403, 409].includes(event.detail.xhr.status)) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
      const active = document.activeElement;
      refocus = active && active.id && inPanel(active) ? active.id : null;
    }
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    if (!inPanel(event.detail.target)) return;
    const body = document.querySelector("#properties-body [data-version]");
    if (body) {
      // Every other form on the page now carries the ticket's new version, so a reply sent
      // after a change here is not refused as stale.
      const version = body.dataset.version;
      for (const input of document.querySelectorAll('input[type=hidden][name$="-version"]')) {
        if (!inPanel(input)) input.value = version;
      }
    }
    if (refocus) {
      const again = document.getElementById(refocus);
      if (again) again.focus();
      refocus = null;
    }
    // Undo is offered for a few seconds, then taken away (the server refuses it after that too).
    clearTimeout(undoTimer);
    const undo = document.querySelector("#properties-status .undo-form");
    if (undo) {
      const seconds = Number(undo.dataset.undoSeconds) || 10;
      undoTimer = setTimeout(() => undo.remove(), seconds * 1000);
    }
  });

  // A tab in the background does not poll; it catches up as soon as it is looked at again.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    if (elt && elt.id === "presence" && document.hidden) event.preventDefault();
  });
  document.addEventListener("visibilitychange", () => {
    const presence = document.getElementById("presence");
    if (!document.hidden && presence && window.htmx) window.htmx.trigger(presence, "refresh");
  });

  // ------------------------------------------------------------------ the reply lock

  function setUpReplyLock() {
    const composer = document.getElementById("composer-reply");
    const box = document.getElementById("id_reply-message");
    if (!composer || !box) return;
    const form = box.form;
    if (!form) return;
    const lockUrl = composer.dataset.lockUrl;
    const unlockUrl = composer.dataset.unlockUrl;
    const status = document.getElementById("reply-lock-status");
    const csrfField = form.querySelector("input[name=csrfmiddlewaretoken]");
    const csrf = csrfField ? csrfField.value : "";
    let renewEvery = 30000;
    let lastAsked = 0;
    let held = false;
    let inFlight = false;

    function say(text) {
      if (status && status.textContent !== text) status.textContent = text;
    }

    async function takeLock() {
      const now = Date.now();
      if (inFlight || (lastAsked && now - lastAsked < renewEvery)) return;
      inFlight = true;
      lastAsked = now;
      try {
        const response = await fetch(lockUrl, {
          method: "POST",
          headers: { "X-CSRFToken": csrf, Accept: "application/json" },
          credentials: "same-origin",
        });
        const type = response.headers.get("Content-Type") || "";
        const data = type.includes("application/json") ? await response.json() : {};
        if (response.ok && data.held) {
          held = true;
          if (data.renew_seconds) renewEvery = data.renew_seconds * 1000;
          say("");
        } else {
          held = false;
          // Someone else is writing: a warning, not a block. Ask again a little later.
          say(data.message || "");
          if (window.htmx) {
            const presence = document.getElementById("presence");
            if (presence) window.htmx.trigger(presence, "refresh");
          }
        }
      } catch (_error) {
        lastAsked = 0; // offline for a moment: try again on the next keystroke
      } finally {
        inFlight = false;
      }
    }

    function releaseLock() {
      if (!held) return;
      held = false;
      lastAsked = 0;
      const body = new FormData();
      body.append("csrfmiddlewaretoken", csrf);
      if (navigator.sendBeacon) {
        navigator.sendBeacon(unlockUrl, body);
      } else {
        fetch(unlockUrl, { method: "POST", body, credentials: "same-origin", keepalive: true });
      }
    }

    box.addEventListener("focus", takeLock);
    box.addEventListener("input", takeLock);
    // Leaving the page lets go: sending the reply (the server releases it too), following a
    // link, closing the tab. A page restored from the back/forward cache asks again on typing.
    window.addEventListener("pagehide", releaseLock);
  }

  document.addEventListener("DOMContentLoaded", () => {
    setUpTabs();
    setUpReplyLock();
  });
})();
