// Getting the agent's attention (issue 8): a sound and a desktop notification for a new
// conversation in their queues and for a customer's message in one they handle, when they
// are not looking at it. The agent switches them off (kept in this browser).
import { signal } from "@preact/signals";
import { _, format } from "./i18n";
import * as store from "./store";
import type { Conversation } from "./store";

const KEY = "branchline.alerts";
export const alerts = signal(localStorage.getItem(KEY) !== "off");

export function setAlerts(on: boolean): void {
  alerts.value = on;
  localStorage.setItem(KEY, on ? "on" : "off");
  if (on && "Notification" in window && Notification.permission === "default") void Notification.requestPermission();
}

let audio: AudioContext | null = null;

// Two short soft tones, made here: no sound file to fetch (banks run air-gapped anyway).
function chime(): void {
  try {
    audio ??= new AudioContext();
    const now = audio.currentTime;
    for (const [i, pitch] of [660, 880].entries()) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = pitch;
      gain.gain.setValueAtTime(0.0001, now + i * 0.15);
      gain.gain.exponentialRampToValueAtTime(0.15, now + i * 0.15 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.15 + 0.14);
      tone.connect(gain).connect(audio.destination);
      tone.start(now + i * 0.15);
      tone.stop(now + i * 0.15 + 0.15);
    }
  } catch {
    // no audio device, or the browser has not allowed sound on this page yet
  }
}

function desktop(title: string, body: string, conversationId: number, onOpen: (id: number) => void): void {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const note = new Notification(title, { body, tag: `branchline-${conversationId}` });
  note.onclick = () => { window.focus(); onOpen(conversationId); note.close(); };
}

const looking = (id: number) => document.visibilityState === "visible" && store.selectedId.value === id;

export function newConversation(c: Conversation, onOpen: (id: number) => void): void {
  if (!alerts.value || looking(c.id)) return;
  chime();
  desktop(_("New conversation waiting"), `${c.customer.name} · ${c.topic.name}`, c.id, onOpen);
}

export function customerWrote(c: Conversation, text: string, onOpen: (id: number) => void): void {
  if (!alerts.value || looking(c.id)) return;
  chime();
  desktop(format("%s wrote", c.customer.name), text.slice(0, 120), c.id, onOpen);
}
