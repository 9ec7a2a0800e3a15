// Types of the plain-JS modules the console shares with the customer widget.
declare module "@widget/text.js" {
  export interface TextPart { text: string; href?: string }
  export function linkParts(text: string): TextPart[];
  export const LINK_ATTRIBUTES: { readonly rel: string; readonly target: string };
  export function messageLength(body: string): number;
  export const COUNTER_FROM: number;
  export function lengthStatus(body: string, max: number): { length: number; max: number; show: boolean; over: boolean };
}
