/**
 * The text of an uploaded CSV. Municipalities' 5374 files come in UTF-8 (with or without a BOM) and
 * often in Shift_JIS, the encoding Excel in Japan saves CSV in. Both are read; anything else is
 * refused, naming the line and the byte where the text stops being either.
 */
import { ValidationFailed } from '../../platform/index.ts';

export type CsvEncoding = 'utf-8' | 'shift_jis';

/** The line (1-based) of a byte offset. */
function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/** Where strict UTF-8 decoding first fails (the offset of the first byte it cannot take). */
function firstBadUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    const size =
      b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (size === 0) return i;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(i, i + size));
    } catch {
      return i;
    }
    i += size;
  }
  return bytes.length;
}

/**
 * Decodes a CSV file's bytes as UTF-8 or, failing that, Shift_JIS (Windows-31J).
 * @throws ValidationFailed saying where the file is neither
 */
export function decodeCsv(bytes: Uint8Array, file: string): { text: string; encoding: CsvEncoding } {
  try {
    return {
      text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes),
      encoding: 'utf-8',
    };
  } catch {
    // not UTF-8: try Shift_JIS
  }
  try {
    return { text: new TextDecoder('shift_jis', { fatal: true }).decode(bytes), encoding: 'shift_jis' };
  } catch {
    const offset = firstBadUtf8(bytes);
    const line = lineAt(bytes, offset);
    const byte = (bytes[offset] ?? 0).toString(16).padStart(2, '0');
    throw new ValidationFailed(
      `${file} is neither UTF-8 nor Shift_JIS text: save it as CSV UTF-8 (or CSV Shift_JIS) and upload it again`,
      [
        {
          name: `${file}, line ${line}`,
          reason: `byte 0x${byte} at offset ${offset} is not UTF-8, and the file is not Shift_JIS either`,
        },
      ],
    );
  }
}
