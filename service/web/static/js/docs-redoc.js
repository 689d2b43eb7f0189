// Starts the vendored ReDoc on this service's OpenAPI document.
const root = document.getElementById("redoc");
Redoc.init(root.dataset.specUrl, {}, root);
