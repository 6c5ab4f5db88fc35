/* Small progressive enhancements; the site works without them. */
(function () {
  "use strict";

  // True when the course is saved on this device (a service worker controls the page).
  function savedCourse() {
    return !!(window.coursewareOffline && navigator.serviceWorker && navigator.serviceWorker.controller);
  }

  // Reading time: report seconds spent on a lesson when the page is hidden or left,
  // and the moment the reader reaches the end of the lesson (both count towards "read").
  function readingTime() {
    var article = document.querySelector("article[data-time-url]");
    if (!article || !navigator.sendBeacon) return;
    var started = Date.now();
    var visible = document.visibilityState === "visible";
    var spent = 0;
    var endSent = false;
    function take() {
      if (visible) { spent += Date.now() - started; started = Date.now(); }
      var seconds = Math.round(spent / 1000);
      spent = 0;
      return seconds;
    }
    function send(seconds, end) {
      if (seconds < 2 && !end) return;
      if (savedCourse()) {
        // The course is saved on this device: the report goes through its outbox
        // (offline.js), sent at once with a connection and kept until then without one.
        window.coursewareOffline.queue({
          type: "lesson_read",
          lesson: article.getAttribute("data-lesson"),
          revision: parseInt(article.getAttribute("data-revision") || "0", 10) || null,
          seconds: seconds,
          reached_end: !!end
        });
        return;
      }
      var data = new FormData();
      data.append("seconds", String(seconds));
      if (end) data.append("end", "1");
      data.append("csrf_token", article.getAttribute("data-csrf"));
      navigator.sendBeacon(article.getAttribute("data-time-url"), data);
    }
    function flush() {
      var seconds = take();
      if (seconds < 2) { spent = seconds * 1000; return; }
      send(seconds, false);
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { flush(); visible = false; }
      else { visible = true; started = Date.now(); }
    });
    window.addEventListener("pagehide", flush);
    // The time since the last report travels with the "mark as done" form itself.
    var form = document.querySelector("form[data-done-form]");
    var field = form && form.querySelector("[data-seconds]");
    if (form && field) {
      var fill = function () {
        field.value = String(take());
        if (endSent && !form.querySelector("input[name=end]")) {
          var reached = document.createElement("input");
          reached.type = "hidden";
          reached.name = "end";
          reached.value = "1";
          form.appendChild(reached);
        }
      };
      form.addEventListener("submit", function (event) {
        if (!savedCourse()) { fill(); return; }
        // With the course saved, first see whether the server answers: without a
        // connection the reading so far waits on the device, and the lesson is marked
        // done when it is sent, if its time and end meet the reading rule.
        event.preventDefault();
        window.coursewareOffline.reachable().then(function (online) {
          if (online) { fill(); form.submit(); return; }
          send(Math.max(2, take()), endSent);
          var note = form.getAttribute("data-msg-queued");
          if (note) form.querySelector("[data-done-note]").textContent = note;
        });
      });
    }
    var end = document.querySelector("[data-lesson-end]");
    if (end && "IntersectionObserver" in window) {
      var seen = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting && !endSent) {
            endSent = true;
            seen.disconnect();
            send(take(), true);
          }
        });
      });
      seen.observe(end);
    }
  }

  // Loan calculator: the same formulas as courseware/lending/arithmetic.py.
  function installment(p, r, n, type) {
    if (type === "flat") return p / n + p * r;
    if (r === 0) return p / n;
    return p * r / (1 - Math.pow(1 + r, -n));
  }
  function irr(net, pay, n) {
    function npv(i) { var s = 0; for (var k = 1; k <= n; k++) s += pay / Math.pow(1 + i, k); return s - net; }
    var lo = 0, hi = 1;
    if (npv(lo) < 0) return 0;
    for (var it = 0; it < 200; it++) { var mid = (lo + hi) / 2; if (npv(mid) > 0) lo = mid; else hi = mid; }
    return (lo + hi) / 2;
  }
  function loanCalculator(block) {
    var calc = block.querySelector(".loan-calc");
    if (!calc) return;
    var lang = document.documentElement.lang || "zh-Hant";
    var money = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    var pct = new Intl.NumberFormat(lang, { style: "percent", minimumFractionDigits: 2, maximumFractionDigits: 2 });
    var type = block.getAttribute("data-type");
    var inputs = {};
    ["amount", "rate", "term", "fee"].forEach(function (name) {
      inputs[name] = calc.querySelector("input[name=" + name + "]");
      inputs[name].value = block.getAttribute("data-" + name);
    });
    function out(key, text) { var cell = block.querySelector("[data-out=" + key + "]"); if (cell) cell.textContent = text; }
    function update() {
      var p = parseFloat(inputs.amount.value), r = parseFloat(inputs.rate.value) / 100;
      var n = parseInt(inputs.term.value, 10), f = parseFloat(inputs.fee.value || "0") / 100;
      if (!(p > 0) || !(r >= 0) || !(n >= 1 && n <= 360) || !(f >= 0 && f < 1)) return;
      var pay = installment(p, r, n, type);
      var i = irr(p * (1 - f), pay, n);
      out("amount", money.format(p));
      out("term", String(n));
      out("fee", money.format(p * f));
      out("installment", money.format(pay));
      out("interest", money.format(pay * n - p));
      out("emr", pct.format(i));
      out("apr", pct.format(12 * i));
      out("ear", pct.format(Math.pow(1 + i, 12) - 1));
      var rate = block.querySelector("[data-out=rate]");
      if (rate) rate.firstChild.textContent = pct.format(r) + " ";
      var sched = block.querySelector(".loan-schedule");
      if (sched) sched.closest("details").hidden = true;
    }
    Object.keys(inputs).forEach(function (k) { inputs[k].addEventListener("input", update); });
    calc.hidden = false;
  }

  // Practice exercises: check the answer without leaving the page. Without this script the
  // form posts and the page comes back at the exercise with the same feedback.
  function practiceForm(form) {
    var feedback = document.getElementById(form.getAttribute("data-feedback"));
    var button = form.querySelector("button[type=submit]");
    var busy = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return; // a second press while the first is on its way does nothing
      busy = true;
      button.setAttribute("aria-disabled", "true");
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.json();
      }).then(function (data) {
        if (!data || typeof data.feedback !== "string") throw new Error("no feedback");
        feedback.innerHTML = data.feedback; // built and escaped by the server
        var input = form.querySelector("input[type=text][name=answer]");
        if (input) {
          if (data.valid) input.removeAttribute("aria-invalid");
          else input.setAttribute("aria-invalid", "true");
        }
      }).catch(function (error) {
        if (error instanceof TypeError && window.coursewareOffline) {
          // No connection: the answer waits on the device and is checked when it is sent.
          var parts = new URL(form.action, location.href).pathname.split("/");
          window.coursewareOffline.queue({
            type: "practice_answer",
            lesson: parts[2] + "/" + parts[3],
            exercise: decodeURIComponent(parts[5]),
            answer: String(new FormData(form).get("answer") || "")
          });
          feedback.textContent = form.getAttribute("data-msg-queued") || "";
          return;
        }
        feedback.textContent = form.getAttribute("data-msg-failed");
      }).then(function () {
        busy = false;
        button.removeAttribute("aria-disabled");
      });
    });
  }

  // On a phone the lesson's contents would fill the first screen: fold it, one tap away.
  function foldContentsOnPhones() {
    if (!window.matchMedia || !window.matchMedia("(max-width: 40rem)").matches) return;
    var contents = document.querySelector(".toc details[open]");
    if (contents) contents.open = false;
  }

  // On a phone the navigation folds behind the menu button (CSS shows the button only
  // there); without this script the button stays hidden and the navigation shows.
  function navigationMenu() {
    var button = document.querySelector(".nav-toggle[aria-controls]");
    var nav = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) return;
    var header = button.closest(".site-header");
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("is-open", open);
    }
    button.addEventListener("click", function () {
      set(button.getAttribute("aria-expanded") !== "true");
    });
    nav.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        set(false);
        button.focus();
      }
    });
    set(false);
    header.classList.add("has-menu");
    button.hidden = false;
  }

  // A table wider than its box scrolls sideways inside .table-wrap: that box becomes a
  // named region the keyboard can reach (and scroll with the arrow keys).
  function scrollingTables() {
    var fallback = document.body.getAttribute("data-label-table") || "";
    function label(wrap) {
      var caption = wrap.querySelector("caption");
      if (caption && caption.textContent.trim()) return caption.textContent.trim();
      for (var el = wrap; el && el !== document.body; el = el.parentElement) {
        for (var sib = el.previousElementSibling; sib; sib = sib.previousElementSibling) {
          if (/^H[1-6]$/.test(sib.tagName)) return sib.textContent.trim();
          var inner = sib.querySelectorAll ? sib.querySelectorAll("h1, h2, h3, h4") : [];
          if (inner.length) return inner[inner.length - 1].textContent.trim();
        }
      }
      return fallback;
    }
    function update() {
      document.querySelectorAll(".table-wrap").forEach(function (wrap) {
        var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
        if (scrolls && !wrap.hasAttribute("tabindex")) {
          wrap.setAttribute("tabindex", "0");
          wrap.setAttribute("role", "region");
          wrap.setAttribute("aria-label", label(wrap));
        } else if (!scrolls && wrap.hasAttribute("tabindex")) {
          wrap.removeAttribute("tabindex");
          wrap.removeAttribute("role");
          wrap.removeAttribute("aria-label");
        }
      });
    }
    update();
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(update, 150);
    });
    window.addEventListener("load", update);  // once fonts and images have their size
    document.addEventListener("toggle", update, true);  // a table inside <details> opened
  }

  document.addEventListener("DOMContentLoaded", function () {
    navigationMenu();
    scrollingTables();
    foldContentsOnPhones();
    readingTime();
    document.querySelectorAll(".loan-block[data-amount]").forEach(loanCalculator);
    if (window.fetch && window.FormData) {
      document.querySelectorAll("form.practice-form[action]").forEach(practiceForm);
    }
  });
})();
