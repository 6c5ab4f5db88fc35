/* The course saved on this device, and the outbox of what was done without a connection.

   - Outbox (IndexedDB "courseware-offline", store "outbox"): each action gets its own id
     (a uuid) when it is made and keeps it until the server has answered for it; sent in the
     order made to /offline/sync, where the same id twice is recorded once.
   - Save (the /offline page): the package list first (its size shown), then each address
     into the cache "courseware-offline" with a progress bar; a later save fetches only what
     changed (a lesson's revision, a static file's hash) and drops what is no longer listed.
   - Sign-out: what is waiting is sent first, then the cache, the outbox and the service
     worker are removed (the server's answer also says Clear-Site-Data).
   Other scripts queue through window.coursewareOffline.queue(action). */
(function () {
  "use strict";
  var DB = "courseware-offline";
  var CACHE = "courseware-offline";
  var SYNC_URL = "/offline/sync";
  var BATCH = 200;
  var db = null;
  var syncing = null;
  var lastSynced = 0;
  var retry = null;

  function open() {
    if (db) return Promise.resolve(db);
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        request.result.createObjectStore("meta", { keyPath: "key" });
      };
      request.onsuccess = function () {
        var handle = request.result;
        // Another page deleting the store (sign-out) asks this connection to close; by then
        // this page may have closed or replaced its own, so close the one this handler has.
        handle.onversionchange = function () {
          handle.close();
          if (db === handle) { db = null; }
        };
        db = handle;
        resolve(handle);
      };
      request.onerror = function () { reject(request.error); };
    });
  }

  function store(name, mode, work) {
    return open().then(function (handle) {
      return new Promise(function (resolve, reject) {
        var tx = handle.transaction(name, mode);
        var result = work(tx.objectStore(name));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function waiting() {
    return store("outbox", "readonly", function (s) { return s.getAll(); });
  }

  function meta(key, value) {
    if (value === undefined) {
      return store("meta", "readonly", function (s) { return s.get(key); }).then(function (row) {
        return row ? row.value : null;
      });
    }
    return store("meta", "readwrite", function (s) { s.put({ key: key, value: value }); });
  }

  function token() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function say(box, name, n) {
    if (!box) return;
    var text = box.getAttribute("data-msg-" + name) || "";
    box.textContent = text.replace("{n}", String(n));
    box.hidden = !text;
  }

  function showState(note) {
    var box = document.querySelector("[data-outbox]");
    if (!box) return Promise.resolve();
    return waiting().then(function (items) {
      box.setAttribute("data-waiting", String(items.length));
      if (note) say(box, note, lastSynced);
      else if (items.length) say(box, "waiting", items.length);
      else if (lastSynced) say(box, "synced", lastSynced);
      else box.hidden = true;
    }).catch(function () { /* no IndexedDB: nothing waits here */ });
  }

  function queue(action) {
    action.id = uuid();
    action.at = new Date().toISOString();
    return store("outbox", "readwrite", function (s) { s.add(action); }).then(function () {
      return showState();
    }).then(function () {
      sync();
    });
  }

  // Whether the server answers now (navigator.onLine is not to be trusted: a phone on a
  // dead network, or a browser's offline mode, may still say "online").
  function reachable() {
    var timeout = new Promise(function (resolve) { setTimeout(function () { resolve(false); }, 3000); });
    var probe = fetch("/healthz", { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok; }, function () { return false; });
    return Promise.race([probe, timeout]);
  }

  function sendBatch(items) {
    var sent = items.slice(0, BATCH);
    var actions = sent.map(function (item) {
      var copy = {};
      Object.keys(item).forEach(function (k) { if (k !== "seq") copy[k] = item[k]; });
      return copy;
    });
    return fetch(SYNC_URL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token() },
      body: JSON.stringify({ actions: actions })
    }).then(function (response) {
      if (response.status === 401) throw new Error("signed-out");
      if (response.status === 400) {
        // An action the server can never take (malformed): drop it, keep the rest.
        return response.json().then(function (answer) {
          var bad = sent[answer.index] || sent[0];
          return store("outbox", "readwrite", function (s) { s.delete(bad.seq); });
        });
      }
      if (!response.ok) throw new Error("sync " + response.status);
      return response.json().then(function (answer) {
        lastSynced += answer.recorded;
        if (answer.refresh) meta("stale", true);
        // Every action answered for (recorded, duplicate or rejected) leaves the outbox.
        return store("outbox", "readwrite", function (s) {
          sent.forEach(function (item) { s.delete(item.seq); });
        });
      });
    });
  }

  function sync() {
    if (syncing) return syncing;
    syncing = (function next() {
      return waiting().then(function (items) {
        if (!items.length) return null;
        return sendBatch(items).then(next);
      });
    })().then(function () {
      syncing = null;
      return showState();
    }, function (error) {
      syncing = null;
      if (!retry) retry = setTimeout(function () { retry = null; sync(); }, 15000);
      return showState(error && error.message === "signed-out" ? "signed-out" : null);
    });
    return syncing;
  }

  function clearDevice() {
    var steps = [];
    if (window.caches) {
      steps.push(caches.keys().then(function (keys) {
        return Promise.all(keys.map(function (k) { return caches.delete(k); }));
      }));
    }
    if (navigator.serviceWorker) {
      steps.push(navigator.serviceWorker.getRegistrations().then(function (all) {
        return Promise.all(all.map(function (r) { return r.unregister(); }));
      }));
    }
    if (db) { db.close(); db = null; }
    if (window.indexedDB) {
      steps.push(new Promise(function (resolve) {
        var request = indexedDB.deleteDatabase(DB);
        request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
      }));
    }
    return Promise.all(steps).catch(function () { /* the server's Clear-Site-Data follows */ });
  }

  function signOut(form) {
    var done = false;
    form.addEventListener("submit", function (event) {
      if (done) return;
      event.preventDefault();
      done = true;
      reachable().then(function (online) {
        // Without a connection the sign-out cannot reach the server: the device keeps
        // everything, and the saved "needs a connection" page says so.
        if (!online) { form.submit(); return null; }
        var timeout = new Promise(function (resolve) { setTimeout(resolve, 5000); });
        return Promise.race([sync(), timeout]).then(clearDevice).then(function () { form.submit(); });
      });
    });
  }

  // ---- saving the course (the /offline page) ----

  function bytes(n) {
    var lang = document.documentElement.lang || "zh-Hant";
    var mb = n / (1024 * 1024);
    var fmt = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    return mb >= 1 ? fmt.format(mb) + " MB" : fmt.format(n / 1024) + " kB";
  }

  function getPackage(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("package " + response.status);
        return response.json();
      });
  }

  // Fetch what is new or changed, drop what is no longer listed; report(done bytes).
  function apply(pkg, report) {
    return Promise.all([caches.open(CACHE), meta("package")]).then(function (both) {
      var cache = both[0];
      var before = (both[1] && both[1].entries) || {};
      var listed = {};
      pkg.entries.forEach(function (e) { listed[e.url] = e.revision === undefined ? null : e.revision; });
      var done = 0;
      var todo = pkg.entries.slice();
      function one() {
        var entry = todo.shift();
        if (!entry) return Promise.resolve();
        return cache.match(entry.url, { ignoreVary: true }).then(function (copy) {
          var same = copy && entry.url in before && before[entry.url] === listed[entry.url];
          if (same && entry.kind !== "page") return null;
          return fetch(entry.url, { credentials: "same-origin" }).then(function (response) {
            if (!response.ok || response.redirected) throw new Error("fetch " + entry.url);
            return cache.put(entry.url, response);
          });
        }).then(function () {
          done += entry.bytes;
          if (report) report(done);
          return one();
        });
      }
      return one().then(function () {
        return Promise.all(Object.keys(before).filter(function (url) { return !(url in listed); })
          .map(function (url) { return cache.delete(url); }));
      }).then(function () {
        return meta("package", { version: pkg.version, entries: listed, saved: new Date().toISOString() });
      }).then(function () { return meta("stale", false); });
    });
  }

  function register() {
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  function savePage(section) {
    var url = section.getAttribute("data-package-url");
    var size = section.querySelector("[data-offline-size]");
    var start = section.querySelector("[data-offline-start]");
    var remove = section.querySelector("[data-offline-remove]");
    var bar = section.querySelector("[data-offline-progress]");
    var message = section.querySelector("[data-offline-message]");
    function msg(name) { return section.getAttribute("data-msg-" + name) || ""; }
    if (!navigator.serviceWorker || !window.caches || !window.indexedDB) {
      size.textContent = msg("unsupported");
      return;
    }
    meta("package").then(function (saved) {
      if (saved) { remove.hidden = false; message.textContent = msg("saved"); }
    });
    getPackage(url).then(function (pkg) {
      size.textContent = msg("size").replace("{size}", bytes(pkg.bytes)).replace("{n}", String(pkg.entries.length));
      start.disabled = false;
    }).catch(function () { /* offline: the size shows when the connection returns */ });
    start.addEventListener("click", function () {
      start.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      register().then(function () {
        return getPackage(url + "?save=1");
      }).then(function (pkg) {
        bar.max = pkg.bytes;
        return apply(pkg, function (done) {
          bar.value = done;
          message.textContent = msg("saving").replace("{done}", bytes(done)).replace("{size}", bytes(pkg.bytes));
        });
      }).then(function () {
        bar.value = bar.max;
        message.textContent = msg("saved");
        section.setAttribute("data-saved", "1");
        remove.hidden = false;
      }).catch(function () {
        message.textContent = msg("failed");
      }).then(function () { start.disabled = false; });
    });
    remove.addEventListener("click", function () {
      caches.delete(CACHE).then(function () { return meta("package", null); }).then(function () {
        message.textContent = msg("removed");
        section.removeAttribute("data-saved");
        remove.hidden = true;
      });
    });
  }

  // With a connection, a saved course follows the published one: at most every 10 minutes,
  // or at once when the server said the package changed (the cohort).
  function keepUpdated() {
    if (!window.caches) return;
    Promise.all([meta("package"), meta("stale"), meta("checked")]).then(function (m) {
      if (!m[0]) return null;
      if (!m[1] && m[2] && Date.now() - m[2] < 10 * 60 * 1000) return null;
      return meta("checked", Date.now()).then(function () {
        return getPackage("/offline/package.json");
      }).then(function (pkg) {
        if (pkg.version !== m[0].version || m[1]) return apply(pkg, null);
        return null;
      });
    }).catch(function () { /* tried again on a later page */ });
  }

  // A case dossier's reading time (the decision itself is never taken offline): with the
  // course saved on this device it goes through the outbox, so a dropped connection loses
  // nothing. Counted while the page is visible, reported when it is hidden or left.
  function dossierReading(section) {
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller) return;
    var started = Date.now();
    var visible = document.visibilityState === "visible";
    function report() {
      if (visible) {
        var seconds = Math.round((Date.now() - started) / 1000);
        if (seconds >= 2) queue({ type: "case_read", "case": section.getAttribute("data-case-read"), seconds: seconds });
      }
      started = Date.now();
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { report(); visible = false; }
      else { visible = true; started = Date.now(); }
    });
    window.addEventListener("pagehide", report);
  }

  window.coursewareOffline = {
    queue: queue, sync: sync, waiting: waiting, clear: clearDevice, reachable: reachable
  };

  document.addEventListener("DOMContentLoaded", function () {
    var logout = document.querySelector("form.logout-form");
    if (logout) signOut(logout);
    var section = document.querySelector("[data-offline-save]");
    if (section) savePage(section);
    var dossier = document.querySelector("[data-case-read]");
    if (dossier) dossierReading(dossier);
    window.addEventListener("online", function () { sync(); });
    showState().then(function () {
      sync();
      keepUpdated();
    });
  });
})();
