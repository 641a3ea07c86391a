// Browser side of the liveness check: camera -> WebSocket -> boxes and one decision.
"use strict";

const video = document.getElementById("video");
const overlay = document.getElementById("overlay");
const statusLine = document.getElementById("status");
const result = document.getElementById("result");
const again = document.getElementById("again");
const bar = document.getElementById("bar");
const prompt = document.getElementById("prompt");
// the preview is mirrored, so the person's own left is the screen's left
const ARROWS = { turn_left: "\u2190", turn_right: "\u2192", look_up: "\u2191", blink: "\u25C9" };
const grab = document.createElement("canvas");
const MAX_SIDE = 640;
const REASONS = {
  no_face: "No face found: look at the camera.",
  several_faces: "Several faces: only one person, please.",
  face_too_small: "Face too small: come closer.",
  too_dark: "Too dark: add some light.",
  too_bright: "Too bright: avoid direct light.",
};
let socket = null;
let running = false;

function setStatus(text) { statusLine.textContent = text; }

function showDecision(message) {
  running = false;
  result.hidden = false;
  result.className = "result " + message.decision;
  const label = { live: "Live person", attack: "Presentation attack", uncertain: "Uncertain" }[message.decision];
  result.textContent = label + " — " + message.reason;
  document.body.dataset.decision = message.decision;
  again.hidden = false;
  setStatus("Done.");
}

function showPrompt(challenge) {
  // the current prompt of a challenge (liveness serve --challenge): an arrow, the words, time left
  if (!challenge || !challenge.prompt) { prompt.hidden = true; return; }
  prompt.hidden = false;
  prompt.textContent = `${ARROWS[challenge.prompt] || ""} ${challenge.text[0].toUpperCase()}${challenge.text.slice(1)}` +
    ` (${challenge.done + 1} of ${challenge.of}, ${challenge.seconds_left.toFixed(1)} s)`;
  document.body.dataset.prompt = challenge.prompt;
}

function drawFaces(message) {
  const ctx = overlay.getContext("2d");
  overlay.width = message.width;
  overlay.height = message.height;
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  ctx.lineWidth = Math.max(2, message.width / 200);
  ctx.font = `${Math.max(14, message.width / 30)}px sans-serif`;
  for (const face of message.faces) {
    const [x, y, w, h] = face.box;
    const mx = message.width - x - w;  // the video is shown mirrored
    const color = face.label === "real" ? "#3c3" : "#e33";
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.strokeRect(mx, y, w, h);
    ctx.fillText(`${face.label} ${face.score.toFixed(2)}`, mx, Math.max(16, y - 6));
  }
  document.body.dataset.boxes = String(Number(document.body.dataset.boxes || 0) + message.faces.length);
}

function sendFrame() {
  if (!running || !socket || socket.readyState !== WebSocket.OPEN || !video.videoWidth) return;
  const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  grab.width = Math.round(video.videoWidth * scale);
  grab.height = Math.round(video.videoHeight * scale);
  grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
  grab.toBlob((blob) => { if (blob && running) socket.send(blob); }, "image/jpeg", 0.85);
}

function onMessage(event) {
  const message = JSON.parse(event.data);
  if (message.type === "frame") {
    drawFaces(message);
    showPrompt(message.challenge);
    bar.style.width = `${Math.round(100 * message.progress)}%`;
    let text = message.problem ? REASONS[message.problem] || message.problem
      : message.challenge && message.challenge.prompt ? "Follow the prompt above…"
      : message.waiting_for_blink ? "Blink once, please…" : "Hold still…";
    if (message.blinks !== undefined) text += ` (blinks seen: ${message.blinks})`;
    setStatus(text);
    document.body.dataset.blinks = String(message.blinks ?? "");
    setTimeout(sendFrame, 100);  // as fast as the server answers, at most ~10 frames a second
  } else if (message.type === "decision") {
    bar.style.width = "100%";
    prompt.hidden = true;
    showDecision(message);
  } else if (message.type === "error") {
    setStatus("Server: " + message.message);
    setTimeout(sendFrame, 500);
  } else if (message.type === "reset") {
    running = true;
    sendFrame();
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/stream`);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => { running = true; setStatus("Look at the camera…"); sendFrame(); };
  socket.onmessage = onMessage;
  socket.onclose = () => { if (running) setStatus("Connection to the server lost."); running = false; };
}

async function start() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showDecision({ decision: "uncertain", reason: "this browser cannot use a camera (or the page is not https)" });
    return;
  }
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
    });
  } catch (err) {
    const reason = err.name === "NotAllowedError" ? "camera access was denied"
      : err.name === "NotFoundError" ? "no camera found" : `camera error (${err.name})`;
    showDecision({ decision: "uncertain", reason });
    return;
  }
  await video.play();
  connect();
}

again.addEventListener("click", () => {
  result.hidden = true;
  again.hidden = true;
  bar.style.width = "0";
  delete document.body.dataset.decision;
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "reset" }));
  else connect();
});

start();
