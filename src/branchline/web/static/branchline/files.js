// Files, voice messages and places in the composer, shared by the customer widget and the
// staff console (docs/protocol.md §16). The server decides what a file is from its bytes; the
// `accept` lists here only spare people picking a file the channel would refuse anyway.

const ACCEPT = {
  document: ".pdf,.doc,.docx,application/pdf,application/msword,"
    + "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  image: ".jpg,.jpeg,.png,image/jpeg,image/png",
  audio: ".mp3,.webm,.ogg,audio/mpeg,audio/webm,audio/ogg",
  video: ".mp4,video/mp4",
};
const FILE_KINDS = Object.keys(ACCEPT);

// What a channel that carries `carries` (["document", "image", ...]) takes as files.
export function acceptFor(carries) {
  return FILE_KINDS.filter((kind) => carries.includes(kind)).map((kind) => ACCEPT[kind]).join(",");
}

export function carriesFiles(carries) {
  return FILE_KINDS.some((kind) => carries.includes(kind));
}

export function canRecord(carries) {
  return carries.includes("audio") && typeof MediaRecorder !== "undefined" && Boolean(navigator.mediaDevices);
}

// "840 KB", "2.4 MB": in the reader's own number format.
export function formatSize(bytes, locale = undefined) {
  const units = [["MB", 1024 * 1024], ["KB", 1024]];
  for (const [unit, size] of units) {
    if (bytes >= size) return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(bytes / size)} ${unit}`;
  }
  return `${bytes} B`;
}

// A place on OpenStreetMap: a link the reader chooses to follow (nothing is fetched here).
export function mapLink({ latitude, longitude }) {
  return `https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=17/${latitude}/${longitude}`;
}

export function coordinates({ latitude, longitude }, locale = undefined) {
  const format = new Intl.NumberFormat(locale, { minimumFractionDigits: 5, maximumFractionDigits: 5 });
  return `${format.format(latitude)}, ${format.format(longitude)}`;
}

// A voice message: the microphone recorded in the browser's own format (WebM/Opus in
// Chromium, Ogg/Opus in Firefox), handed over as a File to upload like any other.
export class VoiceRecorder {
  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm"].find((t) => MediaRecorder.isTypeSupported(t));
    this.recorder = new MediaRecorder(this.stream, type ? { mimeType: type } : {});
    this.chunks = [];
    this.recorder.addEventListener("dataavailable", (event) => { if (event.data.size) this.chunks.push(event.data); });
    this.startedAt = Date.now();
    this.recorder.start();
  }

  get recording() { return Boolean(this.recorder && this.recorder.state === "recording"); }

  // The recording as a file named after the moment it was made.
  stop() {
    return new Promise((resolve) => {
      this.recorder.addEventListener("stop", () => {
        for (const track of this.stream.getTracks()) track.stop();
        const type = (this.recorder.mimeType || "audio/webm").split(";")[0];
        const extension = type.includes("ogg") ? "ogg" : "webm";
        const stamp = new Date(this.startedAt).toISOString().slice(0, 19).replace(/[T:]/g, "-");
        resolve(new File(this.chunks, `voice-message-${stamp}.${extension}`, { type }));
      }, { once: true });
      this.recorder.stop();
    });
  }

  cancel() {
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
  }
}
