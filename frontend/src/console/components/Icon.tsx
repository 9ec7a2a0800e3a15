// The composer's icons, drawn here as SVG: an emoji glyph needs an emoji font, which many bank
// desktops (and this project's test browser) lack; a drawing needs nothing. Decorative: the
// buttons carry their names.
const PATHS = {
  attach: <path d="M16 7l-7.3 7.3a2.3 2.3 0 0 0 3.3 3.3L19 10.6a4.3 4.3 0 0 0-6.1-6.1L5.7 11.7a6.3 6.3 0 0 0 8.9 8.9L20 15.2" />,
  microphone: <><rect x="9" y="3" width="6" height="11" rx="3" /><path d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7" /></>,
  stop: <rect x="6.5" y="6.5" width="11" height="11" rx="2" fill="currentColor" />,
  place: <><path d="M12 21.5s6.5-6.8 6.5-11.3a6.5 6.5 0 0 0-13 0c0 4.5 6.5 11.3 6.5 11.3z" /><circle cx="12" cy="10.2" r="2.4" /></>,
  smile: <><circle cx="12" cy="12" r="8.5" /><path d="M8.5 14a4.3 4.3 0 0 0 7 0" /><path d="M9.3 9.6h.01M14.7 9.6h.01" stroke-width="2.6" /></>,
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" fill="none"
         stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">
      {PATHS[name]}
    </svg>
  );
}
