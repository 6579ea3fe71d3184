import { ConnectorError } from '../domain/connectors/connector-error';

/**
 * Reads a response body up to `maxBytes`, failing (`response_too_large`, not retryable) as soon
 * as it would exceed it, without buffering the rest. A declared Content-Length over the cap fails
 * before reading.
 */
export async function readCappedBody(response: Response, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new ConnectorError(
      'response_too_large',
      `The response body exceeds the ${maxBytes}-byte cap.`,
      {
        retryable: false,
        details: { maxBytes },
      },
    );
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** True for `application/json` and `+json` media types. */
export function isJsonContentType(contentType: string | null): boolean {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return media === 'application/json' || media.endsWith('+json');
}
