// The task page's key (listed in templates/staff/_shortcuts.html): "n" writes a note.
(() => {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    if (!window.tesseraShortcuts) return;
    window.tesseraShortcuts.register("n", () => {
      const box = document.getElementById("id_note-note");
      if (!box) return false;
      box.scrollIntoView({ block: "center" });
      box.focus();
      return true;
    });
  });
})();
