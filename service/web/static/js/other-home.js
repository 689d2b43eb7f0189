import { api, done, fill } from "./app.js";

const me = await api("/v1/me");
fill("me-name", `${me.name} (${me.role})`);
done("home");
