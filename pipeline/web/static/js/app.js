// Sentinel web: the only script besides htmx. It sends the CSRF token with every htmx request
// (from the csrf-token meta tag) and keeps that tag current when a response brings a new token
// (after signing in, the session's token replaces the sign-in form's).
(function () {
  "use strict";
  function meta() {
    return document.querySelector('meta[name="csrf-token"]');
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var tag = meta();
    if (tag && tag.content) {
      event.detail.headers["X-CSRF-Token"] = tag.content;
    }
  });
  // Only HTML is ever swapped into the page: a download (CSV, XLSX, zip) reached through htmx
  // by mistake must not be parsed as markup.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var type = (event.detail.xhr && event.detail.xhr.getResponseHeader("Content-Type")) || "";
    if (type && type.indexOf("text/html") !== 0) {
      event.detail.shouldSwap = false;
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    var token = xhr && xhr.getResponseHeader("X-CSRF-Token");
    var tag = meta();
    if (token && tag) {
      tag.content = token;
    }
  });
})();
