// The guide's board: pause polling while the tab is hidden (a phone in a pocket costs no data)
// and show when the board was last checked. htmx does the polling (templates/guide/_live.html).
// When the login expires, keep what the guide typed in the stall's panel (see below).
(function () {
  "use strict";
  function isBoardPoll(evt) {
    var elt = evt.detail && evt.detail.elt;
    return elt && elt.id === "board-live";
  }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    if (isBoardPoll(evt) && document.hidden) {
      evt.preventDefault();
    }
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var xhr = evt.detail.xhr;
    var failed = !evt.detail.successful || (xhr && xhr.status >= 400);
    if (!failed && xhr && xhr.status > 0) {
      clearStatusLine(); // the login works again: the "expired" line is old news
    }
    if (!isBoardPoll(evt) || failed) {
      return;
    }
    var stamp = document.getElementById("board-checked");
    if (stamp) {
      // The market's clock, as the server shows every other time, whatever the phone's zone.
      try {
        stamp.textContent = new Date().toLocaleTimeString("en-GB", {
          timeZone: stamp.getAttribute("data-tz") || undefined,
          hour12: false,
        });
      } catch (e) {
        stamp.textContent = new Date().toTimeString().slice(0, 8);
      }
    }
  });

  // An expired login (the server answers with one line in #hx-status and triggers
  // "session-expired"): what was typed in the panel's forms is kept in this tab and put back
  // when the same form shows again, after logging in and opening the stall once more.
  var DRAFTS = "board-drafts";
  var SKIP = /(^|-)(csrf_token|nonce)$/;

  function clearStatusLine() {
    var line = document.getElementById("hx-status");
    if (line && line.firstChild) {
      line.textContent = "";
    }
  }

  function typed(form) {
    var values = {};
    var any = false;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP.test(el.name) || el.type === "hidden" || el.type === "file") {
        return;
      }
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked && !el.defaultChecked) {
          values[el.name + "=" + el.value] = true;
          any = true;
        }
      } else if ("defaultValue" in el && el.value !== el.defaultValue) {
        values[el.name] = el.value;
        any = true;
      }
    });
    return any ? values : null;
  }

  function readDrafts() {
    try {
      return JSON.parse(window.sessionStorage.getItem(DRAFTS) || "{}");
    } catch (e) {
      return {};
    }
  }

  function writeDrafts(drafts) {
    try {
      if (Object.keys(drafts).length) {
        window.sessionStorage.setItem(DRAFTS, JSON.stringify(drafts));
      } else {
        window.sessionStorage.removeItem(DRAFTS);
      }
    } catch (e) {
      // private mode or full storage: the text is still in the form on screen
    }
  }

  document.addEventListener("session-expired", function () {
    var panel = document.getElementById("panel");
    if (!panel) {
      return;
    }
    var drafts = readDrafts();
    panel.querySelectorAll("form[method=post]").forEach(function (form) {
      var values = typed(form);
      if (values) {
        drafts[form.getAttribute("action")] = values;
      }
    });
    writeDrafts(drafts);
  });

  function restore(form, values) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (values[el.name + "=" + el.value]) {
          el.checked = true;
        }
      } else if (el.name && Object.prototype.hasOwnProperty.call(values, el.name)) {
        el.value = values[el.name];
      }
    });
    var details = form.closest("details");
    if (details) {
      details.open = true;
    }
  }

  document.addEventListener("htmx:afterSwap", function (evt) {
    var panel = evt.detail.target;
    if (!panel || panel.id !== "panel") {
      return;
    }
    var drafts = readDrafts();
    panel.querySelectorAll("form[method=post]").forEach(function (form) {
      var action = form.getAttribute("action");
      if (drafts[action]) {
        restore(form, drafts[action]);
        delete drafts[action];
      }
    });
    writeDrafts(drafts);
  });
})();
