/* custdev research site: start players at the quote, and let time stamps seek the recording. */
(function () {
  function startAt(audio) {
    var t = parseFloat(audio.dataset.start);
    if (!isFinite(t)) return;
    function go() { if (Math.abs(audio.currentTime - t) > 0.05) { audio.currentTime = t; } }
    if (audio.readyState >= 1) { go(); } else { audio.addEventListener("loadedmetadata", go, { once: true }); }
  }
  document.querySelectorAll("audio[data-start]").forEach(startAt);
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-seek]");
    if (!button) return;
    var audio = document.getElementById("cd-audio");
    if (!audio) return;
    event.preventDefault();
    audio.currentTime = parseFloat(button.dataset.seek) || 0;
    var played = audio.play();
    if (played && played.catch) { played.catch(function () {}); }
  });
})();
