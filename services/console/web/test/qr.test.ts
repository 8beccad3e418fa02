// The enrolment link's QR code, as the console draws it, reads back as the link.
import assert from "node:assert/strict";
import { test } from "node:test";
import decodeQR from "@paulmillr/qr/decode.js";
import { QUIET, qrPath } from "../src/views/admin/qr.ts";

const LINK = `https://console.example/enrol#code=${"Ab9_-".repeat(8)}xyz`;
const MODULE = /M(\d+) (\d+)h1v1h-1z/g;

/** The drawn path as pixels (`scale` per module), black on white: what a camera sees. */
function pixels(size: number, d: string, scale: number) {
  const side = size * scale;
  const data = new Uint8Array(side * side * 4).fill(255);
  for (const [, x, y] of d.matchAll(MODULE)) {
    for (let dy = 0; dy < scale; dy++) {
      for (let dx = 0; dx < scale; dx++) {
        const at = ((Number(y) * scale + dy) * side + Number(x) * scale + dx) * 4;
        data.fill(0, at, at + 3);
      }
    }
  }
  return { width: side, height: side, data };
}

test("the drawn code decodes to the enrolment link", () => {
  const { size, d } = qrPath(LINK);
  assert.equal(decodeQR(pixels(size, d, 4)), LINK);
});

test("the path draws square modules inside a quiet zone, and nothing else", () => {
  const { size, d } = qrPath(LINK);
  assert.equal((size - 2 * QUIET - 17) % 4, 0); // a QR version's side is 17 + 4v
  const corners = [...d.matchAll(MODULE)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.ok(corners.length > 100);
  const inside = (v: number) => v >= QUIET && v < size - QUIET;
  assert.ok(corners.every(([x, y]) => inside(x) && inside(y)));
  assert.equal(d.replace(MODULE, ""), "");
});
