// Enrollment input: the QR text and the one-time code.

/** Crockford base32 without I, L, O, U, as the server makes codes. */
const ALPHABET = /^[0-9ABCDEFGHJKMNPQRSTVWXYZ]*$/;
export const CODE_LENGTH = 10;

/** As the server reads a typed code: upper case, separators dropped, I/L → 1, O → 0. */
export function normalizeCode(input: string): string {
  let out = '';
  for (const ch of input.toUpperCase()) {
    if (!/[0-9A-Z]/.test(ch)) continue;
    out += ch === 'I' || ch === 'L' ? '1' : ch === 'O' ? '0' : ch;
  }
  return out;
}

/** The code in groups of five for reading: "ABCDE-FGHJK". */
export function formatCode(input: string): string {
  const c = normalizeCode(input);
  const groups: string[] = [];
  for (let i = 0; i < c.length; i += 5) groups.push(c.slice(i, i + 5));
  return groups.join('-');
}

/** Ten characters of the code alphabet. */
export function isCompleteCode(input: string): boolean {
  const c = normalizeCode(input);
  return c.length === CODE_LENGTH && ALPHABET.test(c);
}

/** A server address as typed: trimmed, http:// added when no scheme, no trailing slash. */
export function normalizeServer(input: string): string {
  let s = input.trim();
  if (!s) return '';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = 'http://' + s;
  return s.replace(/\/+$/, '');
}

function isHttpUrl(s: string): boolean {
  return /^https?:\/\/[^\s/?#]+/i.test(s);
}

export type EnrollText =
  | { ok: true; server: string | null; code: string }
  | { ok: false; reason: 'not_enroll' | 'missing_code' | 'bad_server' };

/**
 * Reads a scanned or pasted enrollment text: `cunjie://enroll?server=…&code=…` gives both, a
 * bare code (what `cunjie-server enroll` prints as a QR) gives the code only.
 */
export function parseEnrollText(text: string): EnrollText {
  const s = text.trim();
  const m = /^cunjie:\/\/enroll\/?\?(.*)$/i.exec(s);
  if (m) {
    const params = new URLSearchParams(m[1]);
    const code = normalizeCode(params.get('code') ?? '');
    if (!code) return { ok: false, reason: 'missing_code' };
    const rawServer = (params.get('server') ?? '').trim();
    if (rawServer && !isHttpUrl(rawServer)) return { ok: false, reason: 'bad_server' };
    return { ok: true, server: rawServer ? normalizeServer(rawServer) : null, code };
  }
  if (/^[0-9a-z]{5}[-\s]?[0-9a-z]{5}$/i.test(s) && isCompleteCode(s)) {
    return { ok: true, server: null, code: normalizeCode(s) };
  }
  return { ok: false, reason: 'not_enroll' };
}
