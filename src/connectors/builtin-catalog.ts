import type { Connector } from '../domain/connectors/connector';
import {
  createConnectorCatalog,
  type ConnectorCatalog,
} from '../domain/connectors/connector-catalog';
import { pureBuiltinConnectors } from '../domain/connectors/builtins/pure-builtins';
import { createHttpRequestConnector, type HttpRequestOptions } from './http-request.connector';
import { createSlackSendMessageConnector } from './slack-send-message.connector';

export interface BuiltinCatalogOptions {
  /** THODARE_HTTP_ALLOW: hosts http_request may call even when they resolve to private addresses. */
  httpAllowHosts?: readonly string[];
  /** Cap on http_request response bodies, bytes. */
  httpMaxResponseBytes?: number;
  /** Resolver for the SSRF guard (tests). */
  httpResolve?: HttpRequestOptions['resolve'];
  /** Slack Web API base URL (default https://slack.com/api). */
  slackBaseUrl?: string;
}

/** Every builtin connector, in catalog order (triggers, actions, waits). */
export function builtinConnectors(options: BuiltinCatalogOptions = {}): Connector[] {
  const pure = pureBuiltinConnectors();
  const triggers = pure.filter((c) => c.kind === 'trigger');
  const rest = pure.filter((c) => c.kind !== 'trigger');
  const http = createHttpRequestConnector({
    ...(options.httpAllowHosts ? { allowHosts: options.httpAllowHosts } : {}),
    ...(options.httpMaxResponseBytes ? { maxResponseBytes: options.httpMaxResponseBytes } : {}),
    ...(options.httpResolve ? { resolve: options.httpResolve } : {}),
  });
  const slack = createSlackSendMessageConnector(
    options.slackBaseUrl ? { baseUrl: options.slackBaseUrl } : {},
  );
  return [...triggers, http, slack, ...rest] as Connector[];
}

/** The builtin catalog; add custom connectors with `createConnectorCatalog([...builtinConnectors(o), ...mine])`. */
export function buildBuiltinCatalog(options: BuiltinCatalogOptions = {}): ConnectorCatalog {
  return createConnectorCatalog(builtinConnectors(options));
}
