// An optional chime on a new alert, generated with WebAudio (no audio file).
// Browsers only allow audio after one user interaction, so the supervisor view offers an
// "Enable sound" button; a kiosk can opt in with ?sound=1 when its browser allows autoplay.

let ctx = null;
let enabled = false;
let lastPlayed = 0;
const MIN_GAP_MS = 4000;

export function soundEnabled() {
  return enabled;
}

/** Call from a user gesture (click). Returns true when audio is running. */
export async function enableSound() {
  const AudioCtx = window.AudioContext || window.webkitAudioContext;
  if (!AudioCtx) return false;
  if (!ctx) ctx = new AudioCtx();
  if (ctx.state === "suspended") {
    try {
      await ctx.resume();
    } catch (e) {
      /* still suspended */
    }
  }
  enabled = true;
  return ctx.state === "running";
}

export function disableSound() {
  enabled = false;
}

/** Two soft sine notes with an envelope; rate-limited so a burst of alerts is one chime. */
export function playAlert() {
  if (!enabled || !ctx || ctx.state !== "running") return false;
  const now = Date.now();
  if (now - lastPlayed < MIN_GAP_MS) return false;
  lastPlayed = now;
  const t0 = ctx.currentTime + 0.02;
  [
    [880, 0],
    [660, 0.22],
  ].forEach(([freq, offset]) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t0 + offset);
    gain.gain.exponentialRampToValueAtTime(0.25, t0 + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + offset + 0.45);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + offset);
    osc.stop(t0 + offset + 0.5);
    osc.onended = () => {
      osc.disconnect();
      gain.disconnect();
    };
  });
  return true;
}
