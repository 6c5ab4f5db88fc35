/* Loan cases: the dossier calculator updates as the trainee types, and the reasons
   checklist stops at three. Both are enhancements: without this script the calculator
   is a plain form the server answers, and the server refuses a fourth reason. */
(function () {
  "use strict";

  // The same formulas as courseware/lending/arithmetic.py.
  function installmentDeclining(p, r, n) {
    if (r === 0) return p / n;
    return p * r / -Math.expm1(-n * Math.log1p(r));
  }
  function installmentFlat(p, r, n) {
    return p / n + p * r;
  }

  function number(input) {
    var text = (input.value || "").replace(/,/g, "").trim();
    if (text === "") return null;
    var value = Number(text);
    return isFinite(value) ? value : NaN;
  }

  function calculator(section) {
    var form = section.querySelector(".calc-form");
    if (!form) return;
    var lang = document.documentElement.lang || "zh-Hant";
    var money = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    var percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
    var limits = {
      amountMin: parseFloat(section.getAttribute("data-amount-min")),
      amountMax: parseFloat(section.getAttribute("data-amount-max")),
      termMin: parseInt(section.getAttribute("data-term-min"), 10),
      termMax: parseInt(section.getAttribute("data-term-max"), 10),
      rateMax: parseFloat(section.getAttribute("data-rate-max"))
    };
    var flat = section.getAttribute("data-rate-type") === "flat";
    var negative = section.getAttribute("data-negative");
    var inputs = {};
    ["amount", "term", "rate", "surplus"].forEach(function (name) {
      inputs[name] = form.querySelector("input[name=" + name + "]");
    });
    var out = {
      installment: section.querySelector("[data-out=installment]"),
      ratio: section.querySelector("[data-out=ratio]")
    };

    function mark(input, ok) {
      if (ok) input.removeAttribute("aria-invalid");
      else input.setAttribute("aria-invalid", "true");
    }

    function update() {
      var p = number(inputs.amount), n = number(inputs.term);
      var r = number(inputs.rate), s = number(inputs.surplus);
      var okAmount = p !== null && p > 0 && p >= limits.amountMin && p <= limits.amountMax;
      var okTerm = n !== null && Math.floor(n) === n && n >= 1 && n >= limits.termMin && n <= limits.termMax;
      var okRate = r !== null && r >= 0 && r <= limits.rateMax;
      var okSurplus = s === null || !isNaN(s);
      mark(inputs.amount, okAmount);
      mark(inputs.term, okTerm);
      mark(inputs.rate, okRate);
      mark(inputs.surplus, okSurplus);
      if (!(okAmount && okTerm && okRate)) {
        out.installment.textContent = "–";
        out.ratio.textContent = "–";
        return;
      }
      var pay = flat ? installmentFlat(p, r / 100, n) : installmentDeclining(p, r / 100, n);
      out.installment.textContent = money.format(Math.round(pay));
      if (s === null || isNaN(s)) out.ratio.textContent = "–";
      else if (s <= 0) out.ratio.textContent = negative;
      else out.ratio.textContent = percent.format(pay / s);
    }

    Object.keys(inputs).forEach(function (name) {
      if (inputs[name]) inputs[name].addEventListener("input", update);
    });
    var submit = form.querySelector(".calc-submit");
    if (submit) submit.hidden = true;  // the figures update as the trainee types
  }

  // At most three reasons: once three are ticked, the others wait.
  function reasonLimit(fieldset) {
    var max = parseInt(fieldset.getAttribute("data-max"), 10) || 3;
    var boxes = fieldset.querySelectorAll("input[type=checkbox]");
    function update() {
      var ticked = 0;
      boxes.forEach(function (box) { if (box.checked) ticked += 1; });
      boxes.forEach(function (box) { box.disabled = !box.checked && ticked >= max; });
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  }

  // The case page in steps: one step at a time, with next and back buttons and the
  // progress bar marking where the trainee is. Without this script the page is the whole
  // dossier and form in order. After a refused form the step with the error comes first.
  function caseSteps(root) {
    var steps = Array.prototype.slice.call(root.querySelectorAll(".case-step"));
    var links = root.querySelectorAll("[data-step-link]");
    if (steps.length < 2) return;
    function byId(id) {
      for (var i = 0; i < steps.length; i++) if (steps[i].id === id) return steps[i];
      return null;
    }
    function show(id, focus) {
      var target = byId(id) || steps[0];
      var reached = false;
      steps.forEach(function (step) { step.hidden = step !== target; });
      links.forEach(function (link) {
        var here = link.getAttribute("data-step-link") === target.id;
        if (here) { link.setAttribute("aria-current", "step"); reached = true; }
        else link.removeAttribute("aria-current");
        link.parentElement.classList.toggle("is-done", !reached);
      });
      root.setAttribute("data-current", target.id);
      if (focus) {
        var title = target.querySelector(".step-title");
        (focus === true ? title : focus).focus({ preventScroll: true });
        (focus === true ? target : focus.closest("fieldset") || focus).scrollIntoView({ block: "start" });
      }
      return target;
    }
    root.classList.add("steps-on");
    root.querySelectorAll(".step-nav").forEach(function (nav) { nav.hidden = false; });
    root.addEventListener("click", function (event) {
      var go = event.target.closest("[data-step-go]");
      var link = event.target.closest("[data-step-link]");
      if (!go && !link) return;
      event.preventDefault();
      var id = go ? go.getAttribute("data-step-go") : link.getAttribute("data-step-link");
      show(id, true);
      if (window.history && history.replaceState) history.replaceState(null, "", "#" + id);
    });
    var errorStep = root.getAttribute("data-error-step");
    if (errorStep) {
      var first = byId(errorStep);
      var field = first && first.querySelector(".has-error input:not([type=hidden])");
      show(errorStep, field || true);
    } else {
      var hash = (window.location.hash || "").slice(1);
      var holder = hash ? document.getElementById(hash) : null;
      var step = holder ? holder.closest(".case-step") : null;
      show(step ? step.id : steps[0].id, false);
      if (holder && holder !== step) holder.scrollIntoView({ block: "start" });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".case-steps").forEach(caseSteps);
    document.querySelectorAll(".calculator").forEach(calculator);
    document.querySelectorAll("fieldset.reasons[data-max]").forEach(reasonLimit);
  });
})();
