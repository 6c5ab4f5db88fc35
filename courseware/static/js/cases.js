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

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".calculator").forEach(calculator);
    document.querySelectorAll("fieldset.reasons[data-max]").forEach(reasonLimit);
  });
})();
