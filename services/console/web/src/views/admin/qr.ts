/** An enrolment link as a QR code for a phone's camera: the modules as one SVG path, drawn by
Preact as an element attribute (no markup string, nothing for Trusted Types to refuse). */

import encodeQR from "@paulmillr/qr";

/** The quiet zone around the code, in modules (ISO/IEC 18004 asks for four). */
export const QUIET = 4;

/** The code's side in modules (quiet zone included) and an SVG path of its dark modules. */
export function qrPath(text: string): { size: number; d: string } {
  // Medium error correction, as `lifeline admin enrol` draws it: still readable from a photo
  // of a screen at an angle.
  const rows = encodeQR(text, "raw", { ecc: "medium", border: 0 });
  const parts: string[] = [];
  rows.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) parts.push(`M${x + QUIET} ${y + QUIET}h1v1h-1z`);
    });
  });
  return { size: rows.length + 2 * QUIET, d: parts.join("") };
}
