/// <reference types="vitest/config" />
// Build straight into the Python package's static folder: FastAPI serves it at `/` (api/static.py).
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "../src/fluxops/web",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
    rollupOptions: {
      output: {
        // Vendor chunks change rarely: split them so the app chunk stays small and cacheable.
        manualChunks: (id: string) => {
          if (id.includes("node_modules/maplibre-gl")) return "maplibre";
          if (id.includes("node_modules/@deck.gl") || id.includes("node_modules/@luma.gl")) return "deckgl";
          if (id.includes("node_modules/apache-arrow")) return "arrow";
          if (id.includes("node_modules/react")) return "react";
          return undefined;
        },
      },
    },
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8000", "/health": "http://127.0.0.1:8000" },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
