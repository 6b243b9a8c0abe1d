// The ticket page: shortcut keys r / n / a, and the reply lock that lets other agents see
// "… is replying". The page works without this file: replies are still checked on the server
// for crossing another agent's, and the presence line is polled by htmx.
(() => {
  "use strict";

  function focusField(id) {
    return () => {
      const field = document.getElementById(id);
      if (!field) return false;
      field.focus();
      return true;
    };
  }

  if (window.tesseraShortcuts) {
    window.tesseraShortcuts.register("r", focusField("id_reply-message"));
    window.tesseraShortcuts.register("n", focusField("id_note-note"));
    window.tesseraShortcuts.register("a", focusField("id_assign-agent"));
  }

  // Polling swaps the presence line only when it changed, so screen readers are not told the
  // same news every few seconds.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (target && target.id === "presence") {
      const incoming = (event.detail.serverResponse || "").trim();
      if (event.detail.xhr.status !== 200 || incoming === target.innerHTML.trim()) {
        event.detail.shouldSwap = false;
      }
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

  document.addEventListener("DOMContentLoaded", () => {
    const composer = document.getElementById("reply-composer");
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
  });
})();
