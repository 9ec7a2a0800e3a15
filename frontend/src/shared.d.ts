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
