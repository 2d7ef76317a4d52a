// Decodes a config file the way Windows tools write it. PowerShell 5.1's `Set-Content -Encoding UTF8` and
// older Notepad put a UTF-8 byte order mark first; `Out-File` and "Unicode" in Notepad write UTF-16 LE with a
// BOM; a few tools write UTF-16 BE. JSON.parse refuses a BOM ("Unexpected token"), so it is taken off here.
export function decodeConfigText(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le', { fatal: true }).decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be', { fatal: true }).decode(bytes.subarray(2));
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}
