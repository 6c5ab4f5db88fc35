/* Trainer studio: live preview while typing. Without this script the Preview button
   does the same by submitting the form. The server renders and sanitizes the preview
   with the learner page's pipeline; this script only places the returned HTML. */
(function () {
  "use strict";

  var DELAY_MS = 700;

  function livePreview(area) {
    var form = area.form;
    var target = document.getElementById(area.getAttribute("data-preview-target"));
    var tokenInput = form && form.querySelector("input[name=csrf_token]");
    if (!target || !tokenInput || !window.fetch) return;
    var url = area.getAttribute("data-preview-url");
    var timer = null;
    var sent = 0;
    var lastText = area.value;

    function refresh() {
      var mine = ++sent;
      var body = new URLSearchParams();
      body.append("csrf_token", tokenInput.value);
      body.append("text", area.value);
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": tokenInput.value }
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          if (mine === sent) target.innerHTML = data.html;
        })
        .catch(function () {
          if (mine !== sent) return;
          var note = document.createElement("p");
          note.className = "flash flash-warning";
          note.textContent = target.getAttribute("data-msg-failed");
          target.replaceChildren(note);
        });
    }

    area.addEventListener("input", function () {
      if (area.value === lastText) return;
      lastText = area.value;
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DELAY_MS);
    });
  }

  document.querySelectorAll("textarea[data-preview-url]").forEach(livePreview);
})();
