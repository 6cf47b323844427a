// bandmate listening test: the player and the rating form of a trial page.
// Saving needs three things: the clip was played, a sound class and a fit grade.
"use strict";
(() => {
  const form = document.getElementById("rating");
  if (!form) return;
  const audio = document.getElementById("audio");
  const play = document.getElementById("play");
  const seek = document.getElementById("seek");
  const time = document.getElementById("time");
  const submit = document.getElementById("submit");
  const status = document.getElementById("status");
  let busy = false;

  const clock = (s) => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}` : "0:00");
  const chosen = (name) => {
    const input = form.querySelector(`input[name="${name}"]:checked`);
    return input ? input.value : null;
  };
  const played = () => form.dataset.played === "1";

  function update() {
    const missing = [];
    if (!played()) missing.push("play the clip");
    if (!chosen("outcome")) missing.push("say what it sounds like");
    if (!chosen("fit")) missing.push("rate the fit");
    submit.disabled = busy || missing.length > 0;
    if (busy) return;
    status.classList.remove("error");
    status.classList.toggle("ready", missing.length === 0);
    status.textContent = missing.length ? `Still to do: ${missing.join(", ")}.` : "Ready to save.";
  }

  function showTime() {
    seek.max = audio.duration || 1;
    seek.value = audio.currentTime;
    time.textContent = `${clock(audio.currentTime)} / ${clock(audio.duration)}`;
  }

  function setPlaying(playing) {
    play.classList.toggle("playing", playing);
    play.setAttribute("aria-label", playing ? "Pause" : "Play");
  }

  play.addEventListener("click", () => (audio.paused ? audio.play() : audio.pause()));
  audio.addEventListener("play", () => {
    form.dataset.played = "1";
    setPlaying(true);
    update();
  });
  audio.addEventListener("pause", () => setPlaying(false));
  audio.addEventListener("ended", () => setPlaying(false));
  audio.addEventListener("timeupdate", showTime);
  audio.addEventListener("loadedmetadata", showTime);
  audio.addEventListener("error", () => {
    status.textContent = "The clip could not be loaded. Reload the page to try again.";
    status.classList.add("error");
  });
  seek.addEventListener("click", (event) => {
    const box = seek.getBoundingClientRect();
    if (audio.duration) audio.currentTime = ((event.clientX - box.left) / box.width) * audio.duration;
  });
  form.addEventListener("change", update);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    busy = true;
    update();
    status.textContent = "Saving…";
    const rating = { rater: form.dataset.rater, trial: form.dataset.trial, outcome: chosen("outcome"), fit: Number(chosen("fit")) };
    try {
      const response = await fetch("/api/ratings", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(rating),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || response.statusText);
      audio.pause();
      window.location.assign(body.next);
    } catch (error) {
      busy = false;
      update();
      status.textContent = `Not saved (${error.message}). Please try again.`;
      status.classList.add("error");
    }
  });

  const keys = { m: "music", s: "silence", n: "noise" };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    let input = null;
    if (key === " ") {
      event.preventDefault();
      play.click();
    } else if (key in keys) {
      input = form.querySelector(`input[name="outcome"][value="${keys[key]}"]`);
    } else if (/^[1-5]$/.test(key)) {
      input = form.querySelector(`input[name="fit"][value="${key}"]`);
    } else if (key === "enter" && !submit.disabled) {
      event.preventDefault();
      form.requestSubmit();
    }
    if (input) {
      input.checked = true;
      update();
    }
  });

  showTime();
  update();
})();
