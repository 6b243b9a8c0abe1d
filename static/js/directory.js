// Keys of the people directory's pages (listed in templates/staff/_shortcuts.html): "n" goes to
// the note box of a person or organisation, "e" opens their edit form. "/" goes to the page's
// own search box (shortcuts.js prefers a box marked data-shortcut-search).
(() => {
  "use strict";
  if (!window.tesseraShortcuts) return;
  const { register } = window.tesseraShortcuts;

  register("n", () => {
    const box = document.querySelector(".directory-note-form textarea");
    if (!box) return false;
    box.focus();
    return true;
  });
  register("e", () => {
    const link = document.getElementById("directory-edit");
    if (!link) return false;
    window.location.assign(link.href);
    return true;
  });
})();
