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
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    var token = xhr && xhr.getResponseHeader("X-CSRF-Token");
    var tag = meta();
    if (token && tag) {
      tag.content = token;
    }
  });
})();
