/* Quiz attempt: save answers as the trainee goes, retry when the connection is back,
   show the time left. The form works without this script (save and submit buttons);
   the server enforces every rule. */
(function () {
  "use strict";

  function init(form) {
    var url = form.getAttribute("data-save-url");
    var status = form.querySelector("[data-save-status]");
    var timer = null;
    var inFlight = false;
    var pending = false;
    var closed = false;

    function say(text) { if (status) status.textContent = text; }

    function showErrors(errors) {
      var boxes = form.querySelectorAll(".quiz-question .field-error");
      Array.prototype.forEach.call(boxes, function (box) {
        var item = box.closest(".quiz-question");
        var position = item.id.replace("question-", "");
        var message = errors && errors[position];
        box.textContent = message || "";
        box.hidden = !message;
        item.classList.toggle("has-error", Boolean(message));
      });
    }

    function save() {
      if (closed) return;
      if (inFlight) { pending = true; return; }
      inFlight = true;
      pending = false;
      say(form.getAttribute("data-msg-saving"));
      fetch(url, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (data) { return { status: response.status, data: data }; });
      }).then(function (result) {
        inFlight = false;
        if (result.status === 200) {
          showErrors(null);
          say(form.getAttribute("data-msg-saved") + " " + (result.data.saved_at || ""));
        } else if (result.status === 409) {
          closed = true;
          say(result.data.error || form.getAttribute("data-msg-closed"));
          if (result.data.review) window.location.assign(result.data.review);
        } else {
          showErrors(result.data.errors);
          say(result.data.error || "");
        }
        if (pending) save();
      }).catch(function () {
        inFlight = false;
        pending = true;
        say(form.getAttribute("data-msg-offline"));
      });
    }

    function soon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(save, 700);
    }

    form.addEventListener("change", soon);
    form.addEventListener("input", function (event) {
      if (event.target.type === "text") soon();
    });
    window.addEventListener("online", function () { if (pending) save(); });
    window.setInterval(function () { if (pending && navigator.onLine !== false) save(); }, 15000);

    form.addEventListener("submit", function () {
      closed = true; // the form itself carries every answer now
      var button = form.querySelector("[data-submit]");
      window.setTimeout(function () { if (button) button.disabled = true; }, 0);
    });

    var deadline = form.getAttribute("data-deadline");
    var countdown = document.querySelector("[data-countdown]");
    if (deadline && countdown) {
      var end = Date.parse(deadline);
      var tick = function () {
        var left = Math.max(0, end - Date.now());
        countdown.textContent = form.getAttribute("data-msg-minutes") + " " + Math.ceil(left / 60000);
        if (left <= 2000 && !closed) {
          closed = true;
          form.submit();
        }
      };
      tick();
      window.setInterval(tick, 1000);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.quiz-form[data-save-url]");
    if (form && window.fetch && window.FormData) init(form);
  });
})();
