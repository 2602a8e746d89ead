// A few drawn icons (no icon font, no emoji: cheap phones may lack the glyphs).
const PATHS = {
  camera:
    'M9 3 7.2 5H4a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.2L15 3H9zm3 5a5 5 0 1 1 0 10 5 5 0 0 1 0-10zm0 2a3 3 0 1 0 0 6 3 3 0 0 0 0-6z',
  home: 'M3 11 12 3l9 8v10h-6v-6H9v6H3z',
  flag: 'M5 2h2v20H5zM8 3h12l-3 4.5 3 4.5H8z',
  list: 'M3 5h18v2.5H3zm0 5.75h18v2.5H3zm0 5.75h18V19H3z',
  sliders: 'M3 5h11v2.5H3zm15 0h3v2.5h-3zM14 3h2.5v6.5H14zM3 16.5h4V19H3zm7.5 0H21V19H10.5zM7 14.5h2.5V21H7z',
};

export type IconName = keyof typeof PATHS;

export function Icon({ name, size = 22 }: { name: IconName; size?: number }) {
  return (
    <svg class="ico" viewBox="0 0 24 24" width={size} height={size} aria-hidden="true">
      <path fill="currentColor" d={PATHS[name]} />
    </svg>
  );
}
