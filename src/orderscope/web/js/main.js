// Entry point: start the dashboard; `window.orderscope` exposes it for the browser tests and
// for a curious user's console (`orderscope.snapshot()`).
import { App } from "./app.js";

const app = new App(document);
window.orderscope = { app, snapshot: () => app.snapshot() };
app.start();
