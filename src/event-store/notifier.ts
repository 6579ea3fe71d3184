import createSubscriber, { Subscriber } from 'pg-listen';

export interface NotifierOptions {
  url: string;
  /** Shown in pg_stat_activity, so operators (and tests) can find the listening backend. */
  applicationName?: string;
  log?: (message: string, error?: unknown) => void;
}

const backoff = (attempt: number) => Math.min(5000, 100 * 2 ** attempt);

/**
 * LISTEN on one dedicated connection (LISTEN does not survive transaction-mode poolers).
 * It reconnects forever, and after every (re)connect calls the `onConnect` handlers so
 * consumers run a catch-up pass: notifications sent while disconnected are lost, and NOTIFY is
 * only ever a hint — the data is in the tables.
 */
export class Notifier {
  private subscriber: Subscriber | undefined;
  private readonly channels = new Map<string, Array<(payload: unknown) => void>>();
  private readonly connectHandlers: Array<() => void> = [];
  private closed = false;
  private starting: Promise<void> | undefined;

  constructor(private readonly options: NotifierOptions) {}

  /** Connects, retrying until it succeeds or `stop()` is called. Every caller shares one connect. */
  start(): Promise<void> {
    this.starting ??= this.connect();
    return this.starting;
  }

  private async connect(): Promise<void> {
    for (let attempt = 0; !this.closed && !this.subscriber; attempt++) {
      const subscriber = this.create();
      try {
        await subscriber.connect();
        for (const channel of this.channels.keys()) await subscriber.listenTo(channel);
        this.subscriber = subscriber;
      } catch (error) {
        // A pg client cannot connect twice: drop this one and build a fresh one.
        await subscriber.close().catch(() => undefined);
        this.options.log?.('notification listener cannot connect yet', error);
        await new Promise((r) => setTimeout(r, backoff(attempt)));
      }
    }
    this.connectHandlers.forEach((handler) => handler());
  }

  async listen(channel: string, handler: (payload: unknown) => void): Promise<void> {
    const handlers = this.channels.get(channel) ?? [];
    handlers.push(handler);
    this.channels.set(channel, handlers);
    if (this.subscriber && handlers.length === 1) await this.subscriber.listenTo(channel);
  }

  /**
   * Sends `payload` on `channel` over the listening connection itself, so that a listener of its
   * own channel hears it after every notification committed before it (Postgres delivers them in
   * commit order). Nothing is sent while not connected, and a failed send is dropped: a listener
   * that relies on hearing it sees it missing.
   */
  async notify(channel: string, payload: unknown): Promise<void> {
    await this.subscriber?.notify(channel, payload).catch(() => undefined);
  }

  /** Called after the first connect and after every reconnect. */
  onConnect(handler: () => void): void {
    this.connectHandlers.push(handler);
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.subscriber?.close().catch(() => undefined);
    this.subscriber = undefined;
  }

  private create(): Subscriber {
    const subscriber = createSubscriber(
      { connectionString: this.options.url, application_name: this.options.applicationName ?? 'thodare-listener' },
      // pg-listen gives up after 3 s by default; a listener must outlive any database restart.
      { retryTimeout: Infinity, retryInterval: backoff, paranoidChecking: 10_000 },
    );
    subscriber.events.on('notification', ({ channel, payload }) => {
      for (const handler of this.channels.get(channel) ?? []) handler(payload);
    });
    subscriber.events.on('connected', () => {
      // pg-listen's reconnect loop does not see a close() made while it waits: a listener that
      // comes back after stop() would hold a connection (and a timer) for ever, so close it again.
      if (this.closed) return void subscriber.close().catch(() => undefined);
      // The first 'connected' is handled by start(); later ones are reconnects.
      if (this.subscriber === subscriber) this.connectHandlers.forEach((handler) => handler());
    });
    subscriber.events.on('error', (error) => this.options.log?.('notification listener error', error));
    return subscriber;
  }
}
