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

  /* Markdown toolbar: each button wraps the selection in the textarea (or puts a
     placeholder there), then tells the live preview that the text changed. The toolbar
     is hidden in the page and shown here, so without this script nothing is offered. */
  function markdownToolbar(bar) {
    var area = document.getElementById(bar.getAttribute("data-md-toolbar"));
    if (!area) return;
    var words = bar.querySelector("[data-md-text]");
    function word(name) { return words.getAttribute("data-md-" + name); }
    var buttons = Array.prototype.slice.call(bar.querySelectorAll("button[data-md]"));

    function replace(start, end, text, selectFrom, selectTo) {
      area.focus();
      area.setRangeText(text, start, end, "end");
      area.setSelectionRange(start + selectFrom, start + selectTo);
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function wrap(before, after, placeholder) {
      var start = area.selectionStart, end = area.selectionEnd;
      var inner = area.value.slice(start, end) || placeholder;
      replace(start, end, before + inner + after, before.length, before.length + inner.length);
    }

    function prefixLines(prefix) {
      var value = area.value;
      var start = value.lastIndexOf("\n", area.selectionStart - 1) + 1;
      var end = area.selectionEnd;
      if (end > start && value.charAt(end - 1) === "\n") end -= 1;
      var stop = value.indexOf("\n", end);
      if (stop === -1) stop = value.length;
      var lines = value.slice(start, stop).split("\n");
      var text = lines.map(function (line, i) {
        return (typeof prefix === "function" ? prefix(i) : prefix) + (line || (lines.length === 1 ? word("text") : ""));
      }).join("\n");
      replace(start, stop, text, 0, text.length);
    }

    function block(text) {
      var start = area.selectionStart, end = area.selectionEnd;
      var before = area.value.slice(0, start);
      var lead = before === "" || /\n\n$/.test(before) ? "" : (/\n$/.test(before) ? "\n" : "\n\n");
      replace(start, end, lead + text + "\n", lead.length, lead.length + text.length);
    }

    var actions = {
      heading: function () { prefixLines("## "); },
      bold: function () { wrap("**", "**", word("text")); },
      italic: function () { wrap("*", "*", word("text")); },
      list: function () { prefixLines("- "); },
      numbered: function () { prefixLines(function (i) { return (i + 1) + ". "; }); },
      link: function () { wrap("[", "](https://)", word("link-text")); },
      quote: function () { prefixLines("> "); },
      table: function () {
        var c = word("column"), v = word("cell");
        block("| " + c + " 1 | " + c + " 2 |\n| --- | --- |\n| " + v + " | " + v + " |");
      }
    };

    buttons.forEach(function (button, index) {
      button.addEventListener("click", function () { actions[button.getAttribute("data-md")](); });
      // A toolbar is one tab stop; the arrow keys, Home and End move between its buttons.
      button.addEventListener("keydown", function (event) {
        var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: buttons.length - 1 }[event.key];
        if (next === undefined) return;
        event.preventDefault();
        next = (next + buttons.length) % buttons.length;
        buttons.forEach(function (b, i) { b.tabIndex = i === next ? 0 : -1; });
        buttons[next].focus();
      });
    });
    area.addEventListener("keydown", function (event) {
      if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
      var key = event.key.toLowerCase();
      if (key === "b" || key === "i") {
        event.preventDefault();
        actions[key === "b" ? "bold" : "italic"]();
      }
    });
    bar.hidden = false;
  }

  document.querySelectorAll("[data-md-toolbar]").forEach(markdownToolbar);

  /* Question form: show the fields of the chosen type, add and remove choice rows in the
     page. Without this script every field shows, and the Add and Remove buttons ask the
     server for the form with one row more or less. */
  function questionForm(form) {
    var type = form.querySelector("select[name=type]");
    var list = form.querySelector("[data-choice-list]");
    var template = form.querySelector("template[data-choice-template]");
    var add = form.querySelector("[data-add-choice]");
    if (!type || !list || !template || !add) return;
    var counter = 0;

    function showType() {
      form.querySelectorAll("[data-types]").forEach(function (part) {
        part.hidden = part.getAttribute("data-types").split(" ").indexOf(type.value) === -1;
      });
    }

    function rows() { return Array.prototype.slice.call(list.querySelectorAll("[data-choice-row]")); }

    function renumber() {
      var all = rows();
      all.forEach(function (row, i) { row.querySelector("[data-choice-number]").textContent = String(i + 1); });
      add.disabled = all.length >= Number(list.getAttribute("data-max"));
    }

    function nextKey() {
      var used = rows().map(function (row) { return row.querySelector("input[name=choice_key]").value; });
      var letters = "abcdefghijkl".split("");
      for (var i = 0; i < letters.length; i++) if (used.indexOf(letters[i]) === -1) return letters[i];
      return "";
    }

    function newId() {
      var id;
      do { id = "n" + (counter++); } while (form.querySelector("[name=choice_id][value=" + id + "]"));
      return id;
    }

    add.addEventListener("click", function (event) {
      event.preventDefault();
      if (rows().length >= Number(list.getAttribute("data-max"))) return;
      var id = newId();
      var html = template.innerHTML.split("__ID__").join(id);
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var row = holder.firstElementChild;
      row.querySelector("input[name=choice_key]").value = nextKey();
      list.appendChild(row);
      renumber();
      row.querySelector("input[name=choice_text]").focus();
    });

    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-choice]");
      if (!button) return;
      event.preventDefault();
      var row = button.closest("[data-choice-row]");
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber();
      (next ? next.querySelector("input[name=choice_text]") : add).focus();
    });

    // Single choice has one right answer: ticking one clears the others.
    list.addEventListener("change", function (event) {
      var box = event.target;
      if (box.name !== "choice_right" || !box.checked || type.value !== "single") return;
      list.querySelectorAll("input[name=choice_right]").forEach(function (other) {
        if (other !== box) other.checked = false;
      });
    });

    type.addEventListener("change", showType);
    showType();
    renumber();
  }

  document.querySelectorAll("form[data-question-form]").forEach(questionForm);
})();
