/** swagger-ui-dist ships no types for its bundle; this is the one call the docs page makes. */
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const SwaggerUIBundle: (options: Record<string, unknown>) => unknown;
  export default SwaggerUIBundle;
}
