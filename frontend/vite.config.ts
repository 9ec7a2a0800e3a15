// The staff console's bundles: src/console/main.tsx -> dist/console/console.js and the audit
// page's src/audit/main.tsx -> dist/console/audit.js, fixed names that Django serves as static
// files (STATICFILES_DIRS) and the pages load with the CSP nonce. No CSS in the bundle (app.css stays the one stylesheet), no inline
// scripts or styles, no eval: the page's CSP is script-src 'self' 'nonce-…', style-src 'self'.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: "src",
  base: "/static/",
  publicDir: false,
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: {
    alias: {
      // Plain-JS modules shared with the customer widget (src/branchline/web/static/branchline/).
      "@widget": fileURLToPath(new URL("../src/branchline/web/static/branchline", import.meta.url)),
      // React libraries (drag and drop, tables) run on Preact through preact/compat.
      react: "preact/compat",
      "react-dom": "preact/compat",
    },
  },
  build: {
    outDir: "../dist",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    rollupOptions: {
      // The console, and the auditors' page (console/audit.js), which shares its client code.
      input: { console: "src/console/main.tsx", audit: "src/audit/main.tsx" },
      output: {
        entryFileNames: "console/[name].js",
        chunkFileNames: "console/chunks/[name]-[hash].js",
        assetFileNames: "console/assets/[name]-[hash][extname]",
      },
    },
  },
});
