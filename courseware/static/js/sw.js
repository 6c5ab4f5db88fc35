/* The service worker: the saved course answers when the network does not.
   Pages: the network first, the saved copy when the network fails (or has not answered in
   WAIT ms); a saved page is refreshed whenever the network answers. A page that was not
   saved (a quiz, a case decision) or a form sent without a connection gets the saved
   "this page needs a connection" page: nothing is kept half-done on the device.
   Static files: the saved copy first (their addresses carry their content's hash).
   The cache is filled by offline.js on the "save for offline" page, never here. */
"use strict";
var CACHE = "courseware-offline";
var ONLINE_ONLY = "/offline/online-only";
var WAIT = 4000;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function saved(url) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(url, { ignoreVary: true });
  });
}

function onlineOnly() {
  return saved(ONLINE_ONLY).then(function (page) { return page || Response.error(); });
}

function page(request) {
  return saved(request.url).then(function (copy) {
    var network = fetch(request).then(function (response) {
      if (copy && response.ok && !response.redirected && response.type === "basic") {
        var fresh = response.clone();
        caches.open(CACHE).then(function (cache) { return cache.put(request.url, fresh); });
      }
      return response;
    });
    if (!copy) return network.catch(onlineOnly);
    var slow = new Promise(function (resolve) { setTimeout(function () { resolve(copy); }, WAIT); });
    return Promise.race([network.catch(function () { return copy; }), slow]);
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET") {
    if (request.mode === "navigate") event.respondWith(fetch(request).catch(onlineOnly));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(saved(request.url).then(function (copy) { return copy || fetch(request); }));
  } else if (request.mode === "navigate") {
    event.respondWith(page(request));
  }
});
