/** The API documents of the services (Swagger UI, served by the console itself, no CDN). */

// The UMD bundle, taken as the CommonJS module it also is.
import SwaggerUIBundle from "swagger-ui-dist/swagger-ui-bundle.js";

const SERVICES = ["sharing", "alerts", "intake"] as const;

const service = location.pathname.split("/")[2] ?? "";
const root = document.getElementById("docs");
if (root && (SERVICES as readonly string[]).includes(service)) {
  SwaggerUIBundle({
    url: `/api/${service}/openapi.json`,
    dom_id: "#docs",
    deepLinking: false,
    // "Try it out" calls go through the console's proxy: the same origin, the user's token.
    tryItOutEnabled: false,
    validatorUrl: "none",
  });
} else if (root) {
  const list = document.createElement("ul");
  for (const name of SERVICES) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/docs/${name}`;
    link.textContent = `Lifeline ${name} API`;
    item.append(link);
    list.append(item);
  }
  root.append(list);
}
