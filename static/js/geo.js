/* When the vendor taps the check-in button, ask the phone for its position (at most a few
   seconds), put it in the form, and send the form either way. The position only flags a
   check-in far outside the market for the guide; without it the check-in works the same.
   Asked on the tap, not on page load, and loaded as a file: the CSP allows no inline script. */
(function () {
  var form = document.querySelector("form[data-geo]");
  if (!form || !navigator.geolocation) return;
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) return;
    event.preventDefault();
    sent = true;
    var done = function () { form.submit(); };
    var timer = setTimeout(done, 4000);
    navigator.geolocation.getCurrentPosition(
      function (p) {
        clearTimeout(timer);
        form.querySelector("[name=latitude]").value = p.coords.latitude.toFixed(6);
        form.querySelector("[name=longitude]").value = p.coords.longitude.toFixed(6);
        done();
      },
      function () { clearTimeout(timer); done(); },
      { enableHighAccuracy: false, timeout: 3500, maximumAge: 60000 }
    );
  });
})();
