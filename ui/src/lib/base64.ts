// Camera bytes → standard base64 for the photo commands.

/** Standard base64 (with padding) of the bytes; chunked so big photos do not overflow the stack. */
export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk) as unknown as number[]);
  }
  return btoa(s);
}

/** A picked file's bytes as base64. */
export async function fileToBase64(file: Blob): Promise<string> {
  const buf = await readBytes(file);
  return bytesToBase64(new Uint8Array(buf));
}

function readBytes(file: Blob): Promise<ArrayBuffer> {
  if (typeof file.arrayBuffer === 'function') return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result as ArrayBuffer);
    r.onerror = () => reject(r.error);
    r.readAsArrayBuffer(file);
  });
}
