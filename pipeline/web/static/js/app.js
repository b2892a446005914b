// Sentinel web: the only script besides htmx. It sends the CSRF token with every htmx request
// (from the csrf-token meta tag) and keeps that tag current when a response brings a new token
// (after signing in, the session's token replaces the sign-in form's). On the clerk's upload
// page it sends the file to the submission API and shows the receipt it returns.
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

  // ---- the clerk's upload page: the same endpoints as a hospital's system -------------------
  // /api/v1/validate (a dry run) and /api/v1/submissions, with this session and its CSRF token;
  // every value from the server is shown as text (textContent), never as markup.
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    return node;
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? String(values[name]) : all;
    });
  }
  function showReceipt(out, receipt, labels, dryRun) {
    var box = el("div", null, { id: dryRun ? "upload-dry-run" : "upload-receipt" });
    box.appendChild(el("h2", dryRun ? labels.dry_run_title : labels.title));
    if (dryRun) {
      box.appendChild(el("p", labels.dry_run_note, { class: "notice", id: "dry-run-note" }));
    }
    var facts = el("dl", null, { class: "facts" });
    function fact(label, value, id) {
      if (value === undefined || value === null || value === "") {
        return;
      }
      facts.appendChild(el("dt", label));
      facts.appendChild(el("dd", value, id ? { id: id } : {}));
    }
    if (!dryRun) {
      fact(labels.id, receipt.submission_id);
    }
    fact(labels.file, receipt.file_name);
    fact(labels.status, receipt.status_text || receipt.status, "upload-status");
    fact(
      labels.counts,
      [receipt.rows_received, receipt.rows_stored, receipt.rows_quarantined,
        receipt.rows_duplicate].join(" / ")
    );
    if (receipt.file_rule) {
      fact(labels.file_error, receipt.file_message || receipt.file_rule);
    }
    fact(labels.hint, receipt.advice);
    fact(labels.duplicate_of, receipt.duplicate_of);
    box.appendChild(facts);
    box.appendChild(el("h3", labels.errors));
    var errors = receipt.errors || [];
    if (!errors.length) {
      box.appendChild(el("p", labels.no_errors, { class: "notice" }));
    } else {
      var table = el("table", null, { class: "grid receipt-errors", id: "upload-errors" });
      var head = el("tr");
      [labels.row, labels.field, labels.value, labels.message].forEach(function (name) {
        head.appendChild(el("th", name));
      });
      table.appendChild(el("thead")).appendChild(head);
      var body = table.appendChild(el("tbody"));
      errors.forEach(function (error) {
        var row = el("tr");
        [error.row, error.field_label || error.field, error.value, error.message].forEach(
          function (value) {
            row.appendChild(el("td", value === null || value === undefined ? "" : value));
          }
        );
        body.appendChild(row);
      });
      box.appendChild(table);
    }
    out.appendChild(box);
  }
  function send(form, api) {
    var labels = JSON.parse(form.getAttribute("data-labels") || "{}");
    var out = document.getElementById("upload-result");
    var input = form.querySelector("input[type=file]");
    var token = (meta() && meta().content) || "";
    out.replaceChildren(el("p", labels.working, { class: "muted", id: "upload-working" }));
    var data = new FormData();
    data.append("file", input.files[0]);
    function problem(text) {
      out.replaceChildren(el("p", text, { class: "problem", id: "upload-problem" }));
    }
    function call(url, options) {
      return fetch(url, Object.assign({ credentials: "same-origin" }, options)).then(
        function (reply) {
          return reply.json().then(function (body) {
            if (body && body.error) {
              throw new Error(body.error.message);
            }
            return body;
          });
        },
        function () {
          throw new Error(labels.network);
        }
      );
    }
    function poll(url, line, started) {
      call(url, { headers: { Accept: "application/json" } }).then(function (body) {
        if (body.receipt) {
          line.textContent = "";
          showReceipt(out, body.receipt, labels, false);
          var link = "/hospitals/" + encodeURIComponent(form.getAttribute("data-code")) +
            "/submissions/" + encodeURIComponent(body.submission_id);
          out.appendChild(el("p")).appendChild(el("a", labels.open, { href: link, id: "open-receipt" }));
        } else if (body.status === "failed") {
          var last = (body.history || []).slice(-1)[0] || {};
          line.textContent = fill(labels.failed, { detail: last.detail || "" });
        } else if (Date.now() - started < 15 * 60 * 1000) {
          line.textContent = fill(labels.waiting, { status: body.status });
          window.setTimeout(function () { poll(url, line, started); }, 1500);
        }
      }, function (error) { problem(error.message); });
    }
    call(api, {
      method: "POST",
      body: data,
      headers: { "X-CSRF-Token": token, Accept: "application/json" },
    }).then(function (body) {
      out.replaceChildren();
      if (/\/validate$/.test(api)) {
        showReceipt(out, body, labels, true);
        return;
      }
      out.appendChild(el("p", fill(labels.sent, { id: body.submission_id }), {
        id: "upload-sent", "data-submission": body.submission_id,
      }));
      var line = out.appendChild(el("p", fill(labels.waiting, { status: "received" }), {
        class: "muted", id: "upload-waiting",
      }));
      poll(body.status_url, line, Date.now());
    }, function (error) { problem(error.message); });
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var api = button && button.getAttribute("data-api");
    if (!form || form.id !== "upload-form" || !api) {
      return;
    }
    var input = form.querySelector("input[type=file]");
    if (!input || !input.files.length || !window.fetch || !window.FormData) {
      return; // the browser's own submit (the server-side check, or the API's JSON)
    }
    event.preventDefault();
    send(form, api);
  });
})();
