export default async function globalTeardown(): Promise<void> {
  const db = (globalThis as { __thodareEmbedded?: { stop(): Promise<void> } }).__thodareEmbedded;
  await db?.stop();
}
