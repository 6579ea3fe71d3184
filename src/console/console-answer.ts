import { lookUpConsolePath, type ConsoleAsset } from './console-assets';

/** A response to one console request, before it meets Fastify. */
export interface ConsoleAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/**
 * Sent with every console answer. The approval page carries its token in the URL: no Referer
 * may leak it, and no other site may frame the page and trick a click on "Approve". The app is
 * one script and one stylesheet of this origin, and talks to this origin only.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export const NOT_BUILT_MESSAGE =
  'The web console is not built: run `npm run build` (it runs `vite build --config console/vite.config.ts` into dist/console), then restart Thodare.';

/** The answer for `/console/<path>` given the built files (`undefined`: the console was not built). */
export function answerConsole(files: ReadonlyMap<string, ConsoleAsset> | undefined, path: string): ConsoleAnswer {
  if (!files) return { status: 404, headers: { ...CONSOLE_SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: NOT_BUILT_MESSAGE };
  const found = lookUpConsolePath(files, path);
  if (found.kind === 'not_found') {
    const body = JSON.stringify({ error: 'not_found', message: 'no such file in the web console' });
    return { status: 404, headers: { ...CONSOLE_SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body };
  }
  const { asset } = found;
  return { status: 200, headers: { ...CONSOLE_SECURITY_HEADERS, 'content-type': asset.contentType, 'cache-control': asset.cacheControl }, body: asset.body };
}
