// How a function's code is bundled (esbuild), the same for Lambda (infra/cdk/functions.ts) and for the local
// cloud's function instances (infra/local/function-bundles.ts): what runs locally is what is deployed.
export const FUNCTION_BUNDLE = {
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  /** Gives ESM bundles a `require` for the CommonJS dependencies that call it. */
  banner: "import { createRequire as __fwCreateRequire } from 'node:module'; const require = __fwCreateRequire(import.meta.url);",
  // The AWS SDK v3 is bundled (pinned by package-lock) rather than taken from the runtime. Listed here are
  // only optional native/peer modules of pg and mongodb that the functions never load.
  external: ['pg-native', 'kerberos', '@mongodb-js/zstd', 'snappy', 'mongodb-client-encryption', 'gcp-metadata', 'socks', '@aws-sdk/credential-providers'],
} as const;
