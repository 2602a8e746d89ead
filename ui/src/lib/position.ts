// Where the phone is. Pure rules, so they can be tested without a device.
import type { Position, Settings } from './ipc';

/** The part of the Tauri geolocation plugin's JS API we use (`window.__TAURI__.geolocation`). */
export interface GeoApi {
  getCurrentPosition: (options?: {
    enableHighAccuracy?: boolean;
    timeout?: number;
    maximumAge?: number;
  }) => Promise<PluginPosition>;
  checkPermissions?: () => Promise<{ location?: string }>;
  requestPermissions?: (p: string[]) => Promise<{ location?: string }>;
}

/** What the plugin answers. */
export interface PluginPosition {
  coords?: { latitude?: number; longitude?: number; accuracy?: number } | null;
}

export type PositionSource = 'gps' | 'fixed' | 'none';

export interface Located {
  position: Position | null;
  source: PositionSource;
}

/**
 * A plugin answer as a position, or null when it is no fix: the desktop plugin answers
 * latitude 0, longitude 0, accuracy 0; a real fix never has accuracy 0 or a missing number.
 */
export function fixFromPlugin(p: PluginPosition | null | undefined): Position | null {
  const c = p?.coords;
  if (!c) return null;
  const { latitude: lat, longitude: lon, accuracy } = c;
  if (typeof lat !== 'number' || typeof lon !== 'number' || typeof accuracy !== 'number') return null;
  if (!isFinite(lat) || !isFinite(lon) || !isFinite(accuracy)) return null;
  if (lat === 0 && lon === 0) return null;
  if (accuracy <= 0) return null;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { lat, lon, accuracyM: accuracy };
}

/** A fixed position from settings if it is a real one. */
export function validFixed(p: Position | null | undefined): Position | null {
  if (!p) return null;
  if (!isFinite(p.lat) || !isFinite(p.lon) || !isFinite(p.accuracyM)) return null;
  if (Math.abs(p.lat) > 90 || Math.abs(p.lon) > 180) return null;
  return p;
}

const TIMEOUT_MS = 10000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

async function askPlugin(geo: GeoApi): Promise<Position | null> {
  const opts = { enableHighAccuracy: true, timeout: TIMEOUT_MS, maximumAge: 30000 };
  try {
    return fixFromPlugin(await withTimeout(geo.getCurrentPosition(opts), TIMEOUT_MS + 1000));
  } catch {
    // Maybe the permission was never asked: ask once, then try again.
    try {
      if (geo.checkPermissions && geo.requestPermissions) {
        const st = await geo.checkPermissions();
        if (st.location !== 'granted') {
          const asked = await geo.requestPermissions(['location']);
          if (asked.location !== 'granted') return null;
          return fixFromPlugin(await withTimeout(geo.getCurrentPosition(opts), TIMEOUT_MS + 1000));
        }
      }
    } catch {
      // no fix
    }
    return null;
  }
}

/**
 * The plugin when present (its 0/0/0 desktop answer is no fix); otherwise the fixed position
 * from settings (desktop demos, always labelled as such); otherwise none.
 */
export async function locate(geo: GeoApi | null | undefined, settings: Settings | null): Promise<Located> {
  if (geo && typeof geo.getCurrentPosition === 'function') {
    const position = await askPlugin(geo);
    return { position, source: position ? 'gps' : 'none' };
  }
  const fixed = validFixed(settings?.fixedPosition);
  return fixed ? { position: fixed, source: 'fixed' } : { position: null, source: 'none' };
}
