// Types of the plain-JS modules the console shares with the customer widget.
declare module "@widget/text.js" {
  export interface TextPart { text: string; href?: string }
  export function linkParts(text: string): TextPart[];
  export const LINK_ATTRIBUTES: { readonly rel: string; readonly target: string };
  export function messageLength(body: string): number;
  export const COUNTER_FROM: number;
  export function lengthStatus(body: string, max: number): { length: number; max: number; show: boolean; over: boolean };
}

declare module "@widget/connection.js" {
  export const HEARTBEAT_INTERVAL_MS: number;
  export const HEARTBEAT_TIMEOUT_MS: number;
  export interface ErrorWithCode extends Error { code: string }
  export class Connection<Frame extends { type: string }, Event extends { type: string }> {
    constructor(options: {
      hello: () => Frame;
      onEvent: (event: Event) => void;
      onStatus: (status: "online" | "offline") => void;
      onUnauthorized: () => void;
    });
    connect(): void;
    close(): void;
    send(frame: Frame): boolean;
    request(frame: Frame): Promise<Event>;
  }
}

declare module "@widget/files.js" {
  export interface Place { latitude: number; longitude: number }
  export function acceptFor(carries: readonly string[]): string;
  export function carriesFiles(carries: readonly string[]): boolean;
  export function canRecord(carries: readonly string[]): boolean;
  export function formatSize(bytes: number, locale?: string): string;
  export function mapLink(place: Place): string;
  export function coordinates(place: Place, locale?: string): string;
  export class VoiceRecorder {
    readonly recording: boolean;
    start(): Promise<void>;
    stop(): Promise<File>;
    cancel(): void;
  }
}

declare module "@widget/lines.js" {
  export function messageText(message: { text: string; system_code: string | null; params?: Record<string, string> | null }): string;
}

declare module "@widget/language.js" {
  export function languageChoices(): { code: string; name: string }[];
  export function currentLanguage(): string;
  export function chooseLanguage(code: string): void;
  export function languageMenu(select: HTMLSelectElement): void;
}
