import { str } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { announce, copy, customerLabel, state, ui } from './state.js';

// ---- alerts: sound, title, notification --------------------------------------------------------
export let audioContext = null;

export function unlockAudio() {
  const AudioCtx = window.AudioContext || window.webkitAudioContext;
  if (!AudioCtx) return;
  try {
    if (!audioContext) audioContext = new AudioCtx();
    if (audioContext.state === 'suspended') audioContext.resume();
  } catch (err) {
    audioContext = null;
  }
}
// Browsers start audio only after a user gesture: the first click or key press unlocks it.
document.addEventListener('pointerdown', unlockAudio, { passive: true });
document.addEventListener('keydown', unlockAudio);

export function beep() {
  if (!ui.sound.checked || !audioContext || audioContext.state !== 'running') return;
  const t = audioContext.currentTime;
  const oscillator = audioContext.createOscillator();
  const gain = audioContext.createGain();
  oscillator.type = 'sine';
  oscillator.frequency.setValueAtTime(880, t);
  oscillator.frequency.setValueAtTime(1175, t + 0.15);
  gain.gain.setValueAtTime(0.0001, t);
  gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
  gain.gain.setValueAtTime(0.25, t + 0.28);
  gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.35);
  oscillator.connect(gain);
  gain.connect(audioContext.destination);
  oscillator.start(t);
  oscillator.stop(t + 0.36);
}

export function notificationsSupported() {
  return 'Notification' in window;
}

export function updateNotifyUi() {
  if (!notificationsSupported()) {
    ui.notifyButton.hidden = true;
    ui.notifyState.textContent = copy.notifyUnsupported;
    return;
  }
  const permission = window.Notification.permission;
  ui.notifyButton.hidden = permission !== 'default';
  ui.notifyState.textContent =
    permission === 'granted' ? copy.notifyGranted : permission === 'denied' ? copy.notifyDenied : '';
}

ui.notifyButton.addEventListener('click', async () => {
  if (!notificationsSupported()) return;
  try {
    await window.Notification.requestPermission();
  } catch (err) {
    /* old callback-style API: the state is read below */
  }
  updateNotifyUi();
  ui.sound.focus();
});

export function notify(title, body) {
  if (!notificationsSupported() || window.Notification.permission !== 'granted') return;
  try {
    const notification = new window.Notification(title, { body, tag: 'lumo-queue', lang: 'fi' });
    notification.addEventListener('click', () => {
      window.focus();
      notification.close();
    });
  } catch (err) {
    /* some browsers allow notifications only from a service worker */
  }
}

export function alertNewWaiting(fresh) {
  beep();
  const first = fresh[0];
  let text;
  if (fresh.length > 1) text = format(copy.newWaitingMany, { n: fresh.length });
  else if (!first.reason_text) text = format(copy.newWaitingOne, { customer: customerLabel(first) });
  else text = format(copy.newWaitingOneReason, { customer: customerLabel(first), reason: str(first.reason_text) });
  announce(format(copy.newWaitingTotal, { alert: text, total: state.queue.length }));
  notify(copy.newWaitingTitle, text);
}
