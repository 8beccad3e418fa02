// The browser's canonicaliser and tokeniser, driven by test_identity_parity.py over stdin/stdout:
// one JSON line in (inputs), one out (keys); then evaluate requests out, answers in; tokens out.
import { createInterface } from "node:readline";
import { canonicalKeys } from "../../../services/console/web/src/identity/canonical.ts";
import { LETTER } from "../../../services/console/web/src/identity/names.ts";
import { IdentityInputError } from "../../../services/console/web/src/identity/rules.ts";
import {
  encodeToken,
  type Identity,
  tokeniseIdentities,
} from "../../../services/console/web/src/identity/tokens.ts";
import { toLatin } from "../../../services/console/web/src/identity/translit.ts";

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();
const receive = async () => JSON.parse((await lines.next()).value as string);
const send = (value: unknown) => process.stdout.write(JSON.stringify(value) + "\n");

const request = await receive();
const keys = (request.identities as Identity[]).map(([name, dob]) => {
  try {
    return { keys: canonicalKeys(name, dob).map((key) => [key.kind, key.text]) };
  } catch (error) {
    if (!(error instanceof IdentityInputError)) throw error;
    return { error: error.code, field: error.field, message: error.message };
  }
});
const chars = (request.codepoints as number[]).map((c) => String.fromCodePoint(c));
send({ keys, latin: chars.map(toLatin), letter: chars.map((c) => LETTER.test(c)) });

const call = async (path: string, opts?: { method?: string; body?: unknown }) => {
  if (path === "/v1/identity/prf") {
    return { current_version: request.version, canonical_version: request.canonical };
  }
  send({ path, method: opts?.method, body: opts?.body });
  return receive();
};
const started = performance.now();
const tokens = await tokeniseIdentities(call, request.tokens as Identity[]);
send({ tokens: tokens.map((list) => list.map(encodeToken)), ms: performance.now() - started });
process.stdin.destroy();
