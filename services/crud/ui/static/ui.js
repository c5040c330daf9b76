// Improvements only: every page works without this file.
// An element with data-refresh="N" reloads its page every N seconds (the overview).
"use strict";
(function () {
  var marked = document.querySelector("[data-refresh]");
  if (marked) {
    var seconds = parseInt(marked.getAttribute("data-refresh"), 10) || 5;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
})();
