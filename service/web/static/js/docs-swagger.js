// Starts the vendored Swagger UI on this service's OpenAPI document.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({ url: root.dataset.specUrl, dom_id: "#swagger-ui", deepLinking: true });
