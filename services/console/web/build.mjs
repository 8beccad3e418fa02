// Builds the console into dist/: index.html naming content-hashed assets, nothing inline.
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, "dist");

await rm(out, { recursive: true, force: true });
const common = {
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  bundle: true,
  format: "esm",
  target: ["es2022", "chrome120", "firefox128", "safari17"],
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
};
// The upload worker first, as an asset of its own: the page names its hashed path (the only
// script URL the page's Trusted Types policy will create), so the page's hash follows it.
const worker = await build({
  ...common,
  entryPoints: { "identity-worker": join(root, "src/identity/worker.ts") },
});
const workerName = basename(
  Object.keys(worker.metafile.outputs).find((p) => p.endsWith(".js") && p.includes("identity-worker-")),
);
const result = await build({
  ...common,
  define: { __IDENTITY_WORKER__: JSON.stringify(`/assets/${workerName}`) },
  entryPoints: {
    app: join(root, "src/main.tsx"),
    style: join(root, "src/style.css"),
    docs: join(root, "src/docs.ts"),
    "docs-style": join(root, "src/docs.css"),
  },
  jsx: "automatic",
  jsxImportSource: "preact",
});

const built = [result, worker].flatMap((r) => Object.keys(r.metafile.outputs).map((p) => basename(p)));
const pick = (prefix, ext) => {
  const name = built.find((n) => n.startsWith(prefix) && n.endsWith(ext));
  if (!name) throw new Error(`no ${prefix}*${ext} in the build`);
  return name;
};
const pages = {
  "index.html": { "%APP_JS%": pick("app-", ".js"), "%APP_CSS%": pick("style-", ".css") },
  "docs.html": { "%DOCS_JS%": pick("docs-", ".js"), "%DOCS_CSS%": pick("docs-style-", ".css") },
};
await mkdir(out, { recursive: true });
for (const [name, names] of Object.entries(pages)) {
  let page = await readFile(join(root, name), "utf8");
  for (const [mark, file] of Object.entries(names)) page = page.replace(mark, file);
  await writeFile(join(out, name), page);
}
console.log(`console built: ${built.filter((n) => !n.endsWith(".map")).join(", ")}`);
