import assert from "node:assert/strict";
import { test } from "node:test";
import { nextPath } from "../src/paging.ts";

test("the next page keeps the path asked and takes the Link's query", () => {
  const link = '<?status=open&limit=2&cursor=WzEsImEiLFsxXV0>; rel="next"';
  assert.equal(
    nextPath(link, "/v1/alerts?status=open&limit=2"),
    "/v1/alerts?status=open&limit=2&cursor=WzEsImEiLFsxXV0",
  );
});

test("no Link, or none with rel=next, is the last page", () => {
  assert.equal(nextPath(null, "/v1/alerts"), null);
  assert.equal(nextPath("", "/v1/alerts"), null);
  assert.equal(nextPath('<?cursor=a>; rel="prev"', "/v1/alerts"), null);
});

test("rel may be a token or one of several, and a path target is taken as it is", () => {
  assert.equal(nextPath("<?cursor=a>; rel=next", "/v1/x?limit=1"), "/v1/x?cursor=a");
  assert.equal(
    nextPath('<?cursor=b>; rel="prev"; title="x", </v1/y?cursor=c>; rel="first next"', "/v1/x"),
    "/v1/y?cursor=c",
  );
});
