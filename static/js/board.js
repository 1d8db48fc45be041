// The guide's board: pause polling while the tab is hidden (a phone in a pocket costs no data)
// and show when the board was last checked. htmx does the polling (templates/guide/_live.html).
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
    if (!isBoardPoll(evt) || !evt.detail.successful) {
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
})();
